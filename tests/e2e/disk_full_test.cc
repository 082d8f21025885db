// A full disk, for real: the test mounts a small tmpfs (it needs root, or CAP_SYS_ADMIN, as the
// test script has: it installs packages), puts a device's or the hub's data folder on it, and
// fills it with a file. Writes then fail with exit 1 and "disk is full", nothing acknowledged is
// lost, reads and exports go on, the hub refuses the push it cannot store (the device keeps its
// ops) and still serves pulls; once the file is gone, work resumes.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/tools.h"

using namespace vs::test;
using nlohmann::json;

namespace {

// A tmpfs of `bytes` mounted at `path` for the test's lifetime.
class SmallDisk {
 public:
  SmallDisk(const std::string& path, std::size_t bytes) : path_(path) {
    std::filesystem::create_directories(path);
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    const int rc = mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str());
    INFO("mounting a " << bytes << "-byte tmpfs at " << path << ": " << std::strerror(errno)
                       << " (the disk-full tests need root or CAP_SYS_ADMIN)");
    REQUIRE(rc == 0);
  }
  ~SmallDisk() { umount2(path_.c_str(), MNT_DETACH); }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  // Writes a file until the disk has no room left.
  void fill() const {
    const int fd = open(filler().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    const std::string block(4096, 'f');
    std::size_t written = 0;
    while (written < (std::size_t{1} << 30) && write(fd, block.data(), block.size()) > 0)
      written += block.size();
    const int full = errno;
    close(fd);
    INFO("filling " << path_ << ": " << std::strerror(full));
    REQUIRE(full == ENOSPC);
  }
  void free_space() const { REQUIRE(unlink(filler().c_str()) == 0); }
  const std::string& path() const { return path_; }

 private:
  std::string filler() const { return path_ + "/filler"; }
  std::string path_;
};

std::string long_note(int i) { return "note " + std::to_string(i) + " " + std::string(1500, 'n'); }

}  // namespace

TEST_CASE("a device on a full disk refuses writes with exit 1, keeps reading, and resumes",
          "[e2e][disk]") {
  TempDir dir;
  const SmallDisk disk(dir.file("small"), 4 << 20);
  const std::string data = disk.path() + "/device";
  ok("visitsync", {"init", "--data", data, "--standalone", "--inspector", "I0011", "--reference",
                   sample_dir(), "--templates", templates_dir()});
  const std::string visit = ok("visitsync", {"visit", "start", "--data", data, "--school", "S00001",
                                             "--template", "school-conditions"});
  ok("visitsync", {"visit", "set", "--data", data, visit, "class_count", "7"});
  disk.fill();

  // Notes until the disk refuses one: that one fails as a full disk, clearly.
  int acknowledged = 0;
  RunResult refused;
  for (; acknowledged < 300; ++acknowledged) {
    refused = tool("visitsync", {"visit", "note", "--data", data, visit, "inspector_notes",
                                 long_note(acknowledged)});
    if (refused.exit_code != 0) break;
  }
  INFO("after " << acknowledged << " notes: exit " << refused.exit_code << ": " << refused.err);
  REQUIRE(acknowledged < 300);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("disk is full"));
  CHECK_THAT(refused.err, Catch::Contains("nothing was stored"));

  // Still full: reads, the status and exports work, and show every write that returned.
  const json shown =
      json::parse(ok("visitsync", {"visit", "show", "--data", data, visit, "--json"}));
  CHECK(shown["answers"]["class_count"] == 7);
  CHECK(shown["answers"]["inspector_notes"].size() == static_cast<std::size_t>(acknowledged));
  CHECK_THAT(ok("visitsync", {"export", "--data", data, "--format", "csv"}),
             Catch::Contains(visit));
  CHECK(json::parse(ok("visitsync", {"status", "--data", data, "--json"}))["visits"] == 1);
  const RunResult again =
      tool("visitsync", {"visit", "set", "--data", data, visit, "class_count", "8"});
  CHECK(again.exit_code == 1);

  // Room again: writes go on, and the store is sound (every command checks its integrity).
  disk.free_space();
  ok("visitsync", {"visit", "note", "--data", data, visit, "inspector_notes", "after"});
  ok("visitsync", {"visit", "set", "--data", data, visit, "class_count", "9"});
  const json after =
      json::parse(ok("visitsync", {"visit", "show", "--data", data, visit, "--json"}));
  CHECK(after["answers"]["class_count"] == 9);
  CHECK(after["answers"]["inspector_notes"].size() == static_cast<std::size_t>(acknowledged + 1));
}

