// Console accounts and sign-in: passwords hashed with scrypt (OpenSSL 3), accounts kept in the
// hub's local settings (never replicated), signed-in sessions with their CSRF tokens, and the
// throttle on failed sign-ins. Sessions and the throttle live in the hub's memory: a restart
// signs everyone out and forgets failures (both fail safe).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <visitsync/transport/console.h>

namespace vs::console {

// scrypt with N = 2^15, r = 8, p = 1: 32 MiB and some 100 ms a hash, the cost OWASP's
// guidance names for interactive sign-in on one server; stored with the hash so it can rise.
inline constexpr std::uint64_t kScryptLogN = 15;
// "scrypt$LOGN$R$P$SALT$HASH" (hex).
std::string hash_password(std::string_view password);
// Whether `password` matches a hash_password() result (false for a malformed one).
bool verify_password(std::string_view password, std::string_view stored);
// 32 random bytes, as hex.
std::string random_token();
// Constant-time equality of two tokens.
bool same_token(std::string_view a, std::string_view b);

// An account with its stored hash, as find_account reads it.
struct StoredAccount {
  ConsoleAccount account;
  std::string hash;
};
Result<std::optional<StoredAccount>> find_account(HubStore& hub, std::string_view name);

inline constexpr std::chrono::minutes kSessionIdle{30};
inline constexpr std::chrono::hours kSessionMax{12};
inline constexpr std::size_t kMaxSessions = 10'000;

struct Session {
  ConsoleAccount account;
  std::string csrf;  // every form of the session carries it
  std::chrono::steady_clock::time_point created, seen;
};

// Signed-in sessions by their cookie's token. Use on one thread (the io thread).
class Sessions {
 public:
  using Clock = std::chrono::steady_clock;
  // A new session; its token (the cookie's value). The oldest goes when kMaxSessions are open.
  std::string open(const ConsoleAccount& account, Clock::time_point now);
  // The session of a token, nullptr when unknown or expired (idle for kSessionIdle, or open
  // for kSessionMax); marks it seen.
  Session* find(std::string_view token, Clock::time_point now);
  void close(std::string_view token);
  // Ends every session of an account (removed, or its password changed elsewhere).
  void close_account(std::string_view name);

 private:
  std::map<std::string, Session, std::less<>> by_token_;
};

// Failed sign-ins by key (an account name, a client address). Five failures in a row cost
// nothing; each one after them locks the key for 2^(n-5) s, at most 15 minutes, and a sign-in
// while it is locked is refused without a look at the password. A success clears the key.
class Throttle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kFree = 5;
  static constexpr std::chrono::seconds kMaxLock{900};
  static constexpr std::size_t kMaxKeys = 100'000;
  // Seconds until the key may try again; 0 now.
  std::int64_t wait_s(const std::string& key, Clock::time_point now) const;
  void failed(const std::string& key, Clock::time_point now);
  void succeeded(const std::string& key) { keys_.erase(key); }

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point locked_until;
  };
  std::map<std::string, Entry> keys_;
};

}  // namespace vs::console
