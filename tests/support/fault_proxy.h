// A TCP proxy on 127.0.0.1 that forwards to a port on 127.0.0.1 and makes the link fail on
// demand: down (each connection closed at once), stalled (held open, nothing passes), cut after
// N bytes (the next connection), or cut at a steady period; a byte flipped; slowed to a rate;
// each direction delayed. The faults are set by the test (from its own seeded generator): the
// proxy draws nothing at random. Up to 64 connections at once, each on a thread of its own and
// bounded to 60 s; every thread ends with the proxy.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <netinet/in.h>
#include <thread>
#include <vector>

namespace vs::test {

// 127.0.0.1:`port` as a socket address (the proxy's, and its tests' servers').
sockaddr_in loopback_address(std::uint16_t port);

class FaultProxy {
 public:
  // Listens on 127.0.0.1:`listen_port` (0: a port the kernel picks) and forwards to
  // 127.0.0.1:`target`. Throws std::runtime_error when it cannot listen.
  explicit FaultProxy(std::uint16_t target, std::uint16_t listen_port = 0);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::uint16_t port() const { return port_; }
  // While down, every connection is closed as soon as it is accepted.
  void set_down(bool down) { down_ = down; }
  // While stalled, a new connection is held open and silent until the stall ends (or 60 s).
  void set_stalled(bool stalled) { stalled_ = stalled; }
  // The next connection is cut once `n` bytes (both directions together) have entered the link;
  // bytes still delayed in it at the cut are lost, as on a real link.
  void cut_next_after_bytes(std::size_t n) { budget_ = n; }
  // The next connection has the byte at offset `n` of its stream (both directions together)
  // flipped (XOR 0x5A) on its way.
  void flip_next_at(std::size_t n) { flip_at_ = n; }
  // The link goes down for an instant every `period` from now on (0: never): a connection open
  // at that instant is cut.
  void cut_every(std::chrono::milliseconds period);
  // At most this many bytes a second enter each connection in each direction (0: no limit).
  void set_rate(std::size_t bytes_per_second) { rate_ = bytes_per_second; }
  // Each byte reaches the target `to_target` after it left the client, and the client
  // `to_client` after it left the target (a round trip is their sum).
  void set_delay(std::chrono::milliseconds to_target, std::chrono::milliseconds to_client);
  // Connections accepted, those the proxy ended (down, cut, or over the 64 at once), and bytes
  // it flipped.
  std::uint64_t connections() const { return connections_; }
  std::uint64_t cuts() const { return cuts_; }
  std::uint64_t flips() const { return flips_; }
  // Bytes that entered the link toward the target (up) and toward the client (down), over
  // every connection.
  std::uint64_t bytes_up() const { return bytes_[0]; }
  std::uint64_t bytes_down() const { return bytes_[1]; }

 private:
  struct Worker;
  void loop();
  void serve(int client, std::size_t budget, std::size_t flip_at);
  // Copies both ways until a cut, either side closes, or 60 s pass; true when it cut.
  bool forward(int client, int target, std::size_t budget, std::size_t flip_at);
  // A cut_every instant has passed since `opened`.
  bool cut_due(std::chrono::steady_clock::time_point opened) const;

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> down_{false};
  std::atomic<bool> stalled_{false};
  std::atomic<std::size_t> budget_{SIZE_MAX};
  std::atomic<std::size_t> flip_at_{SIZE_MAX};
  std::atomic<std::int64_t> cut_period_ms_{0};
  std::atomic<std::int64_t> cut_epoch_ns_{0};  // steady clock, when cut_every was called
  std::atomic<std::size_t> rate_{0};
  std::atomic<std::int64_t> delay_ms_[2] = {0, 0};  // [0]: to the target, [1]: to the client
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> cuts_{0};
  std::atomic<std::uint64_t> flips_{0};
  std::atomic<std::uint64_t> bytes_[2] = {0, 0};
  std::vector<Worker> workers_;  // touched by the accepting thread only, and the destructor
  std::thread thread_;
};

}  // namespace vs::test
