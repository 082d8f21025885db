// The supervisor console: HTTPS pages on the hub's machine, on a port of its own (never the
// sync port), served from inside visitsync-hub on the hub's own store thread, so a decision
// made in a browser is an op of the hub like one made with visitsync-admin, and syncs to
// devices the same way. README.md, "The console", says what it shows and why it is built so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/status.h>
#include <visitsync/transport/hub.h>

namespace vs {

enum class ConsoleRole : std::uint8_t {
  kSupervisor,  // sees and acts within their county, by the sync scope's rule
  kAdmin,       // sees everything, and the devices and metrics
};

struct ConsoleAccount {
  std::string name;  // 1 to 32 of A-Z a-z 0-9 _ - .
  ConsoleRole role = ConsoleRole::kSupervisor;
  std::string person;  // a supervisor's imported inspector id; "" for an administrator
};

inline constexpr std::size_t kMinPasswordBytes = 12;
inline constexpr std::size_t kMaxPasswordBytes = 256;

// Accounts, kept in the hub's local settings (never replicated), passwords hashed with scrypt.
// Adding an existing name replaces it (a new password). kInvalidInput: a bad name or password,
// or a supervisor account whose person is not an imported supervisor.
Status add_console_account(HubStore& hub, const ConsoleAccount& account, std::string_view password);
Status remove_console_account(HubStore& hub, std::string_view name);
Result<std::vector<ConsoleAccount>> console_accounts(HubStore& hub);
// A random initial password (20 characters).
std::string new_password();
// The token Prometheus sends to /metrics (Authorization: Bearer TOKEN); stored as its SHA-256;
// "" turns token access off.
inline constexpr const char* kMetricsTokenSetting = "console.metrics_token";
Status set_metrics_token(HubStore& hub, std::string_view token);

class ConsoleServer {
 public:
  // Serves on `io` with `cert_pem`/`key_pem` (TLS 1.3 only; no client certificate asked);
  // every store access goes through `hub.on_store`. kInvalidInput: unusable TLS material.
  static Result<std::unique_ptr<ConsoleServer>> create(boost::asio::io_context& io, HubServer& hub,
                                                       const std::string& cert_pem,
                                                       const std::string& key_pem);
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;
  ConsoleServer(ConsoleServer&&) = delete;
  ConsoleServer& operator=(ConsoleServer&&) = delete;

  Status listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  void start();
  // Stops accepting and closes every connection. Call on the io thread.
  void shutdown();
  std::size_t open_connections() const;

  struct Impl;

 private:
  explicit ConsoleServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vs
