// A hub serving on 127.0.0.1 from its own io thread, for the tests that talk to it over real
// TLS 1.3 (net_test.cc, hub_flood_test.cc, hub_queue_test.cc), and a TLS client made by hand.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <visitsync/photos.h>
#include <visitsync/transport/hub.h>

#include "hub_fixture.h"
#include "tls/context.h"
#include "wire/frame.h"
#include "wire/messages.h"

namespace vs::test {

// A deployment with its hub serving on 127.0.0.1, an io thread of its own.
struct LiveHub : Deployment {
  boost::asio::io_context io;
  std::unique_ptr<HubServer> server;
  std::unique_ptr<HubStore> admin_store = admin();  // what visitsync-admin would open
  std::thread thread;
  std::mutex mu;
  std::vector<std::string> lines;

  // `host`: the name or address devices are enrolled with (the hub's certificate names it);
  // `stall`, when given: the hub's handshake, idle and write timeouts; `tune`, when given,
  // changes any other option.
  explicit LiveHub(const std::string& host = "127.0.0.1",
                   std::chrono::milliseconds stall = std::chrono::milliseconds(0),
                   const std::function<void(HubOptions&)>& tune = nullptr)
      : Deployment(host) {
    HubOptions o;
    o.hub_id = "hub-test";
    o.idle_timeout = std::chrono::milliseconds(3000);
    if (stall.count() > 0) o.handshake_timeout = o.idle_timeout = o.write_timeout = stall;
    if (tune) tune(o);
    o.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(line);
    };
    Result<std::unique_ptr<HubServer>> s =
        HubServer::create(io, *store, tls.ca_pem, tls.cert_pem, tls.key_pem, o);
    REQUIRE(s.ok());
    server = std::move(s.value());
    REQUIRE(server->listen("127.0.0.1", 0).ok());
    set_port(server->port());
    server->start();
    thread = std::thread([this] { io.run(); });
  }
  ~LiveHub() {
    boost::asio::post(io, [this] { server->shutdown(); });
    for (int i = 0; i < 500 && !io.stopped(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    io.stop();
    thread.join();
  }
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;
  LiveHub(LiveHub&&) = delete;
  LiveHub& operator=(LiveHub&&) = delete;

  TestDevice enrolled(const std::string& inspector) { return device(inspector, admin_store.get()); }
  std::vector<std::string> log_lines() {
    std::lock_guard<std::mutex> lock(mu);
    return lines;
  }
  // Waits (at most 10 s) for a log line that contains `text`.
  bool logged(const std::string& text) {
    for (int i = 0; i < 1000; ++i) {
      for (const std::string& line : log_lines()) {
        if (line.find(text) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // The server's load, read on its io thread.
  HubLoad load() {
    std::promise<HubLoad> p;
    std::future<HubLoad> f = p.get_future();
    boost::asio::post(io, [&] { p.set_value(server->load()); });
    REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return f.get();
  }
  // Polls load() until `done` holds of it, for at most `limit`; returns whether it did.
  bool load_reaches(const std::function<bool(const HubLoad&)>& done,
                    std::chrono::milliseconds limit = std::chrono::milliseconds(10'000)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done(load())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done(load());
  }
  Result<SyncReport> sync(TestDevice& d, std::uint16_t port = 0) {
    Enrollment e = d.enrollment;
    if (port != 0) e.hub_port = port;
    SyncOptions o;
    o.connect_timeout = o.handshake_timeout = o.io_timeout = std::chrono::milliseconds(5000);
    o.push_batch_ops = 60;
    o.pull_batch_ops = 50;
    o.photos_dir = photo_folder(d.in->data_dir());
    return sync_with_hub(d.engine(), e, o);
  }
};

// A TLS connection made by hand, for what sync_with_hub never does.
struct RawClient {
  boost::asio::io_context io;
  std::unique_ptr<boost::asio::ssl::context> ctx;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> stream;

  RawClient() = default;
  // With a device's own certificate, as its sync would present it.
  explicit RawClient(const Enrollment& e) {
    Result<std::unique_ptr<boost::asio::ssl::context>> c =
        tls::client_context(e.ca_pem, tls::Credentials{e.cert_pem, e.key_pem});
    REQUIRE(c.ok());
    ctx = std::move(c.value());
  }
  boost::system::error_code connect(std::uint16_t port) {
    namespace asio = boost::asio;
    stream = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io, *ctx);
    boost::system::error_code ec;
    stream->next_layer().connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                 ec);
    if (ec) return ec;
    stream->handshake(asio::ssl::stream_base::client, ec);
    return ec;
  }
  void send(const wire::Frame& f) {
    std::string bytes;
    wire::append_frame(bytes, f);
    boost::asio::write(*stream, boost::asio::buffer(bytes));
  }
  // The next frame from the hub (blocking; the hub's own deadlines bound the wait).
  Result<wire::Frame> receive() {
    char header[wire::kFrameHeaderBytes];
    boost::system::error_code ec;
    boost::asio::read(*stream, boost::asio::buffer(header), ec);
    if (ec) return Status::unavailable("reading a header: " + ec.message());
    Result<std::size_t> n = wire::body_length(std::string_view(header, sizeof header));
    if (!n.ok()) return n.status();
    std::string body(n.value(), '\0');
    boost::asio::read(*stream, boost::asio::buffer(body), ec);
    if (ec) return Status::unavailable("reading a body: " + ec.message());
    return wire::frame_from_body(body);
  }
  // Sends the device's hello and waits for the welcome: the session is then under way.
  void hello(const Enrollment& e, std::uint64_t last_seq = 0) {
    wire::Hello h;
    h.device_id = e.device_id;
    h.last_seq = last_seq;
    send(wire::encode(h));
    Result<wire::Frame> w = receive();
    REQUIRE(w.ok());
    REQUIRE(w->type == wire::MsgType::kWelcome);
  }
};

}  // namespace vs::test
