// util/files.h: what every input file and output file of visitsync goes through.
#include "util/files.h"

#include <cstdio>
#include <filesystem>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "support/test_support.h"

using namespace vs;
namespace fs = std::filesystem;

TEST_CASE("only a regular file is read, within its limit", "[engine][files][input]") {
  test::TempDir dir;
  const std::string file = dir.file("a.csv");
  REQUIRE(util::replace_file(file, "abc").ok());
  CHECK(util::read_regular_file(file, 3).value() == "abc");
  Result<std::string> big = util::read_regular_file(file, 2);
  CHECK(big.status().message() == file + ": 3 bytes, at most 2 allowed");
  // A FIFO is refused at once (an open without O_NONBLOCK waits for a writer forever).
  const std::string fifo = dir.file("fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(util::read_regular_file(fifo, 10).status().message() ==
        fifo + " is a FIFO, not a regular file");
  CHECK(util::read_regular_file(dir.path().string(), 10).status().message() ==
        dir.path().string() + " is a folder, not a regular file");
  CHECK(util::read_regular_file("/dev/zero", 10).status().message() ==
        "/dev/zero is a device, not a regular file");
  Result<std::string> missing = util::read_regular_file(dir.file("none"), 10);
  CHECK(missing.status().code() == Code::kInvalidInput);
  CHECK(missing.status().message() == dir.file("none") + ": No such file or directory");
}

TEST_CASE("a file is replaced whole, and only a regular file is", "[engine][files][input]") {
  test::TempDir dir;
  const std::string out = dir.file("out.csv");
  REQUIRE(util::replace_file(out, "one").ok());
  REQUIRE(util::replace_file(out, "two", 0600).ok());
  CHECK(test::slurp(out) == "two");
  const fs::perms secret = fs::perms::owner_read | fs::perms::owner_write;
  CHECK((fs::status(out).permissions() & fs::perms::all) == secret);
  REQUIRE(util::replace_file(out, "three").ok());
  CHECK((fs::status(out).permissions() & fs::perms::others_read) != fs::perms::none);
  // Nothing is left beside it but the file itself.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);

  const std::string fifo = dir.file("fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_symlink(out, dir.file("link"));
  fs::create_directories(dir.file("folder"));
  for (const auto& [path, kind] :
       std::vector<std::pair<std::string, std::string>>{{fifo, "a FIFO"},
                                                        {dir.file("link"), "a symbolic link"},
                                                        {dir.file("folder"), "a folder"}}) {
    Status s = util::replace_file(path, "x");
    CHECK(s.code() == Code::kInvalidInput);
    CHECK(s.message() == path + " is " + kind + ", not a regular file: it is not replaced");
  }
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK(fs::is_symlink(fs::symlink_status(dir.file("link"))));
  CHECK(test::slurp(out) == "three");
  CHECK(util::replace_file(dir.file("none/x.csv"), "x").message() ==
        dir.file("none/x.csv") + ": folder " + dir.file("none") + " does not exist");
  CHECK(util::replace_file(out + "/x", "x").code() == Code::kInvalidInput);
  CHECK(util::replace_file("", "x").code() == Code::kInvalidInput);
}

TEST_CASE("a file system error is bad input when the path is at fault", "[engine][files]") {
  for (int e : {ENOENT, ENOTDIR, ENAMETOOLONG, ELOOP, EACCES, EROFS, EISDIR}) {
    CHECK(util::errno_error(e, "p").code() == Code::kInvalidInput);
  }
  for (int e : {EIO, ENOSPC, EDQUOT}) CHECK(util::errno_error(e, "p").code() == Code::kIo);
  CHECK(util::errno_error(ENOSPC, "/d/f").message() == "/d/f: No space left on device");
}

TEST_CASE("a file is read in pieces, within its limit", "[engine][files][input]") {
  test::TempDir dir;
  const std::string file = dir.file("a.csv");
  REQUIRE(util::replace_file(file, "abcdefg").ok());
  Result<util::InputFile> in = util::InputFile::open(file, 7);
  REQUIRE(in.ok());
  CHECK(in->size() == 7);
  char buf[4];
  CHECK(in->read(buf, 4).value() == 4);
  CHECK(std::string(buf, 4) == "abcd");
  CHECK(in->read(buf, 4).value() == 3);
  CHECK(in->read(buf, 4).value() == 0);
  // The size is checked when the file opens, before a byte is read: a sparse file of 1 GiB and
  // one byte is refused at once.
  const std::string big = dir.file("big.csv");
  REQUIRE(util::replace_file(big, "").ok());
  fs::resize_file(big, (std::uintmax_t{1} << 30) + 1);
  CHECK(util::InputFile::open(big, std::uintmax_t{1} << 30).status().message() ==
        big + ": 1073741825 bytes, at most 1073741824 allowed");
  CHECK(util::InputFile::open(dir.path().string(), 10).status().message() ==
        dir.path().string() + " is a folder, not a regular file");
  // A file that grows while it is read stops at the limit.
  Result<util::InputFile> growing = util::InputFile::open(file, 8);
  REQUIRE(growing.ok());
  {
    std::FILE* f = std::fopen(file.c_str(), "ab");
    REQUIRE(f != nullptr);
    std::fputs("hij", f);
    std::fclose(f);
  }
  char all[16];
  Result<std::size_t> n = growing->read(all, sizeof all);
  CHECK(n.status().message() == file + ": more than 8 bytes (it grew while being read)");
}
