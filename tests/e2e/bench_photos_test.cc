// visitsync-bench photos, run as a user would on a small day and a quick link: every photo
// arrived (the bench checks each one's hash on the hub), the link was cut along the way, and the
// figures are there and add up; its options are checked.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/test_support.h"

using nlohmann::json;

TEST_CASE("the photos bench sends a day's photos through a cut link and reports the link's use",
          "[e2e][bench]") {
  vs::test::TempDir dir;
  const vs::test::RunResult r = vs::test::run(
      VS_BENCH_BIN,
      {"photos", "--work", dir.file("w"), "--visits", "2", "--photos", "5", "--photo-kb", "120",
       "--kbit", "16000", "--rtt-ms", "40", "--cut-kb", "200", "--seed", "7"},
      std::chrono::seconds(120));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out.substr(r.out.rfind('{')));
  CHECK(j.at("bench") == "photos");
  CHECK(j.at("photos") == 5);
  CHECK(j.at("photo_bytes") == 600'000);
  CHECK(j.at("cuts").get<int>() >= 1);
  CHECK(j.at("sessions") == j.at("cuts").get<int>() + 1);
  const double total = j.at("total_s");
  const double link = j.at("link_time_s");
  CHECK(link > 0);
  CHECK(j.at("utilisation").get<double>() == Approx(link / total).epsilon(0.01));
  // At least the photos crossed the link, and their bytes at 16 Mbit/s take at least 0.3 s.
  CHECK(j.at("wire_per_photo_byte").get<double>() >= 1.0);
  CHECK(link >= 0.3);
  CHECK(j.at("ops_acked_s").get<double>() > 0);
  CHECK(j.at("ops_acked_s").get<double>() <= total);

  for (const auto& [args, message] :
       {std::pair{std::vector<std::string>{"sync", "--kbit", "64"}, "options of the photos bench"},
        std::pair{std::vector<std::string>{"photos", "--photo-kb", "40000"}, "photo size limit"},
        std::pair{std::vector<std::string>{"photos", "--rtt-ms", "0"}, "bad value '0'"}}) {
    const vs::test::RunResult bad = vs::test::run(VS_BENCH_BIN, args, std::chrono::seconds(30));
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains(message));
  }
}

TEST_CASE("the photo-store bench stores photos chunk by chunk both ways and reads them back",
          "[e2e][bench]") {
  vs::test::TempDir dir;
  const vs::test::RunResult r = vs::test::run(
      VS_BENCH_BIN, {"photo-store", "--work", dir.file("w"), "--photos", "3", "--photo-kb", "50"},
      std::chrono::seconds(60));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out.substr(r.out.rfind('{')));
  CHECK(j.at("bench") == "photo-store");
  CHECK(j.at("photo_bytes") == 150'000);
  for (const char* key : {"files_write_s", "sqlite_write_s", "files_read_ms", "sqlite_read_ms"})
    CHECK(j.at(key).get<double>() > 0);
  CHECK(j.at("write_ratio_sqlite_to_files").get<double>() ==
        Approx(j.at("sqlite_write_s").get<double>() / j.at("files_write_s").get<double>())
            .epsilon(0.01));
  const vs::test::RunResult bad =
      vs::test::run(VS_BENCH_BIN, {"photo-store", "--kbit", "x"}, std::chrono::seconds(30));
  CHECK(bad.exit_code == 2);
}
