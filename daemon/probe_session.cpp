#include "daemon/probe_session.hpp"

#include "negotiation/bidi.hpp"
#include "negotiation/stream_management.hpp"
#include "protocol/namespaces.hpp"

namespace fedgate::daemon {

namespace ng = fedgate::negotiation;
namespace ns = protocol::ns;

probe::features_seen features_of(protocol::element const& features)
{
    probe::features_seen f;
    if (auto const* starttls = features.child("starttls", ns::tls)) {
        f.starttls = true;
        f.starttls_required = starttls->child("required", ns::tls) != nullptr;
    }
    if (auto const* mechanisms = features.child("mechanisms", ns::sasl))
        for (auto const* m : mechanisms->child_elements())
            if (m->is("mechanism", ns::sasl))
                f.mechanisms.push_back(m->text());
    f.dialback = features.child("dialback", ns::dialback_feature) != nullptr;
    f.stream_management = ng::sm::offered(features);
    f.bidi = ng::bidi::offered(features);
    return f;
}

probe_session::probe_session(std::unique_ptr<ng::outbound_session> inner, probe::negotiation_seen& seen)
    : inner_{std::move(inner)}, seen_{seen}
{
}

std::vector<ng::action> probe_session::start()
{
    return note(inner_->start());
}

std::vector<ng::action> probe_session::handle(ng::event e)
{
    observe(e);
    return note(inner_->handle(std::move(e)));
}

void probe_session::observe(ng::event const& e)
{
    if (auto const* opened = std::get_if<protocol::stream_opened>(&e)) {
        seen_.header_received = true;
        if (seen_.stream_id.empty())
            seen_.stream_id = std::string{opened->header.id()};
    } else if (auto const* received = std::get_if<protocol::element_received>(&e)) {
        observe(received->stanza);
    } else if (std::holds_alternative<ng::tls_established>(e)) {
        seen_.tls_established = true;
        if (on_tls)
            on_tls(seen_);
    }
}

void probe_session::observe(protocol::element const& e)
{
    if (e.is("features", ns::streams)) {
        // The first features after TLS say what authentication is offered;
        // those after the SASL restart say nothing new.
        if (!seen_.tls_established && !seen_.before_tls)
            seen_.before_tls = features_of(e);
        else if (seen_.tls_established && !seen_.after_tls)
            seen_.after_tls = features_of(e);
    } else if (e.ns() == ns::sasl && e.name() == "success") {
        seen_.sasl = "success";
    } else if (e.ns() == ns::sasl && e.name() == "failure") {
        auto children = e.child_elements();
        seen_.sasl = children.empty() ? "failure" : children.front()->name();
    } else if (e.is("result", ns::dialback) && !e.type().empty()) {
        seen_.dialback = std::string{e.type()};
    }
}

std::vector<ng::action> probe_session::note(std::vector<ng::action> actions)
{
    for (auto const& a : actions) {
        if (auto const* send = std::get_if<ng::send_element>(&a)) {
            if (send->element.is("starttls", ns::tls))
                seen_.tls_attempted = true;
            if (send->element.is("result", ns::dialback))
                seen_.dialback_sent = true;
        } else if (std::holds_alternative<ng::begin_tls>(a)) {
            seen_.tls_attempted = true;
        } else if (auto const* done = std::get_if<ng::authenticated>(&a)) {
            seen_.method = done->method;
        } else if (auto const* closed = std::get_if<ng::close_stream>(&a); closed && seen_.close_reason.empty()) {
            seen_.close_reason = std::string{ng::metric_name(closed->reason)};
            seen_.close_detail = closed->detail;
        }
    }
    return actions;
}

}  // namespace fedgate::daemon
