// Sync with real processes on 127.0.0.1: the demo's scenario, checked on the exports of the
// hub and all three devices; and the hub process refusing strangers while it keeps serving.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "e2e/tools.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace vs;
using nlohmann::json;

namespace {

using test::bin;
using test::HubFolder;
using test::make_hub_folder;
using test::ok;
using test::tool;

std::set<std::string> lines_of(const std::string& path) {
  return test::line_set(test::slurp(path));
}

}  // namespace

TEST_CASE("the demo's scenario ends with the same visits on the hub and all three devices",
          "[e2e][sync]") {
  test::TempDir dir;
  setenv("VS_BIN", VS_TOOLS_DIR, 1);
  test::RunResult demo = test::run(
      "/bin/bash", {VS_SOURCE_DIR "/tools/demo.sh", "--no-build", "--dir", dir.file("demo")},
      std::chrono::seconds(120));
  INFO(demo.out << "\n" << demo.err);
  REQUIRE(demo.exit_code == 0);
  CHECK_THAT(demo.out, Catch::Contains("exports identical on the hub and all 3 devices: yes"));
  CHECK_THAT(demo.out, Catch::Contains("3 visits recorded offline by 2 inspectors"));
  CHECK_THAT(demo.out, Catch::Contains("1 concurrent edit(s) flagged"));

  const std::string base = dir.file("demo") + "/export-";
  const std::set<std::string> hub = lines_of(base + "hub.jsonl");
  REQUIRE(hub.size() == 3);
  for (const char* who : {"a", "b", "s"}) {
    INFO("device " << who);
    CHECK(lines_of(base + who + ".jsonl") == hub);
    CHECK(test::slurp(base + who + ".csv") == test::slurp(base + "hub.csv"));
  }
  int returned = 0;
  int approved = 0;
  int submitted = 0;
  std::string awaiting;  // the visit still to review
  for (const std::string& line : hub) {
    const json v = json::parse(line);
    CHECK(v["school_id"] == "S00011");
    CHECK(v["conflicts"].empty());  // the flagged class count was settled
    if (v["template_id"] == "school-conditions") {
      ++returned;
      CHECK(v["status"] == "returned");
      CHECK(v["round"] == 2);
      CHECK(v["answers"]["class_count"] == 11);
      CHECK(v["answers"]["issues_found"] == json::array({"oversized_classes", "water"}));
      CHECK(v["answers"]["inspector_notes"].size() == 2);
      CHECK(v["inspectors"] == json::array({"I0011", "I0021"}));
      REQUIRE(v["reviews"].size() == 1);
      CHECK(v["reviews"][0]["decision"] == "return");
      CHECK(v["findings"].size() == 1);  // largest class 58: above 55
    } else if (v["template_id"] == "rural-support") {
      ++submitted;
      awaiting = v["visit_id"];
      CHECK(v["status"] == "submitted");
      CHECK(v["started_by"] == "I0021");
      CHECK(v["answers"]["left_behind_children"] == 37);
    } else {
      ++approved;
      CHECK(v["template_id"] == "campus-safety");
      CHECK(v["status"] == "approved");
    }
  }
  CHECK(returned == 1);
  CHECK(approved == 1);
  CHECK(submitted == 1);
  const std::string csv = test::slurp(base + "hub.csv");
  CHECK(csv.substr(0, 3) == "\xEF\xBB\xBF");
  CHECK_THAT(csv, Catch::Contains("代县峨口镇第1中学"));
  CHECK_THAT(test::slurp(dir.file("demo") + "/hub.log"), Catch::Contains("stopped"));

  // Headquarters works on the hub's store itself: nothing is flagged, and the visit still
  // awaiting review is approved there; a second decision on it is refused.
  const std::string admin = VS_TOOLS_DIR "/visitsync-admin";
  const std::string hub_dir = dir.file("demo") + "/hub";
  test::RunResult flagged = test::run(admin, {"conflicts", "--data", hub_dir, "--json"});
  INFO(flagged.err);
  REQUIRE(flagged.exit_code == 0);
  CHECK(json::parse(flagged.out).empty());
  REQUIRE_FALSE(awaiting.empty());
  test::RunResult review = test::run(admin, {"review", "--data", hub_dir, awaiting, "approve"});
  INFO(review.err);
  CHECK(review.exit_code == 0);
  test::RunResult again = test::run(admin, {"review", "--data", hub_dir, awaiting, "return"});
  CHECK(again.exit_code == 2);
  CHECK_FALSE(again.err.empty());
  test::RunResult exported = test::run(admin, {"export", "--data", hub_dir, "--format", "jsonl"});
  REQUIRE(exported.exit_code == 0);
  bool found = false;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) {
    const json v = json::parse(line);
    if (v["visit_id"] == awaiting) {
      found = true;
      CHECK(v["status"] == "approved");
    }
  }
  CHECK(found);
}

