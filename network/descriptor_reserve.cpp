#include "network/descriptor_reserve.hpp"

#include <boost/asio/ip/udp.hpp>

#include <vector>

namespace fedgate::network {

std::size_t reserve_descriptor_records(boost::asio::any_io_executor const& executor, std::size_t count)
{
    // A UDP socket is the cheapest descriptor the reactor registers on open.
    std::vector<boost::asio::ip::udp::socket> sockets;
    sockets.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        boost::asio::ip::udp::socket s{executor};
        boost::system::error_code ec;
        if (s.open(boost::asio::ip::udp::v4(), ec); ec)
            break;  // out of descriptors: what was made still helps
        sockets.push_back(std::move(s));
    }
    return sockets.size();  // all closed here, their records back in the pool
}

}  // namespace fedgate::network
