// The device command line with a hub that is not there yet: `sync --retry-for` keeps trying on
// the replicator's schedule until the hub comes up, and `visit list` and `visit show` say where
// each visit stands with the hub.
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/tools.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace vs;
using nlohmann::json;
using test::ok;
using test::tool;

TEST_CASE("sync --retry-for waits out a hub that is down, and visits show their sync state",
          "[e2e][sync][retry]") {
  test::TempDir dir;
  const test::HubFolder hub = test::make_hub_folder(dir);
  const std::string device = dir.file("device");
  ok("visitsync-admin", {"enroll-device", "--data", hub.path, "--inspector", "I0011", "--out",
                         dir.file("device.json")});
  ok("visitsync", {"init", "--data", device, "--enroll", dir.file("device.json")});

  for (const char* bad : {"-1", "86401", "soon"}) {
    test::RunResult r = tool("visitsync", {"sync", "--data", device, "--retry-for", bad});
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("retry-for"));
  }

  // No hub: attempts 2 s apart and more, then a clear give-up, exit 3.
  const auto t0 = std::chrono::steady_clock::now();
  test::RunResult down = tool("visitsync", {"sync", "--data", device, "--retry-for", "3"});
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO(down.err);
  CHECK(down.exit_code == 3);
  CHECK_THAT(down.err, Catch::Contains("attempt 1 failed"));
  CHECK_THAT(down.err, Catch::Contains("trying again in"));
  CHECK_THAT(down.err, Catch::Contains("gave up after 3 s"));
  CHECK_THAT(down.err, Catch::Contains("nothing is lost"));
  CHECK(took < std::chrono::seconds(6));

  // The hub comes up 3 s after the inspector pressed sync once.
  test::RunResult later;
  std::thread pressed([&] {
    later = test::run(test::bin("visitsync"), {"sync", "--data", device, "--retry-for", "60"},
                      std::chrono::seconds(90));
  });
  std::this_thread::sleep_for(std::chrono::seconds(3));
  test::BackgroundProcess server(test::bin("visitsync-hub"),
                                 {"--data", hub.path, "--listen", hub.address},
                                 dir.file("hub.log"));
  CHECK(server.wait_for_log("listening on", std::chrono::seconds(10)));
  pressed.join();
  INFO(later.err);
  CHECK(later.exit_code == 0);
  CHECK_THAT(later.err, Catch::Contains("attempt 1 failed"));
  CHECK_THAT(later.out, Catch::Contains("synced with"));

  // A visit written here: waiting for the hub, then sent.
  const std::string visit = ok("visitsync", {"visit", "start", "--data", device, "--school",
                                             "S00001", "--template", "school-conditions"});
  ok("visitsync", {"visit", "set", "--data", device, visit, "enrolled_students", "377"});
  CHECK_THAT(ok("visitsync", {"visit", "list", "--data", device}), Catch::Contains("waiting"));
  CHECK_THAT(ok("visitsync", {"visit", "show", "--data", device, visit}),
             Catch::Contains("changes waiting for the hub; last sent never"));
  json shown = json::parse(ok("visitsync", {"visit", "show", "--data", device, visit, "--json"}));
  CHECK(shown["sync"]["unacked"].get<int>() >= 2);
  CHECK(shown["sync"]["last_sent"].is_null());
  CHECK(shown["answers"]["enrolled_students"] == 377);

  ok("visitsync", {"sync", "--data", device, "--retry-for", "10"});
  const json listed = json::parse(ok("visitsync", {"visit", "list", "--data", device, "--json"}));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["sync"]["unacked"] == 0);
  CHECK(listed[0]["sync"]["refused"].empty());
  CHECK(listed[0]["sync"]["last_sent"].get<std::string>().substr(0, 2) == "20");
  CHECK_THAT(ok("visitsync", {"visit", "list", "--data", device}), Catch::Contains("synced"));
  CHECK_THAT(ok("visitsync", {"visit", "show", "--data", device, visit}),
             Catch::Contains("0 changes waiting for the hub; last sent 20"));
  CHECK(server.terminate() == 0);
}
