// visitsync-bench import, run as a user would, on a few thousand rows: every row is imported and
// the JSON line holds the time and peak RSS of each import.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/test_support.h"

using nlohmann::json;

TEST_CASE("the import bench imports the rows it generates and reports each import",
          "[e2e][bench]") {
  vs::test::TempDir dir;
  const vs::test::RunResult r =
      vs::test::run(VS_BENCH_BIN, {"import", "--work", dir.file("w"), "--rows", "3000"},
                    std::chrono::seconds(120));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out.substr(r.out.rfind('{')));
  CHECK(j.at("bench") == "import");
  CHECK(j.at("schools_rows") == 3000);
  CHECK(j.at("inspectors_rows") == 31);
  CHECK(j.at("assignments_rows") == 3000);
  for (const char* kind : {"schools", "inspectors", "assignments"}) {
    for (const char* figure : {"_bytes", "_rows_per_s", "_peak_rss_mb"})
      CHECK(j.at(std::string(kind) + figure).get<double>() > 0);
  }
}