TEST_CASE("the hub process refuses strangers, keeps serving, and stops cleanly",
          "[e2e][sync][input]") {
  test::TempDir dir;
  const HubFolder made = make_hub_folder(dir);
  const std::string& hub = made.path;
  const std::uint16_t port = made.port;
  const std::string& address = made.address;
  const std::string& ref = made.reference;
  test::BackgroundProcess server(bin("visitsync-hub"), {"--data", hub, "--listen", address},
                                 dir.file("hub.log"));
  REQUIRE(server.wait_for_log("listening on", std::chrono::seconds(10)));

  auto enroll = [&](const std::string& inspector, const std::string& name) {
    const std::string file = dir.file(name + ".json");
    std::string id = ok("visitsync-admin",
                        {"enroll-device", "--data", hub, "--inspector", inspector, "--out", file});
    ok("visitsync", {"init", "--data", dir.file(name), "--enroll", file});
    return id;
  };
  const std::string good = enroll("I0011", "good");
  CHECK_THAT(ok("visitsync", {"sync", "--data", dir.file("good")}), Catch::Contains("pulled"));

  SECTION("a revoked device: exit 4 with the reason, its data intact") {
    const std::string id = enroll("I0021", "gone");
    ok("visitsync", {"sync", "--data", dir.file("gone")});
    ok("visitsync-admin", {"revoke-device", "--data", hub, id});
    test::RunResult r = tool("visitsync", {"sync", "--data", dir.file("gone")});
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.err, Catch::Contains("revoked"));
    CHECK(tool("visitsync", {"status", "--data", dir.file("gone")}).exit_code == 0);
  }
  SECTION("ops of a school whose assignment ended are refused with the reason and kept") {
    std::string visit = ok("visitsync", {"visit", "start", "--data", dir.file("good"), "--school",
                                         "S00001", "--template", "school-conditions"});
    ok("visitsync",
       {"visit", "set", "--data", dir.file("good"), visit, "enrolled_students", "412"});
    // Offline, the device does not know that headquarters ended the assignment.
    const std::string ended = dir.file("ended.csv");
    std::ofstream(ended)
        << "inspector_id,school_id,from,until\nI0011,S00001,2000-01-01,2000-01-02\n";
    ok("visitsync-admin", {"import", "--data", hub, "assignments", ended});
    test::RunResult r = tool("visitsync", {"sync", "--data", dir.file("good")});
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.out, Catch::Contains("may not write visits of school S00001"));
    CHECK_THAT(r.err, Catch::Contains("refused"));
    const json status =
        json::parse(ok("visitsync", {"status", "--data", dir.file("good"), "--json"}));
    CHECK(status["refused_ops"].size() >= 2);
    CHECK(status["unsynced_ops"] == 0);
    CHECK_THAT(ok("visitsync", {"visit", "show", "--data", dir.file("good"), visit}),
               Catch::Contains("412"));
    // The visit says which of its changes were refused, and why.
    CHECK_THAT(ok("visitsync", {"visit", "list", "--data", dir.file("good")}),
               Catch::Contains("refused"));
    const json shown = json::parse(
        ok("visitsync", {"visit", "show", "--data", dir.file("good"), visit, "--json"}));
    REQUIRE(shown["sync"]["refused"].size() >= 2);
    CHECK_THAT(shown["sync"]["refused"][0]["reason"].get<std::string>(),
               Catch::Contains("may not write visits of school S00001"));
    CHECK(shown["sync"]["unacked"] == 0);
    // Reported once: the next sync pushes nothing again.
    CHECK(tool("visitsync", {"sync", "--data", dir.file("good")}).exit_code == 0);
  }
  SECTION("a certificate from another deployment's CA: exit 4") {
    const std::string other = dir.file("other-hub");
    ok("visitsync-admin", {"init", "--data", other, "--hub-address", address});
    ok("visitsync-admin", {"import", "--data", other, "inspectors", ref + "/inspectors.csv"});
    ok("visitsync-admin", {"enroll-device", "--data", other, "--inspector", "I0011", "--out",
                           dir.file("stranger.json")});
    ok("visitsync",
       {"init", "--data", dir.file("stranger"), "--enroll", dir.file("stranger.json")});
    test::RunResult r = tool("visitsync", {"sync", "--data", dir.file("stranger")});
    CHECK(r.exit_code == 4);
  }
  SECTION("a device the hub never enrolled, with a certificate of the right CA: exit 4") {
    Result<DeploymentCa> ca = load_deployment_ca(hub + "-ca");
    REQUIRE(ca.ok());
    Result<Enrollment> e = make_enrollment(
        ca.value(), DeviceRecord{"d-I0011-0bad0bad", "I0011", Role::kInspector, false, 0},
        "127.0.0.1", port);
    REQUIRE(e.ok());
    REQUIRE(write_enrollment_file(dir.file("ghost.json"), e.value()).ok());
    // A file others can read is used, with a warning: it holds the device's key.
    std::filesystem::permissions(dir.file("ghost.json"), std::filesystem::perms::others_read,
                                 std::filesystem::perm_options::add);
    test::RunResult init = tool(
        "visitsync", {"init", "--data", dir.file("ghost"), "--enroll", dir.file("ghost.json")});
    CHECK(init.exit_code == 0);
    CHECK_THAT(init.err, Catch::Contains("can be read by other users"));
    test::RunResult r = tool("visitsync", {"sync", "--data", dir.file("ghost")});
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.err, Catch::Contains("not enrolled"));
  }
  SECTION("a plain TCP client and a TLS 1.2 client are turned away") {
    namespace asio = boost::asio;
    const asio::ip::tcp::endpoint hub_at(asio::ip::make_address("127.0.0.1"), port);
    {
      asio::ip::tcp::iostream plain(hub_at);
      plain.expires_after(std::chrono::seconds(5));
      plain << "GET / HTTP/1.0\r\n\r\n" << std::flush;
      std::string reply;
      std::getline(plain, reply);
      CHECK(reply.find("HTTP") == std::string::npos);
    }
    asio::io_context io;
    asio::ssl::context old(asio::ssl::context::tls_client);
    SSL_CTX_set_max_proto_version(old.native_handle(), TLS1_2_VERSION);
    asio::ssl::stream<asio::ip::tcp::socket> s(io, old);
    boost::system::error_code ec;
    s.next_layer().connect(hub_at, ec);
    REQUIRE_FALSE(ec);
    s.handshake(asio::ssl::stream_base::client, ec);
    CHECK(ec);
    CHECK(server.wait_for_log("outcome=rejected", std::chrono::seconds(5)));
  }
  // Whatever came before, the hub serves a good device, then stops cleanly on SIGTERM.
  CHECK(tool("visitsync", {"sync", "--data", dir.file("good")}).exit_code == 0);
  CHECK(server.running());
  CHECK(server.terminate() == 0);
  CHECK_THAT(server.log(), Catch::Contains("stopped"));
  test::RunResult down = tool("visitsync", {"sync", "--data", dir.file("good")});
  CHECK(down.exit_code == 3);
  CHECK_THAT(down.err, Catch::Contains("nothing is lost"));
  (void)good;
}

