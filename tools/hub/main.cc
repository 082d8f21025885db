// visitsync-hub --data DIR --listen HOST:PORT [--console HOST:PORT]: serves devices (and the
// supervisor console, on its own port) until SIGTERM or SIGINT, then ends every session cleanly
// and exits 0. Prints "listening on HOST:PORT" once it accepts (and "console on https://..."
// before it), then one line per session.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <functional>
#include <optional>
#include <signal.h>
#include <string>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/transport/console.h>
#include <visitsync/transport/deployment.h>
#include <visitsync/transport/hub.h>

#include "args.h"

namespace {

constexpr const char* kTool = "visitsync-hub";

void log_line(const std::string& line) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::printf("%s %s\n", stamp, line.c_str());
  std::fflush(stdout);
}

// Every handshake and session slot is a file descriptor: asks for them all, plus the store's
// files (Debian's soft limit is 1,024, its hard limit far higher). Says so when the hard limit
// is lower, since connections past it then fail to be accepted at all.
void allow_open_files(const vs::HubOptions& o) {
  const rlim_t want = static_cast<rlim_t>(o.max_handshakes + o.max_sessions + 256);
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < want) {
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) (void)getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < want) {
    log_line("warning: open files limited to " + std::to_string(lim.rlim_cur) + ", below the " +
             std::to_string(want) + " the hub's connection limits need");
  }
}

int usage(FILE* to) {
  std::fprintf(to,
               "usage: visitsync-hub --data DIR --listen HOST:PORT [--console HOST:PORT\n"
               "                     [--console-cert FILE --console-key FILE]]\n"
               "  Serves the devices of the deployment in DIR (made by visitsync-admin init) over\n"
               "  TLS 1.3 with client certificates. PORT 0 picks a free port. SIGTERM or SIGINT\n"
               "  end every session cleanly; acknowledged data is always on disk. Refuses to\n"
               "  start (exit 2) while DIR/tls holds the deployment CA's private key.\n"
               "  --console serves the supervisor console over HTTPS on that address (never the\n"
               "  sync port), with the hub's certificate unless --console-cert and --console-key\n"
               "  name another (PEM files). Accounts: visitsync-admin console.\n");
  return to == stdout ? 0 : 2;
}

