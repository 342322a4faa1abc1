#include "negotiation/stream_driver.hpp"

namespace fedgate::negotiation {

stream_driver::stream_driver(session& s, protocol::reader_limits limits, std::string_view content_ns)
    : session_{s},
      limits_{limits},
      content_ns_{content_ns},
      reader_{std::make_unique<protocol::stream_reader>(limits, content_ns)}
{
}

std::vector<action> stream_driver::start()
{
    std::vector<action> out;
    absorb(session_.start(), out);
    return out;
}

std::vector<action> stream_driver::receive(std::string_view bytes)
{
    if (finished_)
        return {};
    reader_->append(bytes);
    return parse();
}

std::vector<action> stream_driver::handle(event e)
{
    std::vector<action> out;
    if (!finished_ && absorb(session_.handle(std::move(e)), out))
        // A restart may have left complete elements in the new reader.
        for (auto& more : parse())
            out.push_back(std::move(more));
    return out;
}

std::vector<action> stream_driver::parse()
{
    std::vector<action> out;
    while (!finished_) {
        std::error_code ec;
        auto e = reader_->next(ec);
        if (!e) {
            if (ec)
                end_with(out, close_stream{static_cast<protocol::stream_error>(ec.value()), close_reason::bad_input,
                                           reader_->error_text()});
            break;
        }
        if (auto const* opened = std::get_if<protocol::stream_opened>(&*e); opened && header_seen_)
            header_seen_(opened->header);
        auto as_event = std::visit([](auto&& parsed) -> event { return std::move(parsed); }, std::move(*e));
        if (!absorb(session_.handle(std::move(as_event)), out))
            break;
    }
    return out;
}

bool stream_driver::absorb(std::vector<action> actions, std::vector<action>& out)
{
    for (auto& a : actions) {
        if (std::holds_alternative<begin_tls>(a) && reader_->unparsed_size() > 0) {
            end_with(out, close_stream{.condition = std::nullopt,
                                       .reason = close_reason::bad_input,
                                       .detail = std::to_string(reader_->unparsed_size()) +
                                                 " bytes arrived after the request for TLS, before the handshake",
                                       .drop_connection = true});
            return false;
        }
        if (std::holds_alternative<restart_stream>(a)) {
            auto tail = reader_->take_unparsed();
            reader_ = std::make_unique<protocol::stream_reader>(limits_, content_ns_);
            reader_->append(tail);
        }
        bool closing = std::holds_alternative<close_stream>(a);
        out.push_back(std::move(a));
        if (closing) {
            finished_ = true;
            return false;
        }
    }
    return true;
}

void stream_driver::end_with(std::vector<action>& out, close_stream close)
{
    // The session learns that the stream is gone (so it fails what waits on it),
    // but the driver's reason is the one that is true.
    for (auto& a : session_.handle(transport_closed{close.detail}))
        if (!std::holds_alternative<close_stream>(a))
            out.push_back(std::move(a));
    out.emplace_back(std::move(close));
    finished_ = true;
}

}  // namespace fedgate::negotiation
