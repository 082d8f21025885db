// The supervisor console through a real HTTPS client (curl) against a real visitsync-hub: the
// security rules (sign-in, cookies, CSRF, county scope, escaping, throttling, the sync port),
// /metrics through promtool, and decisions that reach a device by sync.
#include <nlohmann/json.hpp>

#include "cdp.h"
#include "console_support.h"

namespace {

using nlohmann::json;
using namespace vs::test;

// Two co-inspectors of S00001 (代县) and a visit with a flagged class count and a note full of
// markup and Chinese, submitted and on the hub.
struct Scene {
  TempDir dir;
  HubFolder made = make_hub_folder(dir);
  std::uint16_t console_port = free_port();
  std::string boss = add_account(made, "boss", {"--admin"});
  std::string dai = add_account(made, "daixian", {"--supervisor", "I0001"});
  std::string jing = add_account(made, "jingle", {"--supervisor", "I0002"});
  std::array<std::string, 2> device;
  std::string visit;
  std::unique_ptr<BackgroundProcess> hub;

  static constexpr const char* kNote = "<script>alert(1)</script> \"onmouseover=alert(2) 教室漏水";

  Scene() {
    const char* who[2] = {"I0011", "I0021"};
    for (std::size_t i = 0; i < 2; ++i) {
      device[i] = dir.file(std::string("device-") + who[i]);
      ok("visitsync-admin", {"enroll-device", "--data", made.path, "--inspector", who[i], "--out",
                             device[i] + ".json"});
      ok("visitsync", {"init", "--data", device[i], "--enroll", device[i] + ".json"});
    }
    hub = std::make_unique<BackgroundProcess>(
        bin("visitsync-hub"),
        std::vector<std::string>{"--data", made.path, "--listen", made.address, "--console",
                                 "127.0.0.1:" + std::to_string(console_port)},
        dir.file("hub.log"));
    REQUIRE(hub->wait_for_log("listening on", std::chrono::seconds(20)));
    for (const std::string& d : device) ok("visitsync", {"sync", "--data", d});
    visit = ok("visitsync", {"visit", "start", "--data", device[0], "--school", "S00001",
                             "--template", "school-conditions"});
    const std::pair<const char*, const char*> answers[] = {{"dangerous_buildings", "none"},
                                                           {"sports_ground_surfaced", "yes"},
                                                           {"enrolled_students", "700"},
                                                           {"largest_class_size", "48"},
                                                           {"canteen_licensed", "yes"},
                                                           {"overall_rating", "4"},
                                                           {"class_count", "10"}};
    for (const auto& [item, value] : answers)
      ok("visitsync", {"visit", "set", "--data", device[0], visit, item, value});
    ok("visitsync", {"visit", "note", "--data", device[0], visit, "inspector_notes", kNote});
    ok("visitsync", {"sync", "--data", device[0]});
    ok("visitsync", {"sync", "--data", device[1]});
    ok("visitsync", {"visit", "set", "--data", device[0], visit, "class_count", "12"});
    ok("visitsync", {"visit", "set", "--data", device[1], visit, "class_count", "14"});
    for (int round = 0; round < 2; ++round)
      for (const std::string& d : device) ok("visitsync", {"sync", "--data", d});
    ok("visitsync", {"visit", "submit", "--data", device[0], visit});
    ok("visitsync", {"sync", "--data", device[0]});
  }
};

std::string hub_status(const std::string& hub, const std::string& visit) {
  for (const std::string& line :
       line_set(ok("visitsync-admin", {"export", "--data", hub, "--format", "jsonl"}))) {
    const json v = json::parse(line);
    if (v["visit_id"] == visit) return v["status"];
  }
  return "";
}

}  // namespace

