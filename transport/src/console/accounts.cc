#include "console/accounts.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <visitsync/hub_store.h>
#include <visitsync/photos.h>

namespace vs::console {
namespace {

constexpr std::string_view kAccountPrefix = "console.account/";
constexpr std::uint64_t kScryptR = 8;
constexpr std::uint64_t kScryptP = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::uint64_t kScryptMaxMem = 256ull << 20;

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

std::optional<std::vector<unsigned char>> unhex(std::string_view s) {
  if (s.size() % 2 != 0 || s.empty()) return std::nullopt;
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    const auto d = [](char c) {
      return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    const int hi = d(s[i]);
    const int lo = d(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return out;
}

bool scrypt(std::string_view password, const unsigned char* salt, std::size_t salt_n,
            std::uint64_t log_n, std::uint64_t r, std::uint64_t p, unsigned char* out) {
  return EVP_PBE_scrypt(password.data(), password.size(), salt, salt_n, std::uint64_t{1} << log_n,
                        r, p, kScryptMaxMem, out, kHashBytes) == 1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  });
}

// The setting's value: "ROLE PERSON HASH" (PERSON "-" for an administrator).
std::string encode_account(const ConsoleAccount& a, std::string_view hash) {
  return std::string(a.role == ConsoleRole::kAdmin ? "admin" : "supervisor") + " " +
         (a.person.empty() ? "-" : a.person) + " " + std::string(hash);
}

std::optional<StoredAccount> decode_account(std::string_view name, std::string_view value) {
  const std::vector<std::string_view> parts = split(value, ' ');
  if (parts.size() != 3 || (parts[0] != "admin" && parts[0] != "supervisor")) return std::nullopt;
  StoredAccount s;
  s.account.name = std::string(name);
  s.account.role = parts[0] == "admin" ? ConsoleRole::kAdmin : ConsoleRole::kSupervisor;
  s.account.person = parts[1] == "-" ? "" : std::string(parts[1]);
  s.hash = std::string(parts[2]);
  return s;
}

}  // namespace

std::string hash_password(std::string_view password) {
  std::array<unsigned char, kSaltBytes> salt{};
  std::array<unsigned char, kHashBytes> out{};
  if (RAND_bytes(salt.data(), salt.size()) != 1 ||
      !scrypt(password, salt.data(), salt.size(), kScryptLogN, kScryptR, kScryptP, out.data())) {
    return "";
  }
  return "scrypt$" + std::to_string(kScryptLogN) + "$" + std::to_string(kScryptR) + "$" +
         std::to_string(kScryptP) + "$" + hex(salt.data(), salt.size()) + "$" +
         hex(out.data(), out.size());
}

bool verify_password(std::string_view password, std::string_view stored) {
  const std::vector<std::string_view> f = split(stored, '$');
  if (f.size() != 6 || f[0] != "scrypt") return false;
  std::uint64_t nums[3] = {};
  for (int i = 0; i < 3; ++i) {
    const std::string_view d = f[static_cast<std::size_t>(i) + 1];
    if (d.empty() || d.size() > 2 || !std::all_of(d.begin(), d.end(), ::isdigit)) return false;
    nums[i] = std::stoull(std::string(d));
  }
  // Parameters a hash of ours could hold: a stored value is never trusted to cost more.
  if (nums[0] < 10 || nums[0] > 20 || nums[1] < 1 || nums[1] > 16 || nums[2] != 1) return false;
  const auto salt = unhex(f[4]);
  const auto want = unhex(f[5]);
  if (!salt || !want || want->size() != kHashBytes) return false;
  std::array<unsigned char, kHashBytes> got{};
  if (!scrypt(password, salt->data(), salt->size(), nums[0], nums[1], nums[2], got.data()))
    return false;
  return CRYPTO_memcmp(got.data(), want->data(), kHashBytes) == 0;
}

std::string random_token() {
  std::array<unsigned char, 32> b{};
  if (RAND_bytes(b.data(), b.size()) != 1) return "";
  return hex(b.data(), b.size());
}

bool same_token(std::string_view a, std::string_view b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::optional<StoredAccount>> find_account(HubStore& hub, std::string_view name) {
  if (!valid_name(name)) return std::optional<StoredAccount>();
  Result<std::string> v = hub.engine().setting(std::string(kAccountPrefix) + std::string(name));
  if (!v.ok()) return v.status();
  if (v->empty()) return std::optional<StoredAccount>();
  return decode_account(name, v.value());
}

std::string Sessions::open(const ConsoleAccount& account, Clock::time_point now) {
  if (by_token_.size() >= kMaxSessions) {
    auto oldest = std::min_element(by_token_.begin(), by_token_.end(), [](auto& a, auto& b) {
      return a.second.created < b.second.created;
    });
    by_token_.erase(oldest);
  }
  std::string token = random_token();
  by_token_[token] = Session{account, random_token(), now, now};
  return token;
}

Session* Sessions::find(std::string_view token, Clock::time_point now) {
  const auto it = by_token_.find(token);
  if (it == by_token_.end()) return nullptr;
  Session& s = it->second;
  if (now - s.seen > kSessionIdle || now - s.created > kSessionMax) {
    by_token_.erase(it);
    return nullptr;
  }
  s.seen = now;
  return &s;
}

void Sessions::close(std::string_view token) {
  if (auto it = by_token_.find(token); it != by_token_.end()) by_token_.erase(it);
}

void Sessions::close_account(std::string_view name) {
  for (auto it = by_token_.begin(); it != by_token_.end();) {
    it = it->second.account.name == name ? by_token_.erase(it) : std::next(it);
  }
}

std::int64_t Throttle::wait_s(const std::string& key, Clock::time_point now) const {
  const auto it = keys_.find(key);
  if (it == keys_.end() || it->second.locked_until <= now) return 0;
  return std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now).count();
}

void Throttle::failed(const std::string& key, Clock::time_point now) {
  if (keys_.size() >= kMaxKeys && keys_.count(key) == 0) keys_.erase(keys_.begin());
  Entry& e = keys_[key];
  ++e.failures;
  if (e.failures <= kFree) return;
  const int over = std::min(e.failures - kFree - 1, 10);
  e.locked_until = now + std::min<std::chrono::seconds>(std::chrono::seconds(1 << over), kMaxLock);
}

}  // namespace vs::console

