// Photos with the real programs: `visit set` with image files, `sync` sending them (killed
// mid-upload at random moments, then completing), `visitsync-admin photo get` giving back the
// same bytes, the hub's export naming what has not arrived, and a second device that shows the
// photos it does not hold as missing.
#include <array>
#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <visitsync/photos.h>

#include "e2e/tools.h"

using namespace vs::test;
using nlohmann::json;

namespace {

std::string write_jpeg(const TempDir& dir, const std::string& name, std::size_t n,
                       std::uint64_t seed) {
  const std::string b = fake_jpeg(n, seed);
  std::ofstream(dir.file(name), std::ios::binary) << b;
  return b;
}

json hub_visit(const std::string& hub, const std::string& visit) {
  for (const std::string& line :
       line_set(ok("visitsync-admin", {"export", "--data", hub, "--format", "jsonl"}))) {
    json v = json::parse(line);
    if (v["visit_id"] == visit) return v;
  }
  FAIL("visit " << visit << " is not in the hub's export");
  return {};
}

// The enrolled data folders of I0011 and I0021, co-inspectors of S00001.
std::array<std::string, 2> co_inspectors(const TempDir& dir, const HubFolder& made) {
  std::array<std::string, 2> device;
  const char* who[2] = {"I0011", "I0021"};
  for (std::size_t i = 0; i < 2; ++i) {
    device[i] = dir.file(std::string("device-") + who[i]);
    ok("visitsync-admin",
       {"enroll-device", "--data", made.path, "--inspector", who[i], "--out", device[i] + ".json"});
    ok("visitsync", {"init", "--data", device[i], "--enroll", device[i] + ".json"});
  }
  return device;
}

}  // namespace

TEST_CASE("photos go from the device that took them to the hub, whole, through killed syncs",
          "[e2e][photos]") {
  TempDir dir;
  const HubFolder made = make_hub_folder(dir);
  const std::array<std::string, 2> device = co_inspectors(dir, made);
  BackgroundProcess hub(bin("visitsync-hub"), {"--data", made.path, "--listen", made.address},
                        dir.file("hub.log"));
  REQUIRE(hub.wait_for_log("listening on", std::chrono::seconds(10)));
  for (const std::string& d : device) ok("visitsync", {"sync", "--data", d});
  const std::string visit = ok("visitsync", {"visit", "start", "--data", device[0], "--school",
                                             "S00001", "--template", "school-conditions"});
  const std::string wall = write_jpeg(dir, "wall.jpg", 3'000'000, 1);
  const std::string gate = write_jpeg(dir, "gate.jpg", 200'000, 2);
  ok("visitsync", {"visit", "set", "--data", device[0], visit, "buildings_photo",
                   dir.file("wall.jpg") + "," + dir.file("gate.jpg")});
  const std::string wall_id = vs::sha256_hex(wall);
  const std::string gate_id = vs::sha256_hex(gate);

  // Syncs killed at random moments (SIGKILL to the process): the upload goes on from where the
  // hub's stored chunks end, and meanwhile the hub's export names what it lacks.
  const std::uint64_t seed = vs::test::seed();
  INFO("VS_SEED=" << seed);
  std::mt19937_64 rng(seed);
  int killed = 0;
  for (int i = 0; i < 10; ++i) {
    const RunResult r = run(bin("visitsync"), {"sync", "--data", device[0]},
                            std::chrono::milliseconds(5 + rng() % 120));
    killed += r.exit_code == -1 ? 1 : 0;
    if (r.exit_code == 0) break;
  }
  CHECK(killed >= 1);
  const std::string last = ok("visitsync", {"sync", "--data", device[0]});
  json on_hub = hub_visit(made.path, visit);
  CHECK(on_hub["photos_missing"].empty());
  for (const auto& [id, bytes] : {std::pair{wall_id, wall}, std::pair{gate_id, gate}}) {
    const std::string out = dir.file(id.substr(0, 8) + ".out");
    ok("visitsync-admin", {"photo", "get", "--data", made.path, id, "--out", out});
    CHECK(slurp(out) == bytes);
  }
  // Sent once: nothing more on the next sync.
  CHECK_THAT(ok("visitsync", {"sync", "--data", device[0]}), !Catch::Contains("photos sent"));

  // The co-inspector's device has the answer, not the files: it says so.
  ok("visitsync", {"sync", "--data", device[1]});
  const json shown =
      json::parse(ok("visitsync", {"visit", "show", "--data", device[1], visit, "--json"}));
  CHECK(shown["photos_missing"].size() == 2);
  CHECK(json::parse(ok("visitsync", {"status", "--data", device[1], "--json"}))["photos_missing"] ==
        2);
  const RunResult absent =
      tool("visitsync", {"photo", "get", "--data", device[1], wall_id, "--out", dir.file("x.jpg")});
  CHECK(absent.exit_code == 2);
  CHECK_THAT(absent.err, Catch::Contains("is not here"));
  ok("visitsync", {"photo", "get", "--data", device[0], wall_id, "--out", dir.file("y.jpg")});
  CHECK(slurp(dir.file("y.jpg")) == wall);
  const RunResult bad = tool("visitsync", {"photo", "get", "--data", device[0], "../../etc/passwd",
                                           "--out", dir.file("z")});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("not a photo id"));
  CHECK(hub.terminate() == 0);
}