TEST_CASE("a hub on a full disk refuses the push it cannot store, serves pulls, and resumes",
          "[e2e][disk]") {
  TempDir dir;
  const SmallDisk disk(dir.file("small"), 8 << 20);
  const std::string hub = disk.path() + "/hub";
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  ok("visitsync-admin", {"init", "--data", hub, "--hub-address", address, "--ca", dir.file("ca")});
  for (const char* k : {"schools", "inspectors", "assignments"})
    ok("visitsync-admin", {"import", "--data", hub, k, sample_dir() + "/" + k + ".csv"});
  ok("visitsync-admin",
     {"template", "publish", "--data", hub, templates_dir() + "/school-conditions.json"});
  // Two inspectors of school S00001, their devices on a disk with room.
  std::string device[2];
  const char* inspector[2] = {"I0011", "I0021"};
  for (int i = 0; i < 2; ++i) {
    device[i] = dir.file(std::string("device-") + inspector[i]);
    const std::string file = device[i] + ".json";
    ok("visitsync-admin", {"enroll-device", "--data", hub, "--inspector", inspector[i], "--out",
                           file, "--ca", dir.file("ca")});
    ok("visitsync", {"init", "--data", device[i], "--enroll", file});
  }
  BackgroundProcess server(bin("visitsync-hub"), {"--data", hub, "--listen", address},
                           dir.file("hub.log"));
  REQUIRE(server.wait_for_log("listening on", std::chrono::seconds(10)));
  for (const std::string& d : device) ok("visitsync", {"sync", "--data", d});  // reference data
  const std::string visit = ok("visitsync", {"visit", "start", "--data", device[0], "--school",
                                             "S00001", "--template", "school-conditions"});
  ok("visitsync", {"visit", "set", "--data", device[0], visit, "class_count", "7"});
  ok("visitsync", {"sync", "--data", device[0]});
  disk.fill();

  // Full: the other device still pulls what the hub holds.
  ok("visitsync", {"sync", "--data", device[1]});
  CHECK(json::parse(ok("visitsync", {"visit", "show", "--data", device[1], visit,
                                     "--json"}))["answers"]["class_count"] == 7);
  // A push the hub cannot store is refused as a failure to retry (exit 3); the device keeps it.
  for (int i = 0; i < 20; ++i)
    ok("visitsync", {"visit", "note", "--data", device[0], visit, "inspector_notes", long_note(i)});
  const RunResult pushed = tool("visitsync", {"sync", "--data", device[0]});
  INFO(pushed.err << "\n" << server.log());
  CHECK(pushed.exit_code == 3);
  CHECK_THAT(pushed.err, Catch::Contains("the hub's store failed (on the hub, not here)"));
  CHECK_THAT(pushed.err, Catch::Contains("disk is full"));
  CHECK(json::parse(ok("visitsync", {"status", "--data", device[0], "--json"}))["unsynced_ops"] ==
        20);
  CHECK(server.running());

  // Room again: the same device's next sync stores all of it, and it reaches the other device.
  disk.free_space();
  ok("visitsync", {"sync", "--data", device[0]});
  CHECK(json::parse(ok("visitsync", {"status", "--data", device[0], "--json"}))["unsynced_ops"] ==
        0);
  ok("visitsync", {"sync", "--data", device[1]});
  CHECK(json::parse(ok("visitsync", {"visit", "show", "--data", device[1], visit,
                                     "--json"}))["answers"]["inspector_notes"]
            .size() == 20);
  CHECK(server.terminate() == 0);
}