namespace vs {

Status add_console_account(HubStore& hub, const ConsoleAccount& account,
                           std::string_view password) {
  if (!console::valid_name(account.name))
    return Status::invalid_input("account name '" + account.name +
                                 "': 1 to 32 of A-Z a-z 0-9 _ - .");
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes)
    return Status::invalid_input("a password must be 12 to 256 bytes");
  if (account.role == ConsoleRole::kSupervisor) {
    Result<Inspector> who = hub.inspection().inspector(account.person);
    if (!who.ok()) return who.status().annotated("account " + account.name);
    if (who->role != Role::kSupervisor)
      return Status::invalid_input(account.person + " is an inspector, not a supervisor");
  }
  const std::string hash = console::hash_password(password);
  if (hash.empty()) return Status::internal("scrypt failed");
  return hub.engine().set_setting(std::string(console::kAccountPrefix) + account.name,
                                  console::encode_account(account, hash));
}

Status remove_console_account(HubStore& hub, std::string_view name) {
  Result<std::optional<console::StoredAccount>> a = console::find_account(hub, name);
  if (!a.ok()) return a.status();
  if (!a.value()) return Status::not_found("no console account '" + std::string(name) + "'");
  return hub.engine().set_setting(std::string(console::kAccountPrefix) + std::string(name), "");
}

Result<std::vector<ConsoleAccount>> console_accounts(HubStore& hub) {
  Result<std::vector<std::pair<std::string, std::string>>> all =
      hub.engine().settings_with_prefix(console::kAccountPrefix);
  if (!all.ok()) return all.status();
  std::vector<ConsoleAccount> out;
  for (const auto& [key, value] : all.value()) {
    if (auto a = console::decode_account(
            std::string_view(key).substr(console::kAccountPrefix.size()), value))
      out.push_back(a->account);
  }
  return out;
}

std::string new_password() {
  // 20 characters of an alphabet without look-alikes: about 100 bits.
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";
  std::array<unsigned char, 20> b{};
  if (RAND_bytes(b.data(), b.size()) != 1) return "";
  std::string out;
  for (const unsigned char c : b) out += kAlphabet[c % (sizeof kAlphabet - 1)];
  return out;
}

Status set_metrics_token(HubStore& hub, std::string_view token) {
  return hub.engine().set_setting(kMetricsTokenSetting, token.empty() ? "" : sha256_hex(token));
}

}  // namespace vs
