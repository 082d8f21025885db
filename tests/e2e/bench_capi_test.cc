// visitsync-bench capi, run as a user would, with few writes and a short idle watch: both sides
// wrote every answer, and the idle replicator did not wake (its next pull is minutes away).
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/test_support.h"

using nlohmann::json;

TEST_CASE("the capi bench times both calls and watches an idle replicator", "[e2e][bench]") {
  vs::test::TempDir dir;
  const vs::test::RunResult r = vs::test::run(
      VS_BENCH_BIN, {"capi", "--work", dir.file("w"), "--writes", "40", "--idle-seconds", "2"},
      std::chrono::seconds(120));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out.substr(r.out.rfind('{')));
  CHECK(j.at("bench") == "capi");
  CHECK(j.at("writes") == 40);
  for (const char* prefix : {"write_", "write_normal_"}) {
    for (const char* figure : {"cpp_p50_us", "capi_p50_us", "capi_p50_ratio"})
      CHECK(j.at(std::string(prefix) + figure).get<double>() > 0);
  }
  CHECK(j.at("idle_s") == 2);
  CHECK(j.at("idle_wakeups_per_min").get<double>() == 0);
  CHECK(j.at("idle_cpu_pct").get<double>() < 5);

  const vs::test::RunResult bad =
      vs::test::run(VS_BENCH_BIN, {"engine", "--idle-seconds", "3"}, std::chrono::seconds(30));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--idle-seconds is an option of the capi bench"));
}
