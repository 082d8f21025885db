// The sessions bench's load generator: many device sessions at once, cheaply, so that the bench
// measures the hub rather than its devices. Everything a device will send is made before the
// clock starts (its hello, its pushes batched as the real device batches them, its TLS
// context); during the run a session is a coroutine on one of a few threads that connects,
// does the TLS 1.3 handshake with the device's certificate, sends those frames in the real
// device's order (hello; pushes, kPushWindow in flight; pull requests until the hub has no
// more; bye) and decodes of the answers only what the protocol needs (acks, cursors, op
// counts). No device store is open: pulled ops are counted, not applied.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include <visitsync/engine.h>
#include <visitsync/transport/client.h>

#include "wire/frame.h"
#include "wire/messages.h"

namespace vs::bench {

// One device's session, ready to run.
struct PreparedDevice {
  wire::Hello hello;                // its device_clock is stamped when the session starts
  std::vector<wire::Frame> pushes;  // every unacknowledged op, in pushes
  std::vector<std::uint64_t> ends;  // the last seq of each push: what its ack must say
  std::unique_ptr<boost::asio::ssl::context> tls;
  std::string host;  // the hub, as enrolled
  std::uint16_t port = 0;
};

// Reads the device's own ops out of its engine and makes its frames; the engine may be closed
// afterwards.
Result<PreparedDevice> prepare_device(Engine& engine, const Enrollment& e);

struct SessionOutcome {
  bool ok = false;
  double ms = 0;             // from the connect to the bye sent
  std::uint64_t pushed = 0;  // ops the hub acknowledged
  std::uint64_t pulled = 0;  // ops the pulls brought
  std::string error;         // why it failed
};

struct LoadOptions {
  std::size_t concurrency = 256;              // sessions in flight at once
  int threads = 2;                            // each runs one io_context
  std::chrono::milliseconds timeout{60'000};  // the connect, the handshake, each frame
  // Only the connect and the TLS handshake, then a close: what the handshakes alone allow.
  bool handshake_only = false;
};

// Runs each device's session once, at most `concurrency` at a time (the next starts as one
// ends). Returns one outcome per device, in order.
std::vector<SessionOutcome> run_load(std::span<const PreparedDevice> devices, const LoadOptions& o);

}  // namespace vs::bench
