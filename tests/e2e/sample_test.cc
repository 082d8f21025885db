// visitsync-admin sample: the reference data sets it writes, and schema/sample, which is its
// output with the defaults.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/process.h"
#include "support/test_support.h"

namespace {

using namespace vs;

test::RunResult admin(const std::vector<std::string>& args) {
  return test::run(std::string(VS_TOOLS_DIR) + "/visitsync-admin", args);
}

std::string sample(const test::TempDir& dir, const std::string& name,
                   const std::vector<std::string>& options = {}) {
  std::vector<std::string> args = {"sample", "--out", dir.file(name)};
  args.insert(args.end(), options.begin(), options.end());
  test::RunResult r = admin(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return dir.file(name);
}

// The rows of a CSV file without its header, split at commas (the sample quotes nothing).
std::vector<std::vector<std::string>> rows(const std::string& path) {
  std::vector<std::vector<std::string>> out;
  const std::string text = test::slurp(path);
  std::size_t at = text.find('\n') + 1;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end - at);
    std::vector<std::string> cells(1);
    for (char c : line) {
      if (c == ',')
        cells.emplace_back();
      else
        cells.back() += c;
    }
    out.push_back(cells);
    at = end + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("schema/sample is visitsync-admin sample's output with the defaults", "[e2e][sample]") {
  test::TempDir dir;
  const std::string made = sample(dir, "made");
  for (const char* f : {"schools.csv", "inspectors.csv", "assignments.csv"}) {
    INFO(f << ": regenerate with visitsync-admin sample --out schema/sample");
    CHECK(test::slurp(made + "/" + f) == test::slurp(test::sample_dir() + "/" + f));
  }
}

TEST_CASE("a sample is a function of its options, and keeps its layout at any size",
          "[e2e][sample]") {
  test::TempDir dir;
  const std::vector<std::string> big = {"--schools",  "900", "--inspectors", "130",
                                        "--counties", "25",  "--seed",       "7"};
  const std::string a = sample(dir, "a", big);
  const std::string b = sample(dir, "b", big);
  std::vector<std::string> other_seed = big;
  other_seed.back() = "8";
  const std::string c = sample(dir, "c", other_seed);
  CHECK(test::slurp(a + "/schools.csv") == test::slurp(b + "/schools.csv"));
  CHECK(test::slurp(a + "/inspectors.csv") == test::slurp(b + "/inspectors.csv"));
  CHECK(test::slurp(a + "/schools.csv") != test::slurp(c + "/schools.csv"));
  // The layout does not depend on the seed.
  CHECK(test::slurp(a + "/assignments.csv") == test::slurp(c + "/assignments.csv"));

  const auto schools = rows(a + "/schools.csv");
  const auto inspectors = rows(a + "/inspectors.csv");
  const auto assignments = rows(a + "/assignments.csv");
  REQUIRE(schools.size() == 900);
  REQUIRE(inspectors.size() == 130);
  std::map<std::string, std::string> county_of;  // school or inspector id -> county
  std::set<std::string> names;
  for (const auto& s : schools) {
    REQUIRE(s.size() == 11);
    county_of[s[0]] = s[3];
    names.insert(s[1]);
  }
  CHECK(names.size() == schools.size());  // school names are unique
  std::set<std::string> counties;
  for (std::size_t j = 0; j < inspectors.size(); ++j) {
    const auto& p = inspectors[j];
    REQUIRE(p.size() == 4);
    county_of[p[0]] = p[3];
    counties.insert(p[3]);
    CHECK(p[2] == (j < 25 ? "supervisor" : "inspector"));
  }
  CHECK(counties.size() == 25);
  std::map<std::string, int> per_school;
  for (const auto& as : assignments) {
    REQUIRE(as.size() == 4);
    INFO(as[0] << " " << as[1]);
    CHECK(county_of.at(as[0]) == county_of.at(as[1]));  // inspectors work in their county
    CHECK(as[2] == "2026-09-01");
    CHECK(as[3].empty());  // no end
    ++per_school[as[1]];
  }
  CHECK(per_school.size() == 900);  // every county has field inspectors: every school is assigned
  for (const auto& [school, n] : per_school) CHECK(n <= 2);

  // The set imports into a hub as it is.
  const std::string hub = dir.file("hub");
  REQUIRE(admin({"init", "--data", hub, "--hub-address", "127.0.0.1:7443"}).exit_code == 0);
  for (const char* k : {"schools", "inspectors", "assignments"}) {
    test::RunResult r = admin({"import", "--data", hub, k, a + "/" + k + ".csv"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("visitsync-admin sample refuses options out of range, and writes nothing",
          "[e2e][sample][input]") {
  test::TempDir dir;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--schools", "0"}, "--schools: 0 is not from 1 to 99999"},
      {{"--schools", "12x"}, "--schools: '12x' is not a whole number"},
      {{"--inspectors", "99999999999999999999"}, "not a whole number"},
      {{"--counties", "30"}, "30 counties need at least as many inspectors"},
      {{"--seed", "-1"}, "--seed: must not be negative"},
      {{"--from", "2026-02-30"}, "--from: '2026-02-30' is not a date"},
      {{"--colour", "red"}, "--colour"},
  };
  for (const auto& [options, message] : cases) {
    std::vector<std::string> args = {"sample", "--out", dir.file("out")};
    args.insert(args.end(), options.begin(), options.end());
    test::RunResult r = admin(args);
    INFO(options[0] << " " << options[1]);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(message));
    CHECK(!std::filesystem::exists(dir.file("out")));
  }
}
