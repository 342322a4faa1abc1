#include "contacts/commit_gate.hpp"

namespace fedgate::contacts {

commit_gate::pushed commit_gate::push(protocol::element stanza, bool needs_commit, std::size_t bytes)
{
    pushed out;
    if (!needs_commit && waiting_.empty()) {
        out.release.push_back(std::move(stanza));
        return out;
    }
    item i{std::move(stanza), std::nullopt, false, bytes};
    bytes_ += bytes;
    if (needs_commit)
        i.pending = out.wait_for = next_++;
    waiting_.push_back(std::move(i));
    out.release = release_ready();
    return out;
}

commit_gate::outcome commit_gate::committed(ticket t, bool ok)
{
    outcome out;
    for (auto& i : waiting_)
        if (i.pending == t) {
            i.pending.reset();
            i.failed = !ok;
            if (!ok)
                out.failed = i.stanza;
            break;
        }
    out.release = release_ready();
    return out;
}

std::vector<protocol::element> commit_gate::take_all()
{
    std::vector<protocol::element> all;
    all.reserve(waiting_.size());
    for (auto& i : waiting_)
        all.push_back(std::move(i.stanza));
    waiting_.clear();
    bytes_ = 0;
    return all;
}

std::vector<protocol::element> commit_gate::release_ready()
{
    std::vector<protocol::element> ready;
    while (!waiting_.empty() && !waiting_.front().pending) {
        if (!waiting_.front().failed)
            ready.push_back(std::move(waiting_.front().stanza));
        bytes_ -= waiting_.front().bytes;
        waiting_.pop_front();
    }
    return ready;
}

}  // namespace fedgate::contacts
