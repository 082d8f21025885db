// Status and Result<T>: the one error model of visitsync.
//
// Every fallible function returns a Status or a Result<T>. Bad input, a missing record, I/O
// failure, a network failure and a refusal are values, never exceptions. Messages are lowercase,
// say what is wrong and where, and carry context added on the way up with annotate().
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vs {

// Values are ABI: visitsync.h mirrors them one to one (VS_OK, VS_ERR_*). Never renumber.
enum class Code : std::int32_t {
  kOk = 0,
  kInvalidInput = 1,  // the caller's input is wrong; nothing was changed
  kNotFound = 2,      // the named thing does not exist
  kRejected = 3,      // refused by the hub: authentication or authorization
  kUnavailable = 4,   // network, timeout or busy: retry later
  kCorrupt = 5,       // a store or a frame is damaged
  kIo = 6,            // the operating system refused a read or write
  kInternal = 7,      // a bug in visitsync
  kDamaged = 8,       // this replica's own store fails its checks (a row's checksum, SQLite's
                      // structure): its data cannot be trusted; `visitsync repair` heals it
  kCancelled = 9,     // the caller cancelled the call (a sync): nothing is lost, retry later
};

// Short lowercase name of a code ("invalid input", "not found", ...).
std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK; costs nothing

  static Status invalid_input(std::string message) {
    return {Code::kInvalidInput, std::move(message)};
  }
  static Status not_found(std::string message) { return {Code::kNotFound, std::move(message)}; }
  static Status rejected(std::string message) { return {Code::kRejected, std::move(message)}; }
  static Status unavailable(std::string message) {
    return {Code::kUnavailable, std::move(message)};
  }
  static Status corrupt(std::string message) { return {Code::kCorrupt, std::move(message)}; }
  static Status io(std::string message) { return {Code::kIo, std::move(message)}; }
  static Status internal(std::string message) { return {Code::kInternal, std::move(message)}; }
  static Status cancelled(std::string message) { return {Code::kCancelled, std::move(message)}; }
  // Prefixes "store damaged: ", the words every report of a damaged store starts with.
  static Status damaged(std::string_view message) {
    return {Code::kDamaged, "store damaged: " + std::string(message)};
  }

  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with where it happened: "where: message". No-op on OK. A kDamaged
  // message keeps its "store damaged: " first.
  Status& annotate(std::string_view where);
  // The same, for a temporary: `return s.annotated("opening x");`
  Status annotated(std::string_view where) const&;
  Status annotated(std::string_view where) &&;

  // "invalid input: message", or "ok".
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A T, or a non-OK Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result() : v_(Status::internal("result never set")) {}
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Status error) : v_(std::move(error)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<1>(v_).ok());
    if (std::get<1>(v_).ok()) v_ = Status::internal("ok status stored as an error");
  }

  bool ok() const { return v_.index() == 0; }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  Status status() const { return ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vs
