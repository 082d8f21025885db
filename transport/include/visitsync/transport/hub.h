// The hub's network server: TLS 1.3 with client certificates from the deployment's CA, one
// coroutine per session on the caller's io_context, every store call on one store thread
// (schema/PROTOCOL.md). Sessions end on a bye, a refusal, an error or a timeout; one line per
// session goes to the log.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/status.h>

namespace vs {

struct HubOptions {
  std::string hub_id = "hub";
  std::chrono::milliseconds handshake_timeout{10'000};
  // The handshake deadline of a connection that arrives while at least half of the handshake
  // slots are taken (the shorter of the two applies): under a flood a slot turns over sooner,
  // and a real device's TLS 1.3 handshake takes a few round trips, under 2 s even on 2G.
  std::chrono::milliseconds crowded_handshake_timeout{3'000};
  std::chrono::milliseconds idle_timeout{60'000};  // no message from the device for this long
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds close_timeout{2'000};

  // Connections the hub holds (schema/PROTOCOL.md, "Connections the hub holds"). A connection
  // in its TLS handshake has proved nothing yet, so it takes a handshake slot, never a session
  // slot. When a new connection's address already holds max_handshakes_per_address slots, the
  // oldest of them is closed to make room; when all max_handshakes slots are taken, the oldest
  // connection of the address holding the most is. A new connection is never turned away at
  // the door, so one that never speaks cannot keep a device out. 0 is taken as 1.
  std::size_t max_handshakes = 2048;
  std::size_t max_handshakes_per_address = 512;  // an IPv6 address counts by its /64
  // Authenticated sessions; a device that completes its handshake when all are taken gets a
  // refusal "busy, retry in N s" (kUnavailable) to its hello.
  std::size_t max_sessions = 2000;

  // The store queue (schema/PROTOCOL.md, "The store queue"): protocol steps posted to the
  // store thread and not finished. A step that finds max_store_queue ahead of it is not
  // queued: the session gets "busy, retry in N s" (kUnavailable) and ends. A step that waited
  // more than store_wait_limit for its turn is dropped with the same answer; a step whose
  // session was closed meanwhile is dropped. The wait limit stays below the device's 30 s
  // (SyncOptions::io_timeout), so the device is still there to read the answer.
  std::size_t max_store_queue = 1000;
  std::chrono::milliseconds store_wait_limit{20'000};

  // Receives one line per session and notable events. Called on the io_context's thread.
  std::function<void(const std::string&)> log;
};

// What the hub holds at one moment, and counters since it started.
struct HubLoad {
  std::size_t handshakes = 0;               // connections in their TLS handshake
  std::size_t sessions = 0;                 // authenticated sessions
  std::size_t store_queue = 0;              // steps posted to the store thread and not finished
  std::size_t store_queue_peak = 0;         // the most there ever were
  std::uint64_t accepted = 0;               // connections accepted
  std::uint64_t evicted = 0;                // handshakes closed to make room for newer connections
  std::uint64_t busy = 0;                   // steps refused or dropped as busy
  std::uint64_t abandoned = 0;              // steps dropped because their session had closed
  std::uint64_t store_steps = 0;            // steps run on the store thread
  std::chrono::microseconds store_busy{0};  // the store thread's time running them
};

// Counters since the hub started, for its metrics (the console's /metrics).
struct HubCounters {
  std::map<std::string, std::uint64_t> sessions;  // ended sessions by outcome: "ok" or a code name
  std::uint64_t handshake_failures = 0;           // connections that never completed TLS
  std::uint64_t ops_in = 0;                       // ops devices pushed that the hub merged
  std::uint64_t ops_out = 0;                      // ops sent to devices in pulls
  std::map<std::string, std::uint64_t> rejections;  // ops refused, by kind (PushResult::kinds)
  std::uint64_t bytes_in = 0;                       // TCP payload bytes of ended sessions
  std::uint64_t bytes_out = 0;
  // Each device's last session since the hub started: when it ended (ms since 1970), its
  // clock skew at the hello, and its outcome.
  struct LastSession {
    std::int64_t ended_ms = 0;
    std::int64_t skew_ms = 0;
    std::string outcome;
  };
  std::map<std::string, LastSession> last_session;
};

class HubServer {
 public:
  // `store` must outlive the server and must not be used elsewhere while it runs.
  // kInvalidInput: unusable TLS material.
  static Result<std::unique_ptr<HubServer>> create(boost::asio::io_context& io, HubStore& store,
                                                   const std::string& ca_pem,
                                                   const std::string& cert_pem,
                                                   const std::string& key_pem, HubOptions options);
  ~HubServer();
  HubServer(const HubServer&) = delete;
  HubServer& operator=(const HubServer&) = delete;
  HubServer(HubServer&&) = delete;
  HubServer& operator=(HubServer&&) = delete;

  // Binds and listens (port 0: any free port). kUnavailable if the address cannot be bound.
  Status listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  // Starts accepting on the io_context. A second session of a device replaces the first: the
  // first is closed (its link is most likely dead, and the device should not wait for a
  // timeout to sync again). First, on the caller's thread, and then every hour on the store
  // thread, the store's chores that are due: the photo garbage collection, once a day
  // (HubStore::collect_photo_garbage_daily), logged when it runs.
  void start();
  // Stops accepting and ends every session with a bounded TLS close. Work already handed to
  // the store thread finishes first, so nothing acknowledged is lost. Call on the io thread.
  void shutdown();
  // Connections currently open: in their handshake or in a session.
  std::size_t live_sessions() const;
  // The hub's load, and its counters. Call on the io thread.
  HubLoad load() const;
  HubCounters counters() const;
  // Runs `work` on the store thread in its turn among the sessions' steps (the console's
  // pages and decisions use the store this way), then `done` on the io thread with its status;
  // kUnavailable "busy, retry in N s" when the store queue is full or the work waited past its
  // limit (HubOptions). Call on the io thread.
  void on_store(std::function<Status(HubStore&)> work, std::function<void(Status)> done);

  struct Impl;

 private:
  explicit HubServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vs