int run(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  vs::Result<vs::cli::Args> parsed =
      vs::cli::Args::parse(args, {"data", "listen", "console", "console-cert", "console-key"}, {});
  if (!parsed.ok()) return vs::cli::fail(kTool, parsed.status());
  const vs::cli::Args& a = parsed.value();
  if (a.has("help")) return usage(stdout);
  vs::Result<std::string> dir = a.need("data");
  vs::Result<std::string> listen = a.need("listen");
  if (!dir.ok()) return vs::cli::fail(kTool, dir.status());
  if (!listen.ok()) return vs::cli::fail(kTool, listen.status());
  if (vs::Status s = a.expect(0, "no arguments"); !s.ok()) return vs::cli::fail(kTool, s);
  vs::Result<std::pair<std::string, std::uint16_t>> hp = vs::parse_host_port(listen.value());
  if (!hp.ok()) return vs::cli::fail(kTool, hp.status().annotated("--listen"));
  std::optional<std::pair<std::string, std::uint16_t>> console_at;
  if (auto c = a.get("console")) {
    vs::Result<std::pair<std::string, std::uint16_t>> chp = vs::parse_host_port(*c);
    if (!chp.ok()) return vs::cli::fail(kTool, chp.status().annotated("--console"));
    if (chp.value() == hp.value() && hp->second != 0)
      return vs::cli::fail(
          kTool, vs::Status::invalid_input("--console must not be the sync address: the console "
                                           "never shares the port devices sync on"));
    console_at = chp.value();
  }
  if (a.has("console-cert") != a.has("console-key") || (a.has("console-cert") && !console_at)) {
    return vs::cli::fail(
        kTool,
        vs::Status::invalid_input("--console-cert and --console-key go together, with --console"));
  }

  // First of all: a hub that holds the deployment CA's key puts every device at risk, so it
  // does not start, and it says how to move the key (deployment.h, check_no_ca_key).
  if (vs::Status s = vs::check_no_ca_key(dir.value()); !s.ok())
    return vs::cli::fail(kTool, s.annotated("refusing to start"));
  vs::Result<std::unique_ptr<vs::HubStore>> store = vs::HubStore::open(dir.value());
  if (!store.ok()) return vs::cli::fail(kTool, store.status());
  vs::Result<vs::HubTls> tls = vs::load_hub_tls(dir.value());
  if (!tls.ok()) return vs::cli::fail(kTool, tls.status());

  boost::asio::io_context io;
  // Before "listening on" is printed: a SIGTERM sent as soon as that line appears stops cleanly.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  vs::HubOptions options;
  options.hub_id = store.value()->engine().device_id();
  options.log = log_line;
  allow_open_files(options);
  vs::Result<std::unique_ptr<vs::HubServer>> server =
      vs::HubServer::create(io, *store.value(), tls->ca_pem, tls->cert_pem, tls->key_pem, options);
  if (!server.ok()) return vs::cli::fail(kTool, server.status());
  if (vs::Status s = server.value()->listen(hp->first, hp->second); !s.ok())
    return vs::cli::fail(kTool, s);
  std::unique_ptr<vs::ConsoleServer> console;
  if (console_at) {
    std::string cert = tls->cert_pem, key = tls->key_pem;
    if (auto f = a.get("console-cert")) {
      vs::Result<std::string> c = vs::cli::read_file(*f, 1 << 20);
      vs::Result<std::string> k = vs::cli::read_file(*a.get("console-key"), 1 << 20);
      if (!c.ok()) return vs::cli::fail(kTool, c.status().annotated("--console-cert"));
      if (!k.ok()) return vs::cli::fail(kTool, k.status().annotated("--console-key"));
      cert = c.value();
      key = k.value();
    }
    vs::Result<std::unique_ptr<vs::ConsoleServer>> made =
        vs::ConsoleServer::create(io, *server.value(), cert, key);
    if (!made.ok()) return vs::cli::fail(kTool, made.status());
    console = std::move(made.value());
    if (vs::Status s = console->listen(console_at->first, console_at->second); !s.ok())
      return vs::cli::fail(kTool, s);
    console->start();
  }
  server.value()->start();
  auto bracket = [](const std::string& h) {
    return h.find(':') != std::string::npos ? "[" + h + "]" : h;
  };
  if (console)
    log_line("console on https://" + bracket(console_at->first) + ":" +
             std::to_string(console->port()));
  const std::string host =
      hp->first.find(':') != std::string::npos ? "[" + hp->first + "]" : hp->first;
  log_line("listening on " + host + ":" + std::to_string(server.value()->port()) + " as " +
           options.hub_id);

  boost::asio::steady_timer drain(io);
  std::chrono::steady_clock::time_point give_up;  // set when the signal comes
  // Checks every 20 ms whether the sessions have closed; 5 s after the signal the loop stops
  // anyway.
  std::function<void(const boost::system::error_code&)> check =
      [&](const boost::system::error_code& e) {
        if (e) return;
        if (server.value()->live_sessions() == 0 || std::chrono::steady_clock::now() > give_up) {
          io.stop();
          return;
        }
        drain.expires_after(std::chrono::milliseconds(20));
        drain.async_wait(check);
      };
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log_line(std::string("stopping (") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
    give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    server.value()->shutdown();
    if (console) console->shutdown();
    check({});
  });
  io.run();
  const vs::HubLoad load = server.value()->load();
  console.reset();
  server.value().reset();  // waits for the store thread's last step
  log_line("stopped: " + std::to_string(load.accepted) + " connections accepted, " +
           std::to_string(load.store_steps) + " store steps run in " +
           std::to_string(load.store_busy.count() / 1000) + " ms");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The library reports through Status; what still throws (out of memory, say) ends the
  // process with a message and exit 1, not an abort. Acknowledged data is on disk either way.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", kTool, e.what());
    return 1;
  }
}
