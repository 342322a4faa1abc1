#include "contacts/postgres_store.hpp"

#include "contacts/postgres_wire.hpp"
#include "contacts/shared_cache.hpp"
#include "contacts/write_queue.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>

namespace fedgate::contacts {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Between two attempts to reach the database: from this, doubling, to the cap.
constexpr auto first_backoff = 100ms;
constexpr auto backoff_cap = 2s;

class postgres_store final : public relationship_store {
public:
    postgres_store(postgres_settings settings, dispatcher dispatch, pg::connection writer);
    ~postgres_store() override;
    postgres_store(postgres_store const&) = delete;
    postgres_store& operator=(postgres_store const&) = delete;

    [[nodiscard]] relationship_state get(relationship const& r) const override;
    void put(relationship const& r, relationship_state s, completion done) override;
    void undo(relationship const& r, relationship_state failed, relationship_state previous) override;
    [[nodiscard]] std::string put_all(std::vector<std::pair<relationship, relationship_state>> const& states) override;
    void flush() override;
    [[nodiscard]] std::vector<std::pair<relationship, relationship_state>> all() const override;
    [[nodiscard]] std::string where() const override { return where_; }

    void start();

private:
    /// One job of the queue: written, and its completion sent back.
    void perform(write_queue::job& j);
    /// Writes `j`, waiting for the database up to its deadline; sets the
    /// revision of the change it made.
    std::string write(write_queue::job const& j, std::optional<std::int64_t>& revision);
    void listen();
    /// The listener waits `delay`, or less when the store is stopping: false then.
    bool listener_pause(std::chrono::milliseconds delay);
    /// The listener's connection, LISTENing; null when the database is away.
    pg::connection listening_connection(std::string& error);
    void report(std::string const& text);

    postgres_settings settings_;
    dispatcher dispatch_;
    std::string where_;

    /// The caller's thread only; shared with what the threads post to it, so
    /// that a posted change outliving the store touches nothing freed.
    std::shared_ptr<shared_cache> cache_ = std::make_shared<shared_cache>();

    std::mutex writer_mutex_;  // the worker's connection, which put_all borrows
    pg::connection writer_;
    struct connections_up {
        std::atomic<bool> writer{true};
        std::atomic<bool> listener{true};
    };
    std::shared_ptr<connections_up> up_flags_ = std::make_shared<connections_up>();
    std::atomic<bool>& writer_up_ = up_flags_->writer;
    std::atomic<bool>& listener_up_ = up_flags_->listener;

    int stop_fd_ = -1;  ///< wakes the listener's poll()
    std::thread listener_;
    write_queue writes_;  ///< put() hands over briefly, never across a round trip
};

}  // namespace

std::unique_ptr<relationship_store> open_postgres_store(postgres_settings settings,
                                                        relationship_store::dispatcher dispatch)
{
    std::string error;
    auto writer = pg::connect(settings.conninfo, error);
    if (!writer)
        throw store_error{"cannot reach the relationship store in PostgreSQL: " + error +
                          " (check [store] conninfo, and that the database accepts fedgate's connections)"};
    pg::migrate(*writer);
    auto store = std::make_unique<postgres_store>(std::move(settings), std::move(dispatch), std::move(writer));
    store->start();
    return store;
}

postgres_store::postgres_store(postgres_settings settings, dispatcher dispatch, pg::connection writer)
    : settings_{std::move(settings)}, dispatch_{std::move(dispatch)}, where_{pg::where(*writer)}, writer_{std::move(writer)}
{
    cache_->load(pg::load(*writer_));
    if (auto failure = pg::prepare(*writer_); !failure.empty())
        throw store_error{where_ + ": " + failure};
}

void postgres_store::start()
{
    stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0)
        throw store_error{where_ + ": cannot make the listener's stop signal (eventfd)"};
    writes_.start([this](write_queue::job& j) { perform(j); });
    if (dispatch_)  // the daemon: keep the cache in step with the other instances
        listener_ = std::thread{[this] { listen(); }};
}

postgres_store::~postgres_store()
{
    if (stop_fd_ >= 0) {
        std::uint64_t one = 1;
        // Adding 1 to a fresh eventfd cannot fail. Kept in a variable: with Debian's
        // -D_FORTIFY_SOURCE=2, write() warns when unused, and GCC ignores a (void) cast.
        [[maybe_unused]] ssize_t const written = ::write(stop_fd_, &one, sizeof one);
    }
    if (listener_.joinable())
        listener_.join();
    writes_.stop();
    if (stop_fd_ >= 0)
        ::close(stop_fd_);
}

relationship_state postgres_store::get(relationship const& r) const
{
    return cache_->get(r);
}

std::vector<std::pair<relationship, relationship_state>> postgres_store::all() const
{
    return cache_->all();
}

void postgres_store::undo(relationship const& r, relationship_state failed, relationship_state previous)
{
    cache_->undo(r, failed, previous);
}

void postgres_store::put(relationship const& r, relationship_state s, completion done)
{
    cache_->put(r, s);
    writes_.push({r, s, std::move(done), clock::now()});
}

void postgres_store::flush()
{
    writes_.flush();
}

