#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <visitsync/transport/replicator.h>

namespace vs {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::int64_t wall_now_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Failures that no retry mends: the store needs a repair, or the enrollment does not fit it.
bool gives_up(const Status& s) {
  return s.code() == Code::kDamaged || s.code() == Code::kInvalidInput;
}

}  // namespace

std::string_view replicator_state_name(ReplicatorState s) {
  switch (s) {
    case ReplicatorState::kStopped:
      return "stopped";
    case ReplicatorState::kOffline:
      return "offline";
    case ReplicatorState::kConnecting:
      return "connecting";
    case ReplicatorState::kBusy:
      return "busy";
    case ReplicatorState::kIdle:
      return "idle";
  }
  return "stopped";
}

struct Replicator::Impl {
  Impl(SyncOnce s, ReplicatorOptions o) : sync_once(std::move(s)), options(std::move(o)) {
    rng.seed(options.seed != 0 ? options.seed : std::random_device{}());
  }

  void run();
  void attempt(std::unique_lock<std::mutex>& lock);
  milliseconds backoff(const Status& failure);
  // Calls on_status with a copy of the status, the lock released meanwhile.
  void publish(std::unique_lock<std::mutex>& lock);
  Steady::time_point next_due() const { return change_due ? std::min(due, *change_due) : due; }

  const SyncOnce sync_once;
  const ReplicatorOptions options;
  mutable std::mutex mu;
  std::condition_variable wake;
  std::condition_variable exited_cv;
  ReplicatorStatus status;
  std::atomic<bool> cancel{false};
  bool stop = false;
  bool done = false;       // stopping by itself: `once` synced, or a failure no retry mends
  bool exited = true;      // no thread runs run()
  bool running = false;    // a sync is in progress
  bool changed = false;    // a local write came during that sync
  Steady::time_point due;  // the next attempt: backoff, periodic pull, retry_now (max: none)
  std::optional<Steady::time_point> change_due;    // a local write's sync, after the debounce
  std::optional<Steady::time_point> first_change;  // when that debounce began
  std::mt19937_64 rng;
  std::thread thread;
};

void Replicator::Impl::publish(std::unique_lock<std::mutex>& lock) {
  if (!options.on_status) return;
  const ReplicatorStatus copy = status;
  lock.unlock();
  options.on_status(copy);
  lock.lock();
}

milliseconds Replicator::Impl::backoff(const Status& failure) {
  // The n-th failure in a row waits between half and all of first_retry * 2^(n-1), at most
  // max_retry: devices cut off together do not come back together.
  const std::uint32_t doublings = std::min<std::uint32_t>(status.failures - 1, 30);
  const auto cap = static_cast<double>(options.max_retry.count());
  const double full = std::min(cap, static_cast<double>(options.first_retry.count()) *
                                        static_cast<double>(std::uint64_t{1} << doublings));
  std::uniform_real_distribution<double> half_to_full(full / 2, full);
  auto wait = milliseconds(static_cast<std::int64_t>(half_to_full(rng)));
  // A hub too busy to serve says how long to stay away.
  if (const std::optional<std::chrono::seconds> asked = hub_busy_retry(failure))
    wait = std::max<milliseconds>(wait, *asked);
  return wait;
}

void Replicator::Impl::attempt(std::unique_lock<std::mutex>& lock) {
  running = true;
  changed = false;
  change_due.reset();
  first_change.reset();
  status.state = ReplicatorState::kConnecting;
  status.progress = SyncProgress{};
  status.retry_in = milliseconds(0);
  publish(lock);
  SyncOptions so = options.sync;
  so.cancel = &cancel;
  so.progress = [this](const SyncProgress& p) {
    std::unique_lock<std::mutex> l(mu);
    status.state = ReplicatorState::kBusy;
    status.progress = p;
    publish(l);
  };
  lock.unlock();
  Result<SyncReport> r = Status::internal("sync did not run");
  try {
    r = sync_once(so);
  } catch (const std::exception& e) {
    r = Status::internal(std::string("sync: ") + e.what());
  }
  if (r.ok() && options.on_synced) options.on_synced(r.value());
  lock.lock();
  running = false;
  const Steady::time_point now = Steady::now();
  if (r.ok()) {
    status.failures = 0;
    status.last_sync_ms = wall_now_ms();
    ++status.syncs;
    status.state = ReplicatorState::kIdle;
    done = options.once;
    due = options.pull_every.count() > 0 ? now + options.pull_every : Steady::time_point::max();
    if (changed) {
      first_change = now;
      change_due = now + options.debounce;
    }
  } else if (stop) {
    return;  // cancelled by stop(): run() reports the stop
  } else {
    ++status.failures;
    status.last_error = r.status();
    if (gives_up(r.status())) {
      done = true;
    } else {
      status.retry_in = backoff(r.status());
      status.state = ReplicatorState::kOffline;
      due = now + status.retry_in;
    }
  }
  publish(lock);
}

void Replicator::Impl::run() {
  std::unique_lock<std::mutex> lock(mu);
  while (!stop && !done) {
    const Steady::time_point next = next_due();
    if (next == Steady::time_point::max()) {
      wake.wait(lock);
    } else if (Steady::now() < next) {
      wake.wait_until(lock, next);
    } else {
      attempt(lock);
    }
  }
  status.state = ReplicatorState::kStopped;
  publish(lock);
  exited = true;
  exited_cv.notify_all();
}

Replicator::Replicator(SyncOnce sync_once, ReplicatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(sync_once), std::move(options))) {}

Replicator::~Replicator() { stop(); }

void Replicator::start() {
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lock(im.mu);
  if (!im.exited) return;
  if (im.thread.joinable()) {
    lock.unlock();
    im.thread.join();  // a thread that stopped by itself
    lock.lock();
  }
  im.stop = false;
  im.done = false;
  im.cancel = false;
  im.exited = false;
  im.status.state = ReplicatorState::kConnecting;
  im.status.failures = 0;
  im.status.last_error = Status();
  im.due = Steady::now();
  im.thread = std::thread([&im] { im.run(); });
}

void Replicator::notify_change() {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  if (im.exited || im.stop) return;
  if (im.running) {
    im.changed = true;
    return;
  }
  if (im.status.state == ReplicatorState::kOffline) return;
  const Steady::time_point now = Steady::now();
  if (!im.first_change) im.first_change = now;
  im.change_due = std::min(now + im.options.debounce, *im.first_change + 4 * im.options.debounce);
  im.wake.notify_one();
}

void Replicator::retry_now() {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  if (im.exited || im.running) return;
  im.due = Steady::now();
  im.wake.notify_one();
}

void Replicator::stop() {
  Impl& im = *impl_;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.stop = true;
    im.cancel = true;
    im.wake.notify_all();
  }
  // From a callback on the replicator's own thread: it ends once the callback returns.
  if (im.thread.joinable() && im.thread.get_id() != std::this_thread::get_id()) im.thread.join();
}

bool Replicator::wait_stopped(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lock(im.mu);
  return im.exited_cv.wait_for(lock, timeout, [&] { return im.exited; });
}

ReplicatorStatus Replicator::status() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->status;
}

}  // namespace vs
