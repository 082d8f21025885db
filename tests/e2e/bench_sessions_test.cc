// visitsync-bench sessions, run as a user would, on a small workload: every session succeeds,
// pushes its visits and pulls its partner's, and the JSON line holds the figures.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/test_support.h"

using nlohmann::json;

TEST_CASE("the sessions bench syncs every device, a few sessions at a time", "[e2e][bench]") {
  vs::test::TempDir dir;
  const vs::test::RunResult r =
      vs::test::run(VS_BENCH_BIN,
                    {"sessions", "--work", dir.file("w"), "--visits", "40", "--items", "12",
                     "--sessions", "20", "--concurrency", "4"},
                    std::chrono::seconds(120));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string last = r.out.substr(r.out.rfind('{'));
  const json j = json::parse(last);
  CHECK(j.at("sessions") == 20);
  CHECK(j.at("concurrency") == 4);
  CHECK(j.at("sessions_ok") == 20);
  CHECK(j.at("sessions_failed") == 0);
  // 5 visits of 7 metadata fields and 12 answers each, from each device.
  CHECK(j.at("ops_pushed") == 20 * 5 * (7 + 12));
  // Each device pulls its partner's visits, and its schools, template and own records besides.
  CHECK(j.at("ops_pulled").get<double>() > j.at("ops_pushed").get<double>());
  for (const char* figure : {"p50_ms", "p99_ms", "wall_s", "hub_cpu_s", "hub_peak_rss_mb"})
    CHECK(j.at(figure).get<double>() > 0);
}
