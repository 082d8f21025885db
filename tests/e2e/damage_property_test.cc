// A store damaged at random under every reading command: each call prints what the sound store
// prints, or fails with the damage message (at most after a part of that output); never a
// signal, a hang or other data. Rerun a failure with VS_SEED=<seed>; VS_PROPERTY_ROUNDS=<n>.
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "e2e/tools.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace vs;

namespace {

namespace fs = std::filesystem;

// Damages `bytes` one of three ways; returns what it did.
std::string damage(std::string& bytes, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  switch (pick(3)) {
    case 0: {
      std::string what = "bits flipped at";
      for (std::size_t i = 0, n = 1 + pick(8); i < n; ++i) {
        const std::size_t at = pick(bytes.size());
        bytes[at] = static_cast<char>(bytes[at] ^ (1 << pick(8)));
        what += " " + std::to_string(at);
      }
      return what;
    }
    case 1: {
      const std::size_t to = pick(bytes.size());
      bytes.resize(to);
      return "cut to " + std::to_string(to) + " bytes";
    }
    default: {
      const std::size_t page = pick(bytes.size() / 4096);
      std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(page * 4096),
                bytes.begin() + static_cast<std::ptrdiff_t>((page + 1) * 4096), '\0');
      return "page " + std::to_string(page + 1) + " zeroed";
    }
  }
}

// Whether the output is that of the sound store (exit 0), or of a refusal that says so.
bool acceptable(const test::RunResult& r, const std::string& sound_out) {
  if (r.exit_code == 0) return r.out == sound_out;
  if (r.exit_code != 2) return false;
  const bool prefix = sound_out.compare(0, r.out.size(), r.out) == 0;
  if (r.err.find("store damaged: ") != std::string::npos) return prefix;
  // A damaged header can make the file another application's database, or an empty one.
  return r.out.empty() && (r.err.find("not a visitsync store") != std::string::npos ||
                           r.err.find("is an empty file") != std::string::npos);
}

}  // namespace

TEST_CASE("every reading command on a randomly damaged store prints the same data or the damage",
          "[e2e][damage][property]") {
  test::TempDir dir;
  const std::string sound = dir.file("sound");
  test::ok("visitsync", {"init", "--data", sound, "--standalone", "--inspector", "I0011",
                         "--reference", test::sample_dir(), "--templates", test::templates_dir()});
  std::vector<std::string> visits;
  for (const char* note : {"the roof leaks in room 3", "二楼的窗户坏了"}) {
    const std::string id = test::ok("visitsync", {"visit", "start", "--data", sound, "--school",
                                                  "S00011", "--template", "school-conditions"});
    test::ok("visitsync", {"visit", "set", "--data", sound, id, "class_count", "11"});
    test::ok("visitsync", {"visit", "note", "--data", sound, id, "inspector_notes", note});
    visits.push_back(id);
  }
  for (const auto& [item, value] :
       {std::pair<const char*, const char*>{"dangerous_buildings", "none"},
        {"sports_ground_surfaced", "yes"},
        {"enrolled_students", "412"},
        {"largest_class_size", "48"},
        {"canteen_licensed", "yes"},
        {"overall_rating", "4"}}) {
    test::ok("visitsync", {"visit", "set", "--data", sound, visits[0], item, value});
  }
  test::ok("visitsync", {"visit", "submit", "--data", sound, visits[0]});

  const std::string copy = dir.file("copy");
  std::vector<std::vector<std::string>> commands = {
      {"status", "--json"},
      {"visit", "list", "--json"},
      {"conflicts", "--json"},
      {"export", "--format", "jsonl"},
      {"export", "--format", "summary"},
      {"export", "--format", "csv"},
  };
  for (const std::string& v : visits) {
    commands.push_back({"visit", "show", v, "--json"});
    commands.push_back({"visit", "show", v});
  }
  std::vector<std::string> sound_out;
  for (std::vector<std::string> c : commands) {
    c.insert(c.end(), {"--data", sound});
    sound_out.push_back(test::ok("visitsync", c) + "\n");
  }
  const std::string bytes = test::slurp(sound + "/visitsync.db");
  REQUIRE_FALSE(fs::exists(sound + "/visitsync.db-wal"));

  std::mt19937_64 rng(test::seed());
  int refused = 0;
  for (int round = 0; round < test::property_rounds(20); ++round) {
    std::string damaged = bytes;
    const std::string what = damage(damaged, rng);
    fs::remove_all(copy);
    fs::create_directories(copy);
    test::write_file(copy + "/visitsync.db", damaged);
    for (std::size_t i = 0; i < commands.size(); ++i) {
      std::vector<std::string> c = commands[i];
      c.insert(c.end(), {"--data", copy});
      const test::RunResult r =
          test::run(test::bin("visitsync"), c, std::chrono::milliseconds(20'000));
      INFO("round " << round << ": " << what << "; visitsync " << c[0] << " " << c[1] << " -> "
                    << r.exit_code << "\n"
                    << r.err.substr(0, 2000) << "\n"
                    << r.out.substr(0, 2000));
      CHECK(acceptable(r, sound_out[i]));
      if (r.exit_code != 0) ++refused;
    }
  }
  // The damage did reach what the commands read: some calls were refused.
  CHECK(refused > 0);
}