TEST_CASE(
    "the console keeps to sign-in, CSRF and the county, shows markup as text, and its "
    "decisions reach devices",
    "[e2e][console]") {
  Scene s;
  WebClient stranger(s.dir, "stranger", s.console_port);
  CHECK(stranger.get("/visits").status == 303);  // to the sign-in page
  CHECK(stranger.post("/visits/" + s.visit + "/review", "decision=approve").status == 401);

  WebClient dai(s.dir, "dai", s.console_port);
  CHECK(dai.sign_in("daixian", "not-the-password").status == 401);
  const WebResult in = dai.sign_in("daixian", s.dai);
  REQUIRE(in.status == 303);
  CHECK_THAT(in.headers, Catch::Contains("vs_session="));
  CHECK_THAT(in.headers, Catch::Contains("; Secure; HttpOnly; SameSite=Strict"));
  // A sign-in form posted without its own token (a cross-site login) is refused.
  CHECK(stranger.post("/login", "name=daixian&password=" + s.dai).status == 403);

  const WebResult list = dai.get("/visits?flagged=1");
  REQUIRE(list.status == 200);
  CHECK_THAT(list.body, Catch::Contains(s.visit));
  CHECK_THAT(list.headers, Catch::Contains("Content-Security-Policy: default-src 'none'"));
  const WebResult page = dai.get("/visits/" + s.visit);
  REQUIRE(page.status == 200);
  // The note shows as text: escaped, never as markup, with its Chinese intact.
  CHECK_THAT(
      page.body,
      Catch::Contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;onmouseover=alert(2) 教室漏水"));
  CHECK_THAT(page.body, !Catch::Contains("<script>"));
  CHECK_THAT(page.body, !Catch::Contains("\"onmouseover"));
  CHECK_THAT(page.body, Catch::Contains("class_count"));  // the flag, with its two values
  const std::string csrf = WebClient::field(page.body, "csrf");
  REQUIRE(csrf.size() == 64);

  // Another county's supervisor: 403 to see it and to decide on it.
  WebClient jing(s.dir, "jing", s.console_port);
  REQUIRE(jing.sign_in("jingle", s.jing).status == 303);
  CHECK(jing.get("/visits/" + s.visit).status == 403);
  const std::string jing_csrf = WebClient::field(jing.get("/visits").body, "csrf");
  REQUIRE_FALSE(jing_csrf.empty());
  CHECK(jing.post("/visits/" + s.visit + "/review", "decision=approve&csrf=" + jing_csrf).status ==
        403);
  CHECK_THAT(jing.get("/visits").body, !Catch::Contains(s.visit));
  CHECK(jing.get("/devices").status == 403);  // an administrator's page

  // Without the CSRF token, or with another session's, a decision is refused.
  CHECK(dai.post("/visits/" + s.visit + "/review", "decision=approve").status == 403);
  CHECK(dai.post("/visits/" + s.visit + "/review", "decision=approve&csrf=" + jing_csrf).status ==
        403);
  CHECK(hub_status(s.made.path, s.visit) == "submitted");  // nothing was decided

  // Metrics: promtool accepts them, and the counters move after a sync.
  const std::string token =
      ok("visitsync-admin", {"console", "metrics-token", "--data", s.made.path});
  WebClient prom(s.dir, "prom", s.console_port);
  CHECK(prom.get("/metrics", {"-H", "Authorization: Bearer wrong"}).status == 401);
  const WebResult m1 = prom.get("/metrics", {"-H", "Authorization: Bearer " + token});
  REQUIRE(m1.status == 200);
  {
    std::ofstream(s.dir.file("m1.txt")) << m1.body;
    const RunResult check =
        run("/bin/sh", {"-c", "promtool check metrics < " + s.dir.file("m1.txt")});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
  }
  CHECK_THAT(m1.body, Catch::Contains("visitsync_open_flags 1"));
  CHECK_THAT(m1.body, Catch::Contains("visitsync_visits{status=\"submitted\"} 1"));

  // The supervisor settles the flag and returns the visit; the device sees both.
  REQUIRE(
      dai.post("/visits/" + s.visit + "/settle", "item=class_count&value=13&csrf=" + csrf).status ==
      303);
  REQUIRE(dai.post("/visits/" + s.visit + "/review",
                   "decision=return&comment=%E8%AF%B7%E8%A1%A5%E5%85%85+add+sizes&csrf=" + csrf)
              .status == 303);
  ok("visitsync", {"sync", "--data", s.device[0]});
  const json shown =
      json::parse(ok("visitsync", {"visit", "show", "--data", s.device[0], s.visit, "--json"}));
  CHECK(shown["status"] == "returned");
  CHECK(shown["answers"]["class_count"] == 13);
  CHECK(shown["reviews"][0]["comment"] == "请补充 add sizes");
  CHECK(shown["reviews"][0]["by"] == "I0001");
  const WebResult m2 = prom.get("/metrics", {"-H", "Authorization: Bearer " + token});
  auto sessions_ok = [](const std::string& body) {
    const std::string key = "visitsync_sessions_total{outcome=\"ok\"} ";
    const std::size_t at = body.find(key);
    return at == std::string::npos ? -1 : std::atoi(body.c_str() + at + key.size());
  };
  CHECK(sessions_ok(m2.body) > sessions_ok(m1.body));
  CHECK_THAT(m2.body, Catch::Contains("visitsync_open_flags 0"));

  // The sync port speaks no HTTP: neither plain nor over TLS without a device certificate.
  const RunResult plain = run("/usr/bin/curl", {"-s", "--max-time", "5", "-o", "/dev/null", "-w",
                                                "%{http_code}", "http://" + s.made.address + "/"});
  CHECK(plain.out == "000");
  const RunResult tls = run("/usr/bin/curl", {"-sk", "--max-time", "5", "-o", "/dev/null", "-w",
                                              "%{http_code}", "https://" + s.made.address + "/"});
  CHECK(tls.out == "000");

  // 100 wrong passwords in a row: after five, the account (and the address) is locked, and
  // even the right password is refused until the lock ends.
  WebClient guess(s.dir, "guess", s.console_port);
  int wrong = 0, throttled = 0;
  for (int i = 0; i < 100; ++i) {
    const int code = guess.sign_in("boss", "guess-" + std::to_string(i)).status;
    wrong += code == 401 ? 1 : 0;
    throttled += code == 429 ? 1 : 0;
  }
  CHECK(wrong <= 8);
  CHECK(throttled >= 92);
  CHECK(guess.sign_in("boss", s.boss).status == 429);
}

namespace {

// The hub certificate's public key as Chromium's --ignore-certificate-errors-spki-list wants
// it: base64 of the SHA-256 of its DER SubjectPublicKeyInfo.
std::string spki_of(const std::string& cert) {
  const RunResult r =
      run("/bin/sh", {"-c", "openssl x509 -in '" + cert +
                                "' -pubkey -noout | openssl pkey -pubin -outform der"
                                " | openssl dgst -sha256 -binary | base64"});
  REQUIRE(r.exit_code == 0);
  std::string s = r.out;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

TEST_CASE(
    "the console in Chromium: a supervisor signs in, filters, opens a visit, settles a flag, "
    "returns the visit, and the device syncs and shows both",
    "[e2e][console][browser]") {
  Scene s;
  const std::string shots = VS_SCREENSHOT_DIR;
  REQUIRE(run("/bin/mkdir", {"-p", shots}).exit_code == 0);
  Chromium browser(s.dir.file("profile"), spki_of(s.made.path + "/tls/hub.pem"),
                   s.dir.file("chromium.log"));
  INFO("chromium log: " << s.dir.file("chromium.log"));
  REQUIRE(browser.ready());
  const std::string base = "https://127.0.0.1:" + std::to_string(s.console_port);
  auto shot = [&](const std::string& name) { browser.screenshot(shots + "/" + name + ".png"); };
  auto fill_and_submit = [&](const std::string& name, const std::string& password) {
    browser.eval("document.querySelector('input[name=name]').value = '" + name +
                 "';"
                 "document.querySelector('input[name=password]').value = '" +
                 password +
                 "';"
                 "document.querySelector('#login button').click(); true");
  };

  browser.navigate(base + "/visits");  // not signed in: the sign-in page
  REQUIRE(browser.wait_for("location.pathname === '/login'"));
  fill_and_submit("daixian", "wrong-password-here");
  REQUIRE(browser.wait_for("document.querySelector('#message') !== null"));
  CHECK(browser.eval("document.querySelector('#message').textContent") ==
        "wrong account name or password");
  shot("console-login-wrong");
  fill_and_submit("daixian", s.dai);
  REQUIRE(browser.wait_for("location.pathname === '/'"));
  shot("console-dashboard");
  CHECK(browser.eval("document.querySelector('#open-flags b').textContent") == "1");

  browser.navigate(base + "/visits");
  browser.eval(
      "document.querySelector('select[name=status]').value = 'submitted';"
      "document.querySelector('input[name=flagged]').checked = true;"
      "document.querySelector('#filter').click(); true");
  REQUIRE(browser.wait_for("location.search.includes('status=submitted')"));
  shot("console-visits-filtered");
  CHECK(browser.eval("document.querySelector('#count').textContent")
            .get<std::string>()
            .rfind("1 ", 0) == 0);
  browser.eval("document.querySelector('#visits a[href^=\"/visits/\"]').click(); true");
  REQUIRE(browser.wait_for("location.pathname === '/visits/" + s.visit + "'"));
  shot("console-visit");
  // The note is text on the page, not markup: no script element came of it.
  CHECK(browser.eval("document.querySelectorAll('script').length") == 0);
  CHECK_THAT(browser.eval("document.body.innerText").get<std::string>(),
             Catch::Contains("<script>alert(1)</script>"));

  // Keep the co-inspector's 14: the button beside it in the flag's table.
  browser.eval(
      "[...document.querySelectorAll('#flags form')].find(f => "
      "f.querySelector('input[name=value]').value === '14').querySelector('button').click(); true");
  REQUIRE(browser.wait_for("document.querySelector('#flags') === null"));
  shot("console-visit-settled");
  browser.eval(
      "document.querySelector('textarea[name=comment]').value = '请补充班额 add class sizes';"
      "document.querySelector('#return').click(); true");
  REQUIRE(browser.wait_for("document.querySelector('#status').textContent === 'returned'"));
  shot("console-visit-returned");

  ok("visitsync", {"sync", "--data", s.device[1]});
  const json shown =
      json::parse(ok("visitsync", {"visit", "show", "--data", s.device[1], s.visit, "--json"}));
  CHECK(shown["status"] == "returned");
  CHECK(shown["answers"]["class_count"] == 14);
  CHECK(shown["reviews"][0]["comment"] == "请补充班额 add class sizes");
  CHECK(shown["conflicts"].empty());
}
