// visitsync-admin import, run as a user would, on files of thousands of rows: the file is
// streamed; a bad line late in it refuses the whole file and names the file and the line;
// inputs past a limit, and files that are not regular files, are refused with exit 2.
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <catch2/catch.hpp>

#include "support/process.h"
#include "support/test_support.h"

namespace {

using namespace vs;

test::RunResult admin(const std::vector<std::string>& args) {
  return test::run(std::string(VS_TOOLS_DIR) + "/visitsync-admin", args);
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// `text` with the cell `cell` (0-based) of line `line` (1-based) replaced by `value` (the
// sample quotes nothing).
std::string with_cell(const std::string& text, std::size_t line, std::size_t cell,
                      const std::string& value) {
  std::size_t at = 0;
  for (std::size_t l = 1; l < line; ++l) at = text.find('\n', at) + 1;
  for (std::size_t c = 0; c < cell; ++c) at = text.find(',', at) + 1;
  const std::size_t end = text.find_first_of(",\n", at);
  return text.substr(0, at) + value + text.substr(end);
}

}  // namespace

TEST_CASE("an import refuses a file whole at a bad line late in it, naming the file and line",
          "[e2e][import][input]") {
  test::TempDir dir;
  const std::string ref = dir.file("ref");
  REQUIRE(admin({"sample", "--out", ref, "--schools", "20000", "--inspectors", "2000", "--counties",
                 "100"})
              .exit_code == 0);
  const std::string hub = dir.file("hub");
  REQUIRE(admin({"init", "--data", hub, "--hub-address", "127.0.0.1:7443"}).exit_code == 0);
  const std::string schools = test::slurp(ref + "/schools.csv");

  const std::string bad = dir.file("bad.csv");
  write(bad, with_cell(schools, 19990, 7, "many"));
  test::RunResult r = admin({"import", "--data", hub, "schools", bad});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(bad + ": 1 bad row, nothing imported") &&
                        Catch::Contains("line 19990: students: 'many' is not a count"));

  // A cell past the reader's limit stops the import there; the message quotes none of it.
  const std::string long_cell = dir.file("long.csv");
  write(long_cell, with_cell(schools, 3, 1, std::string(5000, 'x')));
  r = admin({"import", "--data", hub, "schools", long_cell});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("nothing imported: line 3, column 2: a cell longer than 1024 "
                                    "bytes"));
  CHECK(r.err.size() < 300);

  // A FIFO is refused at once; a file over 1 GiB before a byte of it is read (a sparse file).
  const std::string fifo = dir.file("fifo.csv");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  r = admin({"import", "--data", hub, "schools", fifo});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(fifo + " is a FIFO, not a regular file"));
  const std::string huge = dir.file("huge.csv");
  write(huge, "");
  std::filesystem::resize_file(huge, (std::uintmax_t{1} << 30) + 1);
  r = admin({"import", "--data", hub, "schools", huge});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(huge + ": 1073741825 bytes, at most 1073741824 allowed"));

  // Nothing of the refused files was stored: the good file's rows are all new.
  r = admin({"import", "--data", hub, "schools", ref + "/schools.csv"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "imported 20000 schools: 20000 new, 0 updated, 0 unchanged\n");
  for (const char* k : {"inspectors", "assignments"}) {
    r = admin({"import", "--data", hub, k, ref + "/" + k + ".csv"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
}