TEST_CASE("a hub stopped by SIGTERM during a push keeps everything it acknowledged",
          "[e2e][sync]") {
  test::TempDir dir;
  const HubFolder made = make_hub_folder(dir);
  const std::string& hub = made.path;
  const std::string& address = made.address;
  const std::string device = dir.file("device");
  ok("visitsync-admin",
     {"enroll-device", "--data", hub, "--inspector", "I0011", "--out", dir.file("device.json")});
  ok("visitsync", {"init", "--data", device, "--enroll", dir.file("device.json")});
  Result<Enrollment> e = read_enrollment_file(dir.file("device.json"));
  REQUIRE(e.ok());

  // Up to three stops, each at another moment of the push; whatever the moment, what the
  // device holds as acknowledged is in the hub's store, and the next sync completes the rest.
  int mid_push = 0;  // stops that fell inside the push (some of its ops acknowledged, not all)
  for (int attempt = 0; attempt < 3; ++attempt) {
    INFO("attempt " << attempt);
    test::BackgroundProcess server(bin("visitsync-hub"), {"--data", hub, "--listen", address},
                                   dir.file("hub-" + std::to_string(attempt) + ".log"));
    REQUIRE(server.wait_for_log("listening on", std::chrono::seconds(10)));
    Result<std::unique_ptr<Inspection>> in = Inspection::open(device);
    REQUIRE(in.ok());
    if (attempt == 0) REQUIRE(sync_with_hub(in.value()->engine(), e.value(), {}).ok());
    for (int i = 0; i < 40; ++i) {
      Result<std::string> id = in.value()->start_visit("S00011", "school-conditions");
      REQUIRE(id.ok());
      test::answer_required(*in.value(), id.value());
    }
    SyncOptions small;
    small.push_batch_ops = 3;  // many pushes, each committed on its own
    std::atomic<std::uint64_t> pushed{0};
    small.progress = [&](const SyncProgress& p) { pushed = p.pushed; };
    const std::uint64_t acked_before = in.value()->engine().counter("push.acked").value();
    Result<SyncReport> cut = Status::internal("not run");
    std::thread syncing([&] { cut = sync_with_hub(in.value()->engine(), e.value(), small); });
    // Stopped once the push is under way, further into it each time (at most 10 s of waiting).
    for (int i = 0; i < 1000 && pushed < 10u + 60u * static_cast<unsigned>(attempt); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(server.terminate() == 0);
    syncing.join();
    const std::uint64_t device_acked = in.value()->engine().counter("push.acked").value();
    const std::uint64_t last = in.value()->engine().stats()->last_own_seq;
    if (device_acked > acked_before && device_acked < last) ++mid_push;
    in.value().reset();

    Result<std::unique_ptr<HubStore>> store = HubStore::open(hub);
    REQUIRE(store.ok());
    Result<HelloResult> hello = store.value()->hello(e->device_id, 0, last, device_acked);
    REQUIRE(hello.ok());
    CHECK(hello->device.acked_seq >= device_acked);
    Result<LogSlice> log = store.value()->engine().log_after(0, 10'000'000);
    REQUIRE(log.ok());
    std::set<std::uint64_t> seqs;
    for (const Op& op : log->ops) {
      if (op.id.device == e->device_id) seqs.insert(op.id.seq);
    }
    // Every acknowledged op of the device, each once, and nothing beyond what it committed.
    CHECK(seqs.size() == hello->device.acked_seq);
    CHECK((seqs.empty() || *seqs.rbegin() == hello->device.acked_seq));
    if (!cut.ok()) CHECK(cut.status().code() == Code::kUnavailable);
  }
  CHECK(mid_push >= 1);  // the stops did fall inside pushes, not before or after them
  test::BackgroundProcess server(bin("visitsync-hub"), {"--data", hub, "--listen", address},
                                 dir.file("hub-last.log"));
  REQUIRE(server.wait_for_log("listening on", std::chrono::seconds(10)));
  CHECK_THAT(ok("visitsync", {"sync", "--data", device}), Catch::Contains("pulled"));
  const json status = json::parse(ok("visitsync", {"status", "--data", device, "--json"}));
  CHECK(status["unsynced_ops"] == 0);
  CHECK(status["refused_ops"].empty());
}