TEST_CASE("a photo the device takes but has not sent is missing at the hub", "[e2e][photos]") {
  TempDir dir;
  const HubFolder made = make_hub_folder(dir);
  const std::string device = dir.file("device");
  ok("visitsync-admin",
     {"enroll-device", "--data", made.path, "--inspector", "I0011", "--out", device + ".json"});
  ok("visitsync", {"init", "--data", device, "--enroll", device + ".json"});
  BackgroundProcess hub(bin("visitsync-hub"), {"--data", made.path, "--listen", made.address},
                        dir.file("hub.log"));
  REQUIRE(hub.wait_for_log("listening on", std::chrono::seconds(10)));
  ok("visitsync", {"sync", "--data", device});
  const std::string visit = ok("visitsync", {"visit", "start", "--data", device, "--school",
                                             "S00001", "--template", "school-conditions"});
  const std::string bytes = write_jpeg(dir, "roof.jpg", 50'000, 3);
  ok("visitsync",
     {"visit", "set", "--data", device, visit, "buildings_photo", dir.file("roof.jpg")});
  // The answer reaches the hub; the file does not (it is removed from the device first).
  const std::string id = vs::sha256_hex(bytes);
  std::filesystem::rename(vs::photo_folder(device) + "/" + id, dir.file("kept.jpg"));
  ok("visitsync", {"sync", "--data", device});
  CHECK(hub_visit(made.path, visit)["photos_missing"] == json::array({id}));
  const RunResult absent =
      tool("visitsync-admin", {"photo", "get", "--data", made.path, id, "--out", dir.file("o")});
  CHECK(absent.exit_code == 2);
  CHECK_THAT(absent.err, Catch::Contains("has not arrived"));
  // Back on the device: the next sync sends it, and the hub's visit is complete.
  std::filesystem::rename(dir.file("kept.jpg"), vs::photo_folder(device) + "/" + id);
  CHECK_THAT(ok("visitsync", {"sync", "--data", device}), Catch::Contains("1 photos sent"));
  CHECK(hub_visit(made.path, visit)["photos_missing"].empty());
  CHECK(hub.terminate() == 0);
}

TEST_CASE(
    "a co-inspector's device fetches photos when asked or eagerly, the hub's limit refuses a "
    "large one, and garbage collection keeps what is named",
    "[e2e][photos]") {
  TempDir dir;
  const HubFolder made = make_hub_folder(dir);
  const std::array<std::string, 2> device = co_inspectors(dir, made);
  BackgroundProcess hub(bin("visitsync-hub"), {"--data", made.path, "--listen", made.address},
                        dir.file("hub.log"));
  REQUIRE(hub.wait_for_log("listening on", std::chrono::seconds(10)));
  ok("visitsync", {"sync", "--data", device[0]});
  const std::string visit = ok("visitsync", {"visit", "start", "--data", device[0], "--school",
                                             "S00001", "--template", "school-conditions"});
  const std::string wall = write_jpeg(dir, "wall.jpg", 150'000, 4);
  const std::string gate = write_jpeg(dir, "gate.jpg", 60'000, 5);
  ok("visitsync",
     {"visit", "set", "--data", device[0], visit, "buildings_photo", dir.file("wall.jpg")});
  ok("visitsync", {"sync", "--data", device[0]});
  const std::string wall_id = vs::sha256_hex(wall);

  // Lazy: asked for, fetched by the next sync.
  CHECK_THAT(ok("visitsync", {"sync", "--data", device[1]}), !Catch::Contains("fetched"));
  CHECK_THAT(ok("visitsync", {"photo", "downloads", "--data", device[1]}), Catch::Contains("lazy"));
  CHECK_THAT(ok("visitsync", {"photo", "fetch", "--data", device[1], wall_id}),
             Catch::Contains("the next sync fetches it"));
  CHECK_THAT(ok("visitsync", {"sync", "--data", device[1]}), Catch::Contains("1 photos fetched"));
  ok("visitsync", {"photo", "get", "--data", device[1], wall_id, "--out", dir.file("w.out")});
  CHECK(slurp(dir.file("w.out")) == wall);
  const RunResult unnamed =
      tool("visitsync", {"photo", "fetch", "--data", device[1], std::string(64, 'c')});
  CHECK(unnamed.exit_code == 2);
  CHECK_THAT(unnamed.err, Catch::Contains("no visit on this device names photo"));

  // Eager: the next photo comes by itself.
  ok("visitsync", {"visit", "set", "--data", device[0], visit, "buildings_photo",
                   dir.file("wall.jpg") + "," + dir.file("gate.jpg")});
  ok("visitsync", {"sync", "--data", device[0]});
  CHECK_THAT(ok("visitsync", {"photo", "downloads", "--data", device[1], "eager"}),
             Catch::Contains("eager"));
  CHECK_THAT(ok("visitsync", {"sync", "--data", device[1]}), Catch::Contains("1 photos fetched"));
  CHECK(json::parse(ok("visitsync", {"status", "--data", device[1], "--json"}))["photos_missing"] ==
        0);
  CHECK(tool("visitsync", {"photo", "downloads", "--data", device[1], "always"}).exit_code == 2);

  // The hub's limit: a photo over it is refused, with the reason, and the visit says so.
  CHECK_THAT(ok("visitsync-admin", {"photo", "limits", "--data", made.path, "--max-kb", "100"}),
             Catch::Contains("each photo at most 100 KiB"));
  const std::string big = write_jpeg(dir, "big.jpg", 120'000, 6);
  const std::string other = ok("visitsync", {"visit", "start", "--data", device[0], "--school",
                                             "S00001", "--template", "school-conditions"});
  ok("visitsync",
     {"visit", "set", "--data", device[0], other, "buildings_photo", dir.file("big.jpg")});
  CHECK_THAT(ok("visitsync", {"sync", "--data", device[0]}),
             Catch::Contains("refused by the hub: photo " + vs::sha256_hex(big) +
                             " is 118 KiB, over this hub's limit of 100 KiB"));
  CHECK(hub_visit(made.path, other)["photos_missing"] == json::array({vs::sha256_hex(big)}));
  const std::string limits = ok("visitsync-admin", {"photo", "limits", "--data", made.path});
  CHECK_THAT(limits, Catch::Contains("each device's photos on the hub at most 4096 MiB"));
  CHECK_THAT(limits, Catch::Contains(": " + std::to_string(wall.size() + gate.size()) + " bytes"));
  CHECK(tool("visitsync-admin", {"photo", "limits", "--data", made.path, "--max-kb", "0"})
            .exit_code == 2);
  // A size whose bytes would not fit 64 bits is refused, not wrapped round to a small limit.
  const RunResult huge = tool(
      "visitsync-admin", {"photo", "limits", "--data", made.path, "--max-kb", "18014398509481985"});
  CHECK(huge.exit_code == 2);
  CHECK_THAT(huge.err, Catch::Contains("--max-kb must be from 1 to 32768"));
  CHECK_THAT(ok("visitsync-admin", {"photo", "limits", "--data", made.path}),
             Catch::Contains("each photo at most 100 KiB"));

  // Garbage collection, with no grace: everything is named, nothing goes.
  CHECK_THAT(ok("visitsync", {"photo", "gc", "--data", device[1], "--grace-days", "0"}),
             Catch::Contains("removed 0 photos"));
  CHECK_THAT(ok("visitsync-admin", {"photo", "gc", "--data", made.path, "--grace-days", "0"}),
             Catch::Contains("removed 0 photos"));
  CHECK(vs::has_photo(device[1], wall_id));
  CHECK(hub.terminate() == 0);
}

TEST_CASE("the hub collects its photo garbage when it starts, at most once a day",
          "[e2e][photos]") {
  TempDir dir;
  const HubFolder made = make_hub_folder(dir);
  // A photo no visit names, untouched for ten days, and one a day old.
  const auto put = [&](std::uint64_t seed, int days) {
    const std::string bytes = fake_jpeg(20'000, seed);
    const std::string path = vs::photo_folder(made.path) + "/" + vs::sha256_hex(bytes);
    std::filesystem::create_directories(vs::photo_folder(made.path));
    std::ofstream(path, std::ios::binary) << bytes;
    std::filesystem::last_write_time(
        path, std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * days));
    return path;
  };
  const std::string old = put(7, 10);
  const std::string young = put(8, 1);
  {
    BackgroundProcess hub(bin("visitsync-hub"), {"--data", made.path, "--listen", made.address},
                          dir.file("hub.log"));
    REQUIRE(hub.wait_for_log("listening on", std::chrono::seconds(10)));
    CHECK_THAT(slurp(dir.file("hub.log")),
               Catch::Contains("photo garbage collection: removed 1 photos"));
    CHECK(hub.terminate() == 0);
  }
  CHECK_FALSE(std::filesystem::exists(old));
  CHECK(std::filesystem::exists(young));  // within the grace period
  // Started again the same day: not due.
  const std::string again = put(9, 10);
  BackgroundProcess hub(bin("visitsync-hub"), {"--data", made.path, "--listen", made.address},
                        dir.file("hub2.log"));
  REQUIRE(hub.wait_for_log("listening on", std::chrono::seconds(10)));
  CHECK_THAT(slurp(dir.file("hub2.log")), !Catch::Contains("photo garbage collection"));
  CHECK(std::filesystem::exists(again));
  CHECK(hub.terminate() == 0);
}
