// What every vs_* call shares: the handle behind vs_db, and the one way a call checks its
// arguments, reports its error and keeps exceptions from crossing the ABI.
#pragma once

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <visitsync/inspection.h>
#include <visitsync/status.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/replicator.h>

#include "visitsync.h"

// A handle's replicator and the connection it syncs on (destroyed in that order: the
// replicator's thread ends first).
struct vs_background {
  std::unique_ptr<vs::Inspection> in;
  std::unique_ptr<vs::Replicator> replicator;
};

struct vs_db {
  std::mutex mu;  // one call at a time on the handle
  std::string data_dir;
  vs_open_options options{};
  std::unique_ptr<vs::Inspection> in;         // null once closed
  std::unique_ptr<vs_background> background;  // while a replicator was started; under mu
  // The change observer, under its own lock: the replicator's thread reads it while a call
  // holds mu to stop that thread.
  std::mutex observer_mu;
  vs_changes_fn on_changes = nullptr;
  void* changes_ctx = nullptr;
};

struct vs_cancel {
  std::atomic<bool> flag{false};
};

namespace vs::capi {

// The integer a C caller put in an enum-typed argument or field. C lets it hold any int; in
// C++ a value outside the enumerators' range must not even be loaded as the enum type.
template <class E>
long long enum_bits(const E& e) {
  std::underlying_type_t<E> v;
  static_assert(sizeof v == sizeof e);
  std::memcpy(&v, &e, sizeof v);
  return static_cast<long long>(v);
}

// Longest string argument taken: far above any id, value or path.
inline constexpr std::size_t kMaxArgBytes = std::size_t{1} << 20;

// A copy of `s` in memory from malloc, for the caller's vs_free(); nullptr if out of memory.
char* dup(std::string_view s);

// Sets *error (when not NULL) from `s`, prefixed with the call's name; returns its code.
vs_code report(const char* fn, const Status& s, char** error);

// OK when `s` is a string argument the API takes: not NULL, at most kMaxArgBytes, UTF-8.
Status check_arg(const char* s, const char* name);
// The same for an argument that may be NULL (OK then).
Status check_optional_arg(const char* s, const char* name);

// The open Inspection of a (non-NULL) handle, or kInvalidInput when it is closed.
Result<Inspection*> open_of(vs_db* db);

// Runs `body` (returning a Status) as the call `fn`: *error cleared first, any exception turned
// into kInternal, the result reported.
template <class Body>
vs_code call(const char* fn, char** error, Body&& body) {
  if (error != nullptr) *error = nullptr;
  Status s;
  try {
    s = body();
  } catch (const std::bad_alloc&) {
    s = Status::internal("out of memory");
  } catch (const std::exception& e) {
    s = Status::internal(std::string("unexpected: ") + e.what());
  } catch (...) {
    s = Status::internal("unexpected exception");
  }
  return report(fn, s, error);
}

// call() on a handle's open Inspection, under the handle's lock.
template <class Body>
vs_code with_db(const char* fn, vs_db* db, char** error, Body&& body) {
  return call(fn, error, [&]() -> Status {
    if (db == nullptr) return Status::invalid_input("db is NULL");
    std::lock_guard<std::mutex> lock(db->mu);
    Result<Inspection*> in = open_of(db);
    if (!in.ok()) return in.status();
    return body(*in.value());
  });
}

// with_db() for a call that writes ops: once it succeeded, the replicator (if running) is told.
template <class Body>
vs_code write_db(const char* fn, vs_db* db, char** error, Body&& body) {
  return with_db(fn, db, error, [&](Inspection& in) -> Status {
    Status s = body(in);
    if (s.ok() && db->background != nullptr) db->background->replicator->notify_change();
    return s;
  });
}

// The ids of the visits among `records` (a sync's SyncReport::changed), in their order.
std::vector<std::string> visits_of(const std::vector<std::string>& records);

// Calls the handle's change observer, if any, with the visits among `records`. No lock is held
// during the call.
void tell_changes(vs_db* db, const std::vector<std::string>& records);

// True on a thread that is running one of the replicator's callbacks, where vs_close() and
// vs_release() must not wait for that thread to end.
bool in_replicator_callback();

// Stops and destroys the handle's replicator, if any (not under db->mu: its thread may be
// calling back into the handle).
void end_background(vs_db* db);

// The engine's durability for the options' vs_durability.
inline Durability durability_of(const vs_open_options& o) {
  return o.durability == VS_DURABILITY_NORMAL ? Durability::kNormal : Durability::kFull;
}

// A line to the handle's log sink, if it has one.
inline void log_line(const vs_open_options& o, int level, const std::string& line) {
  if (o.log != nullptr) o.log(o.log_ctx, level, line.c_str());
}

// Hands `text` to the caller through `out` (which must not be NULL).
Status give(char** out, std::string_view text, const char* name);

}  // namespace vs::capi