std::string postgres_store::put_all(std::vector<std::pair<relationship, relationship_state>> const& states)
{
    flush();  // nothing of the worker's in between
    std::lock_guard lock{writer_mutex_};
    if (!writer_ || !pg::healthy(*writer_))
        return "the database is not reachable";
    pg::rows written;
    if (auto error = pg::write_all(*writer_, states, written); !error.empty())
        return error;
    cache_->written_all(written);
    return {};
}

void postgres_store::perform(write_queue::job& j)
{
    std::optional<std::int64_t> revision;
    auto error = write(j, revision);
    if (dispatch_)
        // The cache learns the revision of its own write first: an older
        // announcement arriving later changes nothing.
        dispatch_([cache = cache_, who = std::move(j.who), done = std::move(j.done), error, revision] {
            cache->written(who, error.empty() ? revision : std::nullopt);
            if (done)
                done(error);
        });
    else if (j.done)
        j.done(error);
}

std::string postgres_store::write(write_queue::job const& j, std::optional<std::int64_t>& revision)
{
    auto const deadline = j.queued + settings_.write_deadline;
    auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(first_backoff);
    std::string last_error;
    for (;;) {
        {
            std::lock_guard lock{writer_mutex_};
            if (writer_ && pg::healthy(*writer_)) {
                auto result = pg::write_one(*writer_, j.who, j.state);
                if (result.ok) {
                    revision = result.revision;
                    return {};
                }
                if (pg::healthy(*writer_) && !result.transient)
                    return where_ + ": " + result.error;  // the database refused it: waiting will not help
                last_error = result.error;
                writer_.reset();  // a fresh connection, or a fresh try on one
            }
        }
        if (writer_up_) {
            writer_up_ = false;
            report("lost the connection to " + where_ + ": " + last_error + "; writes wait for it (at most " +
                   std::to_string(settings_.write_deadline.count()) + " ms each)");
        }
        // Reconnect, with backoff, until this write's deadline; one that
        // waited past it behind others fails without another try.
        if (clock::now() >= deadline)
            return where_ + " is not reachable (" + last_error + ")";
        std::string error;
        if (auto fresh = pg::connect(settings_.conninfo, error)) {
            if (auto failure = pg::prepare(*fresh); failure.empty()) {
                std::lock_guard lock{writer_mutex_};
                writer_ = std::move(fresh);
                writer_up_ = true;
                report("connected to " + where_ + " again");
                continue;
            } else {
                error = failure;
            }
        }
        last_error = error;
        auto const now = clock::now();
        // A last attempt at the deadline itself, and none after it.
        if (writes_.stopping() || now >= deadline ||
            !writes_.pause(std::min(backoff, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now))))
            return where_ + " is not reachable (" + last_error + ")";
        backoff = std::min(backoff * 2, std::chrono::duration_cast<std::chrono::milliseconds>(backoff_cap));
    }
}

bool postgres_store::listener_pause(std::chrono::milliseconds delay)
{
    pollfd stop{stop_fd_, POLLIN, 0};
    int const ready = ::poll(&stop, 1, static_cast<int>(delay.count()));
    return ready == 0 || (ready < 0 && errno == EINTR);
}

pg::connection postgres_store::listening_connection(std::string& error)
{
    auto c = pg::connect(settings_.conninfo, error);
    if (c && !pg::listen(*c, error))
        c.reset();
    return c;
}

void postgres_store::listen()
{
    std::string error;
    auto c = listening_connection(error);
    // Once LISTENing, everything is read again: what others changed between the
    // store's first load and now was announced to nobody here.
    bool reload = c != nullptr;
    auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(first_backoff);
    for (;;) {
        if (!c) {
            if (listener_up_) {
                listener_up_ = false;
                report("stopped hearing of other instances' changes from " + where_ + ": " + error +
                       "; reconnecting");
            }
            if (!listener_pause(backoff))
                return;
            backoff = std::min(backoff * 2, std::chrono::duration_cast<std::chrono::milliseconds>(backoff_cap));
            c = listening_connection(error);
            reload = c != nullptr;
            continue;
        }
        if (reload) {
            // Whatever was announced while we were away: read it all again.
            pg::rows rows;
            try {
                rows = pg::load(*c);
            } catch (store_error const& e) {
                error = e.what();
                c.reset();
                continue;
            }
            dispatch_([cache = cache_, rows = std::move(rows)] { cache->reload(rows); });
            reload = false;
            backoff = std::chrono::duration_cast<std::chrono::milliseconds>(first_backoff);
            listener_up_ = true;
            report("hearing of other instances' changes from " + where_ + " again");
        }
        pollfd fds[2] = {{pg::socket(*c), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, 1000) < 0 && errno != EINTR) {
            error = "poll failed";
            c.reset();
            continue;
        }
        if (fds[1].revents != 0)
            return;  // stopping
        for (auto& change : pg::notifications(*c, error))
            dispatch_([cache = cache_, change = std::move(change)] { cache->heard(change); });
        if (!pg::healthy(*c))
            c.reset();
    }
}

void postgres_store::report(std::string const& text)
{
    if (!settings_.report)
        return;
    // Whether all is up is read when the report runs, so that two threads'
    // reports arriving in either order end with the truth.
    auto up = [w = up_flags_] { return w->writer && w->listener; };
    if (dispatch_)
        dispatch_([report = settings_.report, up, text] { report(up(), text); });
    else
        settings_.report(up(), text);
}

}  // namespace fedgate::contacts
