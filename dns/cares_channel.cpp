// The only file that touches c-ares: a channel whose sockets and timeouts are
// watched by Asio, and whose answers come back as completions posted to the
// waiting coroutine. No exception crosses a c-ares callback.
#include "dns/cares_channel.hpp"

#include <boost/asio/post.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <string_view>
#include <mutex>
#include <stdexcept>

namespace fedgate::dns {

namespace asio = boost::asio;

namespace {

void library_init_once()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
            throw std::runtime_error{"c-ares library initialisation failed"};
    });
}

/// A host name as DNS may carry it to us (letters, digits, '-' and '_' in
/// labels of 1 to 63 characters, 253 in all; IDNs come as xn-- labels). c-ares
/// hands a label with a dot or a byte outside these escaped ("a\\.b", "\\003"):
/// no server is reached by such a name, so the record is no target.
bool is_host_name(std::string_view name)
{
    if (name.empty() || name.size() > 253)
        return false;
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        bool const ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63)
            return false;
    }
    return label > 0;
}
}  // namespace

cares_channel::cares_channel(asio::any_io_executor executor, settings const& config)
    : executor_{executor}, timer_{executor}
{
    library_init_once();
    ares_options options{};
    options.sock_state_cb = &cares_channel::on_socket_state;
    options.sock_state_cb_data = this;
    options.timeout = static_cast<int>(config.timeout.count());
    options.tries = static_cast<int>(config.attempts);
    // COMPAT: c-ares 1.18 (Debian 12) turns a SERVFAIL or REFUSED from the last
    // server into "could not contact DNS servers"; without the check the reply
    // reaches ares_query, which reports each rcode as itself. The cost: such a
    // reply from one server is final, not retried on the next.
    options.flags = ARES_FLAG_NOCHECKRESP;
    int const mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    if (ares_init_options(&channel_, &options, mask) != ARES_SUCCESS)
        throw std::runtime_error{"c-ares channel initialisation failed"};
    if (!config.servers.empty()) {
        std::string csv;
        for (auto const& [ip, port] : config.servers) {
            if (!csv.empty())
                csv += ',';
            bool const v6 = ip.find(':') != std::string::npos;
            csv += (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
        }
        if (ares_set_servers_ports_csv(channel_, csv.c_str()) != ARES_SUCCESS) {
            ares_destroy(channel_);
            throw std::runtime_error{"invalid DNS server list: " + csv};
        }
    }
}

cares_channel::~cares_channel()
{
    *alive_ = false;
    timer_.cancel();
    // ares_destroy completes every pending query with ARES_EDESTRUCTION.
    ares_destroy(channel_);
    for (auto& [fd, w] : watches_)
        w->descriptor.release();  // c-ares owns and has closed the socket
}

void cares_channel::start(std::string const& name, std::uint16_t type, std::unique_ptr<completion> done)
{
    ares_query(channel_, name.c_str(), 1 /* C_IN */, type, &cares_channel::on_reply, done.release());
    reschedule_timer();
}

void cares_channel::on_reply(void* arg, int status, int, unsigned char* reply, int length) noexcept
{
    std::unique_ptr<completion> done{static_cast<completion*>(arg)};
    try {
        std::vector<unsigned char> bytes;
        if (reply && length > 0)
            bytes.assign(reply, reply + length);
        done->complete(status, std::move(bytes));
    } catch (...) {
        // Nothing may unwind through c-ares; an allocation failure here loses the
        // answer, and the waiting coroutine is destroyed with its io_context.
    }
}

void cares_channel::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) noexcept
{
    auto& self = *static_cast<cares_channel*>(data);
    try {
        if (!readable && !writable) {
            if (auto it = self.watches_.find(fd); it != self.watches_.end()) {
                it->second->descriptor.release();  // c-ares closes it
                self.watches_.erase(it);
            }
            return;
        }
        auto& w = self.watches_[fd];
        if (!w)
            w = std::make_unique<watch>(watch{asio::posix::stream_descriptor{self.executor_, fd}, ++self.generation_});
        w->want_read = readable != 0;
        w->want_write = writable != 0;
        self.arm(fd);
    } catch (...) {
        // Without a watch the query times out through the timer; never unwind.
    }
}

