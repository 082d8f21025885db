// The repository stands alone: a copy of its tracked files, in a folder with nothing beside it,
// runs the demo and a benchmark. Nothing they read may lie outside the copy.
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/process.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using namespace vs;

// The tracked files (git ls-files), or, outside a git checkout, the source tree without its
// build folders.
std::vector<std::string> tracked_files() {
  std::vector<std::string> files;
  test::RunResult git = test::run("/usr/bin/git", {"-C", VS_SOURCE_DIR, "ls-files", "-z"});
  if (git.exit_code == 0) {
    for (std::size_t at = 0; at < git.out.size();) {
      const std::size_t end = git.out.find('\0', at);
      files.push_back(git.out.substr(at, end - at));
      at = end == std::string::npos ? git.out.size() : end + 1;
    }
    return files;
  }
  const fs::path root(VS_SOURCE_DIR);
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name == ".git" || name.rfind("build", 0) == 0)) {
      it.disable_recursion_pending();
    } else if (it->is_regular_file()) {
      files.push_back(fs::relative(it->path(), root).string());
    }
  }
  return files;
}

// Copies the tracked files into `to`, keeping their modes (the scripts stay executable).
void copy_repository(const fs::path& to) {
  const std::vector<std::string> files = tracked_files();
  REQUIRE(files.size() > 50);
  for (const std::string& f : files) {
    const fs::path from = fs::path(VS_SOURCE_DIR) / f;
    if (!fs::is_regular_file(from)) continue;  // a file deleted in the work tree
    fs::create_directories((to / f).parent_path());
    fs::copy_file(from, to / f);
  }
}

}  // namespace

TEST_CASE("a copy of the repository with nothing beside it runs the demo and a benchmark",
          "[e2e][standalone]") {
  test::TempDir dir;
  const fs::path clone = dir.path() / "clone";
  copy_repository(clone);
  // The copy's only neighbour is what this test makes next to it, after the copy.
  REQUIRE(!fs::exists(clone.parent_path() / "shared"));
  REQUIRE(fs::exists(clone / "schema/sample/schools.csv"));

  setenv("VS_BIN", VS_TOOLS_DIR, 1);
  test::RunResult demo = test::run(
      "/bin/bash", {(clone / "tools/demo.sh").string(), "--no-build", "--dir", dir.file("demo")},
      std::chrono::seconds(120));
  INFO(demo.out << "\n" << demo.err);
  REQUIRE(demo.exit_code == 0);
  CHECK_THAT(demo.out, Catch::Contains("exports identical on the hub and all 3 devices: yes"));
  CHECK_THAT(demo.out, Catch::Contains(clone.string() + "/schema/sample/schools.csv"));
  CHECK_THAT(demo.out, Catch::Contains(clone.string() + "/schema/templates/"));

  test::RunResult bench = test::run(VS_BENCH_BIN,
                                    {"sync", "--visits", "20", "--items", "30", "--work",
                                     dir.file("bench"), "--tools", VS_TOOLS_DIR},
                                    std::chrono::seconds(120));
  INFO(bench.out << "\n" << bench.err);
  REQUIRE(bench.exit_code == 0);
  CHECK_THAT(bench.out, Catch::Contains("\"converged\":\"yes\""));
  CHECK_THAT(bench.out, Catch::Contains("\"visits\":20"));
}
