#include "net/admission.h"

#include <algorithm>
#include <cassert>

namespace vs::net {

Admission::Admission(AdmissionLimits limits) : limits_(limits) {
  limits_.max_handshakes = std::max<std::size_t>(limits_.max_handshakes, 1);
  limits_.max_handshakes_per_address = std::max<std::size_t>(limits_.max_handshakes_per_address, 1);
  limits_.max_sessions = std::max<std::size_t>(limits_.max_sessions, 1);
}

Admission::Arrival Admission::arrive(std::uint64_t serial, const std::string& address) {
  Arrival a;
  a.crowded = 2 * owner_.size() >= limits_.max_handshakes;
  // Refusing the newcomer would let whoever filled the slots first keep them for a whole
  // handshake deadline: a host that connects and never speaks would lock every device out.
  // Displacing the oldest instead keeps the slots turning over, and a handshake that works
  // is over in a few round trips, long before it becomes the oldest. Within one address the
  // newcomer displaces its own address's oldest (a flooding host churns only its own share);
  // across addresses, the address holding the most pays (a device from a quiet address is
  // never displaced while a busier one holds more).
  if (handshakes_from(address) >= limits_.max_handshakes_per_address) {
    a.evict = drop_oldest(address);
  } else if (owner_.size() >= limits_.max_handshakes) {
    assert(!load_.empty());
    a.evict = drop_oldest(load_.rbegin()->second);
  }
  if (a.evict) ++evicted_;
  add(serial, address);
  return a;
}

void Admission::handshake_ended(std::uint64_t serial) {
  const auto it = owner_.find(serial);
  if (it == owner_.end()) return;
  const std::string address = it->second;
  owner_.erase(it);
  std::deque<std::uint64_t>& q = by_address_[address];
  const std::size_t before = q.size();
  q.erase(std::find(q.begin(), q.end(), serial));
  recount(address, before, q.size());
}

bool Admission::open_session() {
  if (sessions_ >= limits_.max_sessions) return false;
  ++sessions_;
  return true;
}

void Admission::close_session() {
  assert(sessions_ > 0);
  --sessions_;
}

std::size_t Admission::handshakes_from(const std::string& address) const {
  const auto it = by_address_.find(address);
  return it == by_address_.end() ? 0 : it->second.size();
}

void Admission::add(std::uint64_t serial, const std::string& address) {
  std::deque<std::uint64_t>& q = by_address_[address];
  const std::size_t before = q.size();
  q.push_back(serial);
  owner_[serial] = address;
  recount(address, before, q.size());
}

// By value: the caller may pass the address held in load_, which recount() erases.
std::uint64_t Admission::drop_oldest(
    std::string address) {  // NOLINT(performance-unnecessary-value-param)
  std::deque<std::uint64_t>& q = by_address_[address];
  assert(!q.empty());
  const std::size_t before = q.size();
  const std::uint64_t serial = q.front();
  q.pop_front();
  owner_.erase(serial);
  recount(address, before, q.size());
  return serial;
}

void Admission::recount(const std::string& address, std::size_t before, std::size_t after) {
  if (before > 0) load_.erase({before, address});
  if (after > 0) {
    load_.insert({after, address});
  } else {
    by_address_.erase(address);
  }
}

}  // namespace vs::net