void cares_channel::arm(ares_socket_t fd)
{
    auto it = watches_.find(fd);
    if (it == watches_.end())
        return;
    auto& w = *it->second;
    auto wait = [this, fd, generation = w.generation, alive = alive_](bool read) {
        return [this, fd, generation, alive, read](boost::system::error_code ec) {
            if (!*alive)
                return;
            auto found = watches_.find(fd);
            if (found == watches_.end() || found->second->generation != generation)
                return;  // that socket is gone; a new one may have its number
            (read ? found->second->reading : found->second->writing) = false;
            if (ec)
                return;
            ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
            arm(fd);
            reschedule_timer();
        };
    };
    if (w.want_read && !w.reading) {
        w.reading = true;
        w.descriptor.async_wait(asio::posix::descriptor_base::wait_read, wait(true));
    }
    if (w.want_write && !w.writing) {
        w.writing = true;
        w.descriptor.async_wait(asio::posix::descriptor_base::wait_write, wait(false));
    }
}

void cares_channel::reschedule_timer()
{
    timeval tv{};
    timeval* next = ares_timeout(channel_, nullptr, &tv);
    if (!next) {
        timer_.cancel();
        return;
    }
    timer_.expires_after(std::chrono::seconds{next->tv_sec} + std::chrono::microseconds{next->tv_usec});
    timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (!*alive || ec)
            return;
        ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // expire what timed out
        reschedule_timer();
    });
}

std::error_code to_error(int status) noexcept
{
    switch (status) {
    case ARES_SUCCESS:
        return {};
    case ARES_ENOTFOUND:
        return make_error_code(error::nxdomain);
    case ARES_ENODATA:
        return make_error_code(error::no_data);
    case ARES_ETIMEOUT:
        return make_error_code(error::timeout);
    case ARES_ESERVFAIL:
        return make_error_code(error::server_failure);
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED:
        return make_error_code(error::refused);
    case ARES_EFORMERR:
    case ARES_EBADRESP:
        return make_error_code(error::bad_reply);
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
        return make_error_code(error::cancelled);
    default:
        return make_error_code(error::failed);
    }
}

std::vector<srv_record> parse_srv(std::vector<unsigned char> const& reply, std::error_code& ec)
{
    ares_srv_reply* head = nullptr;
    int status = ares_parse_srv_reply(reply.data(), static_cast<int>(reply.size()), &head);
    std::vector<srv_record> out;
    if (status != ARES_SUCCESS) {
        ec = status == ARES_ENODATA ? make_error_code(error::no_data) : make_error_code(error::bad_reply);
        return out;
    }
    bool unusable = false;
    for (auto* r = head; r; r = r->next) {
        std::string target = r->host ? r->host : "";
        std::transform(target.begin(), target.end(), target.begin(),
                       [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
        if (!target.empty() && target.back() == '.')
            target.pop_back();
        if (!target.empty() && !is_host_name(target)) {
            unusable = true;
            continue;
        }
        out.push_back({target.empty() ? "." : target, r->port, r->priority, r->weight});
    }
    ares_free_data(head);
    // c-ares can succeed with no SRV record at all (answers for other names):
    // that is no data. Records that are all no host name are a bad reply, not
    // a reason to fall back to the domain's own address.
    if (out.empty())
        ec = make_error_code(unusable ? error::bad_reply : error::no_data);
    return out;
}

std::vector<address> parse_addresses(std::vector<unsigned char> const& reply, address::family family,
                                     std::error_code& ec, std::uint32_t& ttl)
{
    constexpr int max_addresses = 32;
    std::vector<address> out;
    char text[INET6_ADDRSTRLEN] = {};
    int count = max_addresses;
    int status;
    if (family == address::family::ipv4) {
        ares_addrttl ttls[max_addresses];
        status = ares_parse_a_reply(reply.data(), static_cast<int>(reply.size()), nullptr, ttls, &count);
        for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
            inet_ntop(AF_INET, &ttls[i].ipaddr, text, sizeof text);
            out.push_back({text, family});
            ttl = std::min<std::uint32_t>(ttl, static_cast<std::uint32_t>(std::max(ttls[i].ttl, 0)));
        }
    } else {
        ares_addr6ttl ttls[max_addresses];
        status = ares_parse_aaaa_reply(reply.data(), static_cast<int>(reply.size()), nullptr, ttls, &count);
        for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
            inet_ntop(AF_INET6, &ttls[i].ip6addr, text, sizeof text);
            out.push_back({text, family});
            ttl = std::min<std::uint32_t>(ttl, static_cast<std::uint32_t>(std::max(ttls[i].ttl, 0)));
        }
    }
    if (status != ARES_SUCCESS)
        ec = status == ARES_ENODATA ? make_error_code(error::no_data) : make_error_code(error::bad_reply);
    else if (out.empty())
        ec = make_error_code(error::no_data);
    return out;
}

}  // namespace fedgate::dns
