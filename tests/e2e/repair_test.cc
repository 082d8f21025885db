// A damaged device store, found by the commands and healed by `visitsync repair` and a real
// hub on 127.0.0.1.
#include <filesystem>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/tools.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace vs;
using nlohmann::json;

namespace {

using test::ok;
using test::tool;

// Flips one bit of every copy of `marker` in the file: the bytes a bad flash block would change.
int flip_marker(const std::string& path, const std::string& marker) {
  std::string bytes = test::slurp(path);
  int flipped = 0;
  for (std::size_t at = bytes.find(marker); at != std::string::npos;
       at = bytes.find(marker, at + 1)) {
    bytes[at + 3] = static_cast<char>(bytes[at + 3] ^ 0x04);
    ++flipped;
  }
  test::write_file(path, bytes);
  return flipped;
}

// Starts a visit of S00011 with two answers and a note; returns its id.
std::string visit_with_note(const std::string& data, const std::string& note) {
  const std::string id = ok("visitsync", {"visit", "start", "--data", data, "--school", "S00011",
                                          "--template", "school-conditions"});
  for (const auto& [item, value] :
       {std::pair<const char*, const char*>{"class_count", "11"}, {"overall_rating", "4"}}) {
    ok("visitsync", {"visit", "set", "--data", data, id, item, value});
  }
  ok("visitsync", {"visit", "note", "--data", data, id, "inspector_notes", note});
  return id;
}

std::set<std::string> export_lines(const char* tool_name, const std::string& data) {
  return test::line_set(ok(tool_name, {"export", "--data", data, "--format", "jsonl"}));
}

}  // namespace

TEST_CASE("a damaged device store is refused, repaired, and refilled from the hub",
          "[e2e][sync][damage]") {
  test::TempDir dir;
  const test::HubFolder hub = test::make_hub_folder(dir);
  const std::string a = dir.file("a");
  const std::string b = dir.file("b");
  for (const auto& [data, inspector] : {std::pair{a, "I0011"}, std::pair{b, "I0021"}}) {
    const std::string file = data + ".json";
    ok("visitsync-admin",
       {"enroll-device", "--data", hub.path, "--inspector", inspector, "--out", file});
    ok("visitsync", {"init", "--data", data, "--enroll", file});
  }
  test::BackgroundProcess server(test::bin("visitsync-hub"),
                                 {"--data", hub.path, "--listen", hub.address},
                                 dir.file("hub.log"));
  REQUIRE(server.wait_for_log("listening on", std::chrono::seconds(10)));

  for (const std::string& data : {a, b}) ok("visitsync", {"sync", "--data", data});
  // Acknowledged work of both devices, on both; then work on device A the hub never saw.
  visit_with_note(a, "MARKER-ACKED note of a synced visit");
  visit_with_note(a, "a second synced visit");
  visit_with_note(b, "device b's visit");
  ok("visitsync", {"sync", "--data", a});
  ok("visitsync", {"sync", "--data", b});
  ok("visitsync", {"sync", "--data", a});
  const std::string kept = visit_with_note(a, "an unsynced visit that survives");
  visit_with_note(a, "MARKER-UNACKED note never synced");
  ok("visitsync", {"visit", "set", "--data", a, kept, "class_count", "13"});  // after the loss
  const json before = json::parse(ok("visitsync", {"status", "--data", a, "--json"}));
  REQUIRE(before["unsynced_ops"].get<int>() > 0);

  // Bad flash: each marker's bytes change, in its visit's record and in its op log row.
  REQUIRE(flip_marker(a + "/visitsync.db", "MARKER-ACKED") >= 2);
  REQUIRE(flip_marker(a + "/visitsync.db", "MARKER-UNACKED") >= 2);

  // Reading commands fail with the damage, never with other data; then no write goes in.
  test::RunResult list = tool("visitsync", {"visit", "list", "--data", a});
  INFO(list.err);
  CHECK(list.exit_code == 2);
  CHECK_THAT(list.err, Catch::Contains("store damaged: record 'visit/S00011/") &&
                           Catch::Contains("fails its checksum") &&
                           Catch::Contains("visitsync repair --data DIR"));
  CHECK(list.out.empty());
  test::RunResult set = tool("visitsync", {"visit", "set", "--data", a, kept, "class_count", "12"});
  CHECK(set.exit_code == 2);
  CHECK_THAT(set.err, Catch::Contains("takes no more writes until it is repaired"));
  CHECK(std::filesystem::exists(a + "/visitsync.db-damaged"));

  const std::string repaired = ok("visitsync", {"repair", "--data", a});
  CHECK_THAT(repaired, Catch::Contains("could not read 2 rows") &&
                           Catch::Contains("op log row at") && Catch::Contains("unverified"));
  CHECK_THAT(repaired, Catch::Contains("lost for good: this device's ops"));
  CHECK_THAT(repaired, Catch::Contains("1 of this device's ops the hub holds were lost here"));
  CHECK_FALSE(std::filesystem::exists(a + "/visitsync.db-damaged"));

  // The sync pushes the unsynced work (the placeholder of the lost op is refused: exit 4) and
  // refills the rest, the acknowledged note included.
  test::RunResult sync = tool("visitsync", {"sync", "--data", a});
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 4);
  CHECK_THAT(sync.err + sync.out, Catch::Contains("repair/"));
  const json after = json::parse(ok("visitsync", {"status", "--data", a, "--json"}));
  CHECK(after["unsynced_ops"] == 0);
  CHECK(after["refused_ops"].size() == 1);
  const std::set<std::string> device = export_lines("visitsync", a);
  CHECK(device == export_lines("visitsync-admin", hub.path));
  CHECK(device.size() == 5);
  std::string all;
  for (const std::string& line : device) all += line;
  CHECK_THAT(all, Catch::Contains("MARKER-ACKED note of a synced visit"));
  CHECK_THAT(all, Catch::Contains("an unsynced visit that survives"));
  CHECK_THAT(all, !Catch::Contains("MARKER-UNACKED"));
  // And the repaired store takes writes again, which reach the hub.
  ok("visitsync", {"visit", "set", "--data", a, kept, "class_count", "12"});
  ok("visitsync", {"sync", "--data", a});
}
