// The replicator: a device's sync running in the background while the inspector works. It syncs
// when started, a short while after each local write, and now and then to pull what others
// changed; after a failure it waits longer each time (exponential backoff with jitter, bounded)
// and tries again by itself. What it does is reported through a status callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include <visitsync/status.h>
#include <visitsync/transport/client.h>

namespace vs {

enum class ReplicatorState : std::uint8_t {
  kStopped,     // not started, stopped, done (`once`), or given up (a damaged store, or an
                // enrollment that does not fit it: kDamaged, kInvalidInput)
  kOffline,     // the last attempt failed: waiting `retry_in` before the next
  kConnecting,  // a sync started: connecting, TLS handshake, hello
  kBusy,        // the hub welcomed the device: pushing and pulling
  kIdle,        // the last sync succeeded: waiting for a local write or the next pull
};
std::string_view replicator_state_name(ReplicatorState s);  // "stopped", "offline", ...

struct ReplicatorStatus {
  ReplicatorState state = ReplicatorState::kStopped;
  SyncProgress progress;                  // of the sync running now, else of the last one
  std::uint32_t failures = 0;             // attempts failed in a row (0 after a success)
  std::chrono::milliseconds retry_in{0};  // offline: the wait before the next attempt
  Status last_error;                      // of the last failed attempt; OK when none since start
  std::int64_t last_sync_ms = 0;          // wall clock of the last successful sync; 0: none yet
  std::uint64_t syncs = 0;                // successful syncs since start
};

struct ReplicatorOptions {
  SyncOptions sync;                              // its progress and cancel are the replicator's own
  std::chrono::milliseconds first_retry{2'000};  // the wait after a first failure
  std::chrono::milliseconds max_retry{300'000};  // the longest wait (the backoff's bound)
  std::chrono::milliseconds debounce{1'000};     // from a local write to its sync
  // While idle, a pull this often for others' changes; 0: only after local writes.
  std::chrono::milliseconds pull_every{300'000};
  // Stop after the first successful sync (visitsync sync --retry-for).
  bool once = false;
  std::uint64_t seed = 0;  // of the jitter; 0: random
  // Called on the replicator's thread, with no lock held, at each change of state and after
  // each batch of a sync. Must not throw. May call any method of the replicator; stop() from
  // there asks the thread to end once the callback returns. Never destroy the replicator from
  // a callback.
  std::function<void(const ReplicatorStatus&)> on_status;
  // Called on the replicator's thread after each successful sync, with its report, once every
  // change it pulled is committed (the same rules as on_status).
  std::function<void(const SyncReport&)> on_synced;
};

class Replicator {
 public:
  // One sync, run on the replicator's thread (the caller binds the engine and enrollment).
  using SyncOnce = std::function<Result<SyncReport>(const SyncOptions&)>;
  Replicator(SyncOnce sync_once, ReplicatorOptions options);
  ~Replicator();  // stop()
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;
  Replicator(Replicator&&) = delete;
  Replicator& operator=(Replicator&&) = delete;

  // Starts the thread, which syncs at once. A second start is a no-op.
  void start();
  // A local write happened: sync after the debounce (the debounce restarts with each write, up
  // to four debounces after the first). While offline the backoff stands: the next retry takes
  // the write along.
  void notify_change();
  // The network is back (as the shell's OS tells it): try now, even while offline.
  void retry_now();
  // Ends a running sync (what it committed stays) and the thread; returns within a second.
  void stop();
  // Waits until the replicator stops by itself (`once`, or a damaged store) or `timeout`
  // passes; true when stopped.
  bool wait_stopped(std::chrono::milliseconds timeout);
  ReplicatorStatus status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vs
