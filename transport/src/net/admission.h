// Which connections the hub holds (schema/PROTOCOL.md, "Connections the hub holds"): the
// connections still in their TLS handshake, counted per source address and in total, apart
// from the authenticated sessions. Bookkeeping only: no sockets, no clock, no threads; the
// server (hub_server.cc) calls it on its io thread and closes what it is told to close.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace vs::net {

struct AdmissionLimits {
  std::size_t max_handshakes = 2048;             // connections in their handshake, all addresses
  std::size_t max_handshakes_per_address = 512;  // of those, from one source address
  std::size_t max_sessions = 2000;               // authenticated sessions
};

class Admission {
 public:
  // Limits of 0 are taken as 1.
  explicit Admission(AdmissionLimits limits);

  struct Arrival {
    // The connection to close to make room for the new one, if any: the oldest handshake of
    // the new connection's address when that address holds its share, otherwise, when every
    // handshake slot is taken, the oldest handshake of the address that holds the most.
    std::optional<std::uint64_t> evict;
    // At least half of the handshake slots were taken when it came: its handshake gets the
    // shorter deadline.
    bool crowded = false;
  };
  // A new connection `serial` (unique, never reused) from `address` starts its handshake.
  // It is always admitted; what it displaces is returned and already forgotten here.
  Arrival arrive(std::uint64_t serial, const std::string& address);
  // The handshake of `serial` ended (done, failed, timed out or evicted). A serial not held
  // (already evicted, say) is ignored.
  void handshake_ended(std::uint64_t serial);
  // Takes an authenticated session's slot; false when max_sessions are open (nothing taken).
  bool open_session();
  // Gives back a slot taken by open_session().
  void close_session();

  std::size_t handshakes() const { return owner_.size(); }
  std::size_t handshakes_from(const std::string& address) const;
  std::size_t sessions() const { return sessions_; }
  // How many connections arrive() has displaced so far.
  std::uint64_t evicted() const { return evicted_; }

 private:
  void add(std::uint64_t serial, const std::string& address);
  // Forgets the oldest handshake of `address`; returns its serial. By value: the caller may
  // name an address held in load_, which this changes.
  std::uint64_t drop_oldest(std::string address);
  void recount(const std::string& address, std::size_t before, std::size_t after);

  AdmissionLimits limits_;
  std::map<std::string, std::deque<std::uint64_t>> by_address_;  // serials, oldest first
  std::map<std::uint64_t, std::string> owner_;                   // serial -> its address
  std::set<std::pair<std::size_t, std::string>> load_;           // (handshakes, address)
  std::size_t sessions_ = 0;
  std::uint64_t evicted_ = 0;
};

}  // namespace vs::net
