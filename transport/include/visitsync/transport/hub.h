// The hub's network server: TLS 1.3 with client certificates from the deployment's CA, one
// coroutine per session on the caller's io_context, every store call on one store thread
// (schema/PROTOCOL.md). Sessions end on a bye, a refusal, an error or a timeout; one line per
// session goes to the log.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/status.h>

namespace vs {

struct HubOptions {
  std::string hub_id = "hub";
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};  // no message from the device for this long
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds close_timeout{2'000};
  // Receives one line per session and notable events. Called on the io_context's thread.
  std::function<void(const std::string&)> log;
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
  // timeout to sync again).
  void start();
  // Stops accepting and ends every session with a bounded TLS close. Work already handed to
  // the store thread finishes first, so nothing acknowledged is lost. Call on the io thread.
  void shutdown();
  // Sessions currently open.
  std::size_t live_sessions() const;

  struct Impl;

 private:
  explicit HubServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vs
