// ConsoleServer (visitsync/transport/console.h): routes each request through sign-in, the
// CSRF check and the role rules, then runs its page on the hub's store thread.
#include <functional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <visitsync/transport/console.h>

#include "console/accounts.h"
#include "console/html.h"
#include "console/http.h"
#include "console/pages.h"
#include "console/visit_index.h"
#include "tls/context.h"

namespace vs {

namespace asio = boost::asio;
using console::Request;
using console::Response;

struct ConsoleServer::Impl {
  Impl(asio::io_context& io_in, HubServer& hub_in) : io(io_in), hub(hub_in) {}
  asio::awaitable<Response> handle(Request& r);
  asio::awaitable<Response> sign_in(Request& r);
  asio::awaitable<Response> metrics_by_token(Request& r);
  asio::awaitable<Response> on_page(Request& r, const console::Session& s);

  asio::io_context& io;
  HubServer& hub;
  std::unique_ptr<console::HttpServer> http;
  console::Sessions sessions;
  console::Throttle throttle;
  console::VisitIndex index;  // used on the store thread only
  asio::thread_pool kdf{1};   // scrypt, off the io and store threads
  std::string dummy_hash;     // checked for an unknown name, so it costs the same
};

namespace {

// HubServer::on_store as an awaitable: resumes on the io thread with the work's status.
asio::awaitable<Status> on_store(HubServer& hub, std::function<Status(HubStore&)> work) {
  auto start = [&hub, &work](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    hub.on_store(std::move(work), [h](Status s) { (*h)(std::move(s)); });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
      start, asio::use_awaitable);
}

constexpr const char* kSessionCookie = "vs_session";
constexpr const char* kLoginCookie = "vs_login";

std::string cookie(const std::string& name, const std::string& value, const char* path,
                   int max_age) {
  return name + "=" + value + "; Path=" + path + "; Max-Age=" + std::to_string(max_age) +
         "; Secure; HttpOnly; SameSite=Strict";
}

// The sign-in form, whose hidden token must match its cookie when posted (no cross-site
// sign-in). A browser that holds the cookie keeps it: its other requests (a favicon, a second
// tab) must not turn the form it shows stale.
Response login_page(const Request& req, int status, const std::string& message) {
  const auto held = req.cookies.find(kLoginCookie);
  const std::string token = held != req.cookies.end() && held->second.size() == 64
                                ? held->second
                                : console::random_token();
  Response r;
  r.status = status;
  r.headers.emplace_back("Set-Cookie", cookie(kLoginCookie, token, "/login", 3600));
  std::string body;
  if (!message.empty())
    body += "<p class=\"error\" id=\"message\">" + console::esc(message) + "</p>";
  body +=
      "<form method=\"post\" action=\"/login\" id=\"login\"><input type=\"hidden\" "
      "name=\"login\" value=\"" +
      token +
      "\"><p><label>账号 Account<br><input name=\"name\" "
      "autocomplete=\"username\" required></label></p><p><label>密码 Password<br><input "
      "name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
      "</label></p><button type=\"submit\">登录 Sign in</button></form>";
  r.body = console::page("登录 Sign in", nullptr, body);
  return r;
}

bool starts(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

Response busy(const Status& s) {
  Response r = Response::text(503, s.message() + "\n");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

// The page a request names, run on the store thread.
Response route(console::Ctx& c, const HubCounters& counters, const std::string& path, bool post) {
  const auto only = [&](bool want_post) {
    return post != want_post ? console::error_page(405, "not with this method", &c.session)
                             : Response{0, "", "", {}};
  };
  if (path == "/" || path == "/visits" || path == "/schools" || path == "/inspectors" ||
      path == "/devices" || path == "/exports" || path == "/export" || path == "/metrics") {
    if (Response r = only(false); r.status != 0) return r;
    if ((path == "/devices" || path == "/metrics") && !c.admin())
      return console::error_page(403, "only an administrator sees this page", &c.session);
    if (path == "/") return console::dashboard_page(c);
    if (path == "/visits") return console::visits_page(c);
    if (path == "/schools") return console::schools_page(c);
    if (path == "/inspectors") return console::inspectors_page(c);
    if (path == "/devices") return console::devices_page(c, counters);
    if (path == "/exports") return console::exports_page(c);
    if (path == "/export") return console::export_file(c);
    return Response{0, "", "", {}};  // /metrics: the caller makes it
  }
  if (starts(path, "/visits/")) {
    const std::string rest = path.substr(8);
    const std::size_t slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (action.empty()) {
      if (Response r = only(false); r.status != 0) return r;
      return console::visit_page(c, id);
    }
    if (action == "review" || action == "settle") {
      if (Response r = only(true); r.status != 0) return r;
      return action == "review" ? console::review_action(c, id) : console::settle_action(c, id);
    }
    if (starts(action, "photos/")) {
      if (Response r = only(false); r.status != 0) return r;
      return console::photo_file(c, id, action.substr(7));
    }
  }
  return console::error_page(404, "no page " + path, &c.session);
}

}  // namespace

asio::awaitable<Response> ConsoleServer::Impl::sign_in(Request& r) {
  const auto login = r.cookies.find(kLoginCookie);
  if (login == r.cookies.end() || !console::same_token(login->second, r.field("login")))
    co_return login_page(r, 403, "the sign-in form has expired: sign in again");
  const std::string name = r.field("name").substr(0, 64);
  const std::string password = r.field("password");
  const auto now = std::chrono::steady_clock::now();
  const std::string by_name = "a:" + name;
  const std::string by_peer = "p:" + r.peer;
  const std::int64_t wait = std::max(throttle.wait_s(by_name, now), throttle.wait_s(by_peer, now));
  if (wait > 0) {
    Response t =
        login_page(r, 429, "too many failed sign-ins: try again in " + std::to_string(wait) + " s");
    t.headers.emplace_back("Retry-After", std::to_string(wait));
    co_return t;
  }
  auto found = std::make_shared<std::optional<console::StoredAccount>>();
  // Every lambda handed across a co_await is named first: GCC 12 frees a temporary one twice
  // (as hub_server.cc says).
  std::function<Status(HubStore&)> look = [found, name](HubStore& store) -> Status {
    Result<std::optional<console::StoredAccount>> a = console::find_account(store, name);
    if (!a.ok()) return a.status();
    *found = std::move(a.value());
    return Status();
  };
  Status s = co_await on_store(hub, std::move(look));
  if (!s.ok()) co_return busy(s);
  const std::string hash = *found ? (*found)->hash : dummy_hash;
  const bool fits = password.size() <= kMaxPasswordBytes;
  auto check = [&]() -> asio::awaitable<bool> {
    co_return fits&& console::verify_password(password, hash);
  };
  const bool good = co_await asio::co_spawn(kdf, check, asio::use_awaitable);
  if (!good || !*found) {
    throttle.failed(by_name, now);
    throttle.failed(by_peer, now);
    co_return login_page(r, 401, "wrong account name or password");
  }
  throttle.succeeded(by_name);
  throttle.succeeded(by_peer);
  Response ok = Response::redirect("/");
  ok.headers.emplace_back(
      "Set-Cookie", cookie(kSessionCookie, sessions.open((*found)->account, now), "/",
                           static_cast<int>(std::chrono::seconds(console::kSessionMax).count())));
  ok.headers.emplace_back("Set-Cookie", cookie(kLoginCookie, "", "/login", 0));
  co_return ok;
}

asio::awaitable<Response> ConsoleServer::Impl::metrics_by_token(Request& r) {
  const std::string token = r.authorization.substr(7);
  const HubCounters counters = hub.counters();
  const HubLoad load = hub.load();
  auto out = std::make_shared<Response>();
  std::function<Status(HubStore&)> work = [this, out, token, counters,
                                           load](HubStore& store) -> Status {
    Result<std::string> want = store.engine().setting(kMetricsTokenSetting);
    if (!want.ok()) return want.status();
    if (want->empty() || !console::same_token(sha256_hex(token), want.value())) {
      *out = Response::text(401, "a wrong or unset metrics token\n");
      return Status();
    }
    if (Status st = index.refresh(store); !st.ok()) return st;
    *out = Response::text(200, console::metrics_text(counters, load, index));
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return Status();
  };
  Status s = co_await on_store(hub, std::move(work));
  if (!s.ok()) co_return busy(s);
  co_return std::move(*out);
}

asio::awaitable<Response> ConsoleServer::Impl::on_page(Request& r, const console::Session& s) {
  const HubCounters counters = hub.counters();
  const HubLoad load = hub.load();
  auto out = std::make_shared<Response>();
  // Copies: the session map and the request belong to the io thread.
  auto session = std::make_shared<console::Session>(s);
  auto req = std::make_shared<Request>(r);
  std::function<Status(HubStore&)> work = [this, out, session, req, counters,
                                           load](HubStore& store) -> Status {
    if (Status e = index.refresh(store); !e.ok()) return e;
    console::Ctx c{store, index, *session, *req, std::nullopt};
    if (!c.admin()) {
      Result<std::vector<std::string>> schools = store.schools_of(session->account.person);
      if (!schools.ok()) return schools.status();
      c.schools.emplace(schools->begin(), schools->end());
    }
    *out = route(c, counters, req->path, req->method == "POST");
    if (out->status == 0) {  // /metrics, for an administrator signed in
      *out = Response::text(200, console::metrics_text(counters, load, index));
    }
    return Status();
  };
  Status st = co_await on_store(hub, std::move(work));
  if (!st.ok())
    co_return st.code() == Code::kUnavailable ? busy(st)
                                              : console::error_page(500, st.to_string(), &s);
  co_return std::move(*out);
}

asio::awaitable<Response> ConsoleServer::Impl::handle(Request& r) {
  try {
    if (r.path == "/style.css") {
      Response css = Response::text(200, console::kStyleSheet);
      css.content_type = "text/css; charset=utf-8";
      co_return css;
    }
    // co_await is kept out of conditional expressions: GCC 12 miscompiles it there.
    if (r.path == "/login" && r.method == "POST") co_return co_await sign_in(r);
    if (r.path == "/login") co_return login_page(r, 200, "");
    if (r.path == "/favicon.ico") co_return Response::text(404, "no icon\n");
    if (r.path == "/metrics" && starts(r.authorization, "Bearer "))
      co_return co_await metrics_by_token(r);
    const auto c = r.cookies.find(kSessionCookie);
    console::Session* s =
        c == r.cookies.end() ? nullptr : sessions.find(c->second, std::chrono::steady_clock::now());
    if (s == nullptr) {
      if (r.method == "GET") co_return Response::redirect("/login");
      co_return console::error_page(401, "sign in first", nullptr);
    }
    if (r.method == "POST" && !console::same_token(r.field("csrf"), s->csrf))
      co_return console::error_page(
          403, "the form's CSRF token is missing or wrong: reload the page", s);
    if (r.path == "/logout") {
      if (r.method != "POST") co_return console::error_page(405, "sign out with the button", s);
      sessions.close(c->second);
      Response out = Response::redirect("/login");
      out.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, "", "/", 0));
      co_return out;
    }
    co_return co_await on_page(r, *s);
  } catch (const std::exception& e) {
    co_return Response::text(500, std::string("internal error: ") + e.what() + "\n");
  }
}

ConsoleServer::ConsoleServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConsoleServer::~ConsoleServer() { impl_->kdf.join(); }

Result<std::unique_ptr<ConsoleServer>> ConsoleServer::create(asio::io_context& io, HubServer& hub,
                                                             const std::string& cert_pem,
                                                             const std::string& key_pem) {
  Result<std::unique_ptr<asio::ssl::context>> ctx =
      tls::web_context(tls::Credentials{cert_pem, key_pem});
  if (!ctx.ok()) return ctx.status();
  auto impl = std::make_unique<Impl>(io, hub);
  impl->dummy_hash = console::hash_password(console::random_token());
  Impl* im = impl.get();
  impl->http = std::make_unique<console::HttpServer>(io, std::move(ctx.value()),
                                                     [im](Request& r) { return im->handle(r); });
  return std::unique_ptr<ConsoleServer>(new ConsoleServer(std::move(impl)));
}

Status ConsoleServer::listen(const std::string& host, std::uint16_t port) {
  return impl_->http->listen(host, port);
}
std::uint16_t ConsoleServer::port() const { return impl_->http->port(); }
void ConsoleServer::start() { impl_->http->start(); }
void ConsoleServer::shutdown() { impl_->http->shutdown(); }
std::size_t ConsoleServer::open_connections() const { return impl_->http->open(); }

}  // namespace vs
