// The deployment CA kept apart from the hub (tools/COMMANDS.md, "The CA folder"), with the real
// binaries: what init writes where, enrollment from the CA folder or from a copy of it on
// "another machine", the hub refusing a CA key in its tls folder, and devices so enrolled syncing.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <catch2/catch.hpp>

#include <visitsync/transport/deployment.h>

#include "e2e/tools.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace vs;
namespace fs = std::filesystem;

namespace {

using test::bin;
using test::ok;
using test::tool;

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777u;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Every file under `root` whose bytes hold a PEM private key, relative to `root`, sorted.
std::vector<std::string> files_with_private_keys(const std::string& root) {
  std::vector<std::string> out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    if (test::slurp(e.path().string()).find("PRIVATE KEY") != std::string::npos)
      out.push_back(fs::relative(e.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A hub folder as an administrator makes it, with the sample's inspectors (and, when `full`,
// its schools, assignments and the school-conditions template, for syncing).
struct Hub {
  std::string path;
  std::string ca;  // init's default CA folder
  std::string address;
};

Hub make_hub(const test::TempDir& dir, const std::string& name, bool full = false) {
  Hub h;
  h.path = dir.file(name);
  h.ca = h.path + "-ca";
  h.address = "127.0.0.1:" + std::to_string(test::free_port());
  ok("visitsync-admin", {"init", "--data", h.path, "--hub-address", h.address});
  for (const char* k : {"inspectors", "schools", "assignments"}) {
    if (full || std::string(k) == "inspectors")
      ok("visitsync-admin", {"import", "--data", h.path, k, test::sample_dir() + "/" + k + ".csv"});
  }
  if (full) {
    ok("visitsync-admin", {"template", "publish", "--data", h.path,
                           test::templates_dir() + "/school-conditions.json"});
  }
  return h;
}

std::size_t device_count(const Hub& h) {
  const std::string list = ok("visitsync-admin", {"devices", "--data", h.path});
  return list.empty() ? 0
                      : static_cast<std::size_t>(std::count(list.begin(), list.end(), '\n')) + 1;
}

// A bad command: exit 2, stderr holding each of `says`, and `unwritten` not made.
void refused(const char* name, const std::vector<std::string>& args,
             const std::vector<std::string>& says, const std::string& unwritten = "") {
  test::RunResult r = tool(name, args);
  INFO(name << " " << args[0] << " -> " << r.exit_code << "\n" << r.err);
  CHECK(r.exit_code == 2);
  for (const std::string& s : says) CHECK_THAT(r.err, Catch::Contains(s));
  if (!unwritten.empty()) CHECK_FALSE(fs::exists(unwritten));
}

void copy_folder(const std::string& from, const std::string& to) {
  fs::create_directories(fs::path(to).parent_path());
  fs::copy(from, to, fs::copy_options::recursive);
}

}  // namespace

TEST_CASE("visitsync-admin init keeps the CA's private key out of the hub's data folder",
          "[e2e][ca]") {
  test::TempDir dir;
  const Hub h = make_hub(dir, "hub");
  CHECK(names_in(h.path + "/tls") == std::vector<std::string>{"ca.pem", "hub.key", "hub.pem"});
  CHECK(files_with_private_keys(h.path) == std::vector<std::string>{"tls/hub.key"});
  CHECK(names_in(h.ca) == std::vector<std::string>{"ca.key", "ca.pem"});
  CHECK(files_with_private_keys(h.ca) == std::vector<std::string>{"ca.key"});
  CHECK(test::slurp(h.ca + "/ca.pem") == test::slurp(h.path + "/tls/ca.pem"));
  CHECK(mode_of(h.ca) == 0700);
  CHECK(mode_of(h.path + "/tls") == 0700);
  for (const std::string& f : {h.ca + "/ca.key", h.ca + "/ca.pem", h.path + "/tls/hub.key"}) {
    INFO(f);
    CHECK(mode_of(f) == 0600);
  }

  SECTION("--ca puts the CA where it says, creating the folders") {
    const std::string ca = dir.file("keys/deployment/ca");
    ok("visitsync-admin",
       {"init", "--data", dir.file("other"), "--hub-address", "127.0.0.1:7000", "--ca", ca});
    CHECK(names_in(ca) == std::vector<std::string>{"ca.key", "ca.pem"});
    CHECK(mode_of(ca) == 0700);
    CHECK_FALSE(fs::exists(dir.file("other-ca")));
    CHECK(files_with_private_keys(dir.file("other")) == std::vector<std::string>{"tls/hub.key"});
  }
}

TEST_CASE("visitsync-admin init refuses a CA folder it must not use, and makes nothing",
          "[e2e][ca][input]") {
  test::TempDir dir;
  const std::string hub = dir.file("hub");
  const std::vector<std::string> init = {"init", "--data", hub, "--hub-address", "127.0.0.1:7000"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = init;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  refused("visitsync-admin", with({"--ca", hub + "/ca"}),
          {"--ca: ", "is inside the hub's data folder"}, hub);
  refused("visitsync-admin", with({"--ca", hub}), {"--ca: ", "apart from"}, hub);
  refused("visitsync-admin", with({"--ca", dir.path().string()}), {"--ca: ", "holds the hub's"},
          hub);
  refused("visitsync-admin", with({"--ca", ""}), {"--ca: empty"}, hub);
  std::ofstream(dir.file("a-file")) << "x";
  refused("visitsync-admin", with({"--ca", dir.file("a-file")}), {"--ca: ", "not a folder"}, hub);
  refused("visitsync-admin", with({"--ca"}), {"--ca needs a value"}, hub);
  CHECK_FALSE(fs::exists(hub + "-ca"));

  // A CA folder left from an earlier deployment: a second CA there would orphan its devices.
  const Hub first = make_hub(dir, "first");
  const std::string key = test::slurp(first.ca + "/ca.key");
  refused("visitsync-admin", with({"--ca", first.ca}), {"--ca: ", "holds a deployment CA already"},
          hub);
  fs::remove_all(first.path);
  refused("visitsync-admin", {"init", "--data", first.path, "--hub-address", "127.0.0.1:7000"},
          {"--ca: ", first.ca, "holds a deployment CA already"}, first.path);
  CHECK(test::slurp(first.ca + "/ca.key") == key);
  CHECK(names_in(first.ca) == std::vector<std::string>{"ca.key", "ca.pem"});
}

TEST_CASE("enroll-device signs with the CA folder, and a missing or wrong one writes nothing",
          "[e2e][ca][input]") {
  test::TempDir dir;
  const Hub h = make_hub(dir, "hub");
  const std::string hub_ca = test::slurp(h.path + "/tls/ca.pem");
  auto enroll = [&](const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"enroll-device", "--data", h.path, "--inspector",
                                     "I0011",         "--out",  out};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::string id = ok("visitsync-admin", enroll(dir.file("a.json")));
  Result<Enrollment> a = read_enrollment_file(dir.file("a.json"));
  REQUIRE(a.ok());
  CHECK(a->device_id == id);
  CHECK(a->ca_pem == hub_ca);
  CHECK(mode_of(dir.file("a.json")) == 0600);
  REQUIRE(device_count(h) == 1);

  // The CA folder moves away: enrolling needs it named, and works from where it is.
  const std::string moved = dir.file("usb/hub-ca");
  copy_folder(h.ca, moved);
  fs::remove_all(h.ca);
  refused("visitsync-admin", enroll(dir.file("b.json")), {"--ca: ", h.ca, "is not a folder"},
          dir.file("b.json"));
  ok("visitsync-admin", enroll(dir.file("b.json"), {"--ca", moved}));
  Result<Enrollment> b = read_enrollment_file(dir.file("b.json"));
  REQUIRE(b.ok());
  CHECK(b->ca_pem == hub_ca);
  REQUIRE(device_count(h) == 2);

  SECTION("another deployment's CA") {
    const Hub other = make_hub(dir, "other");
    refused("visitsync-admin", enroll(dir.file("c.json"), {"--ca", other.ca}),
            {"--ca: ", other.ca, "another deployment's CA"}, dir.file("c.json"));
  }
  SECTION("a CA folder without the key") {
    fs::remove(moved + "/ca.key");
    refused("visitsync-admin", enroll(dir.file("c.json"), {"--ca", moved}),
            {"--ca: ", "holds no ca.key"}, dir.file("c.json"));
  }
  SECTION("a CA key that is not the CA certificate's") {
    const Hub other = make_hub(dir, "other");
    fs::copy_file(other.ca + "/ca.key", moved + "/ca.key", fs::copy_options::overwrite_existing);
    refused("visitsync-admin", enroll(dir.file("c.json"), {"--ca", moved}),
            {"--ca: ", "is not the key of"}, dir.file("c.json"));
  }
  SECTION("bad --out, --inspector, --data or --ca") {
    refused("visitsync-admin", enroll(dir.file("missing/c.json"), {"--ca", moved}),
            {"--out: ", "does not exist"});
    refused("visitsync-admin", enroll(dir.path().string(), {"--ca", moved}),
            {"--out: ", "is a folder"});
    refused("visitsync-admin", enroll("", {"--ca", moved}), {"--out: empty"});
    refused("visitsync-admin", enroll(dir.file("c.json"), {"--ca", ""}), {"--ca: empty"},
            dir.file("c.json"));
    refused("visitsync-admin",
            {"enroll-device", "--data", h.path, "--inspector", "I9999", "--out", dir.file("c.json"),
             "--ca", moved},
            {"--inspector: "}, dir.file("c.json"));
    refused("visitsync-admin",
            {"enroll-device", "--data", dir.file("nowhere"), "--inspector", "I0011", "--out",
             dir.file("c.json"), "--ca", moved},
            {"--data: "}, dir.file("c.json"));
  }
  CHECK(device_count(h) == 2);
}

TEST_CASE("visitsync-hub refuses to start while its tls folder holds a private key but hub.key",
          "[e2e][ca][input]") {
  test::TempDir dir;
  const Hub h = make_hub(dir, "hub", /*full=*/true);
  const std::vector<std::string> serve = {"--data", h.path, "--listen", h.address};

  SECTION("the CA's key, as an older visitsync-admin left it: the message's steps move it") {
    fs::rename(h.ca + "/ca.key", h.path + "/tls/ca.key");
    fs::remove_all(h.ca);
    test::RunResult r = test::run(bin("visitsync-hub"), serve, std::chrono::seconds(20));
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("refusing to start") &&
                          Catch::Contains(h.path + "/tls/ca.key") && Catch::Contains(h.ca));
    CHECK_THAT(r.out, !Catch::Contains("listening"));
    // The steps the message gives, run as printed, bring the hub back with the CA beside it.
    const std::string from = "move it into a CA folder of its own: ";
    const std::size_t at = r.err.find(from);
    REQUIRE(at != std::string::npos);
    const std::string steps =
        r.err.substr(at + from.size(), r.err.find("; then") - at - from.size());
    REQUIRE(test::run("/bin/sh", {"-c", steps}).exit_code == 0);
    CHECK(files_with_private_keys(h.path) == std::vector<std::string>{"tls/hub.key"});
    CHECK(mode_of(h.ca) == 0700);

    test::BackgroundProcess server(bin("visitsync-hub"), serve, dir.file("hub.log"));
    REQUIRE(server.wait_for_log("listening on", std::chrono::seconds(10)));
    ok("visitsync-admin",
       {"enroll-device", "--data", h.path, "--inspector", "I0011", "--out", dir.file("d.json")});
    ok("visitsync", {"init", "--data", dir.file("d"), "--enroll", dir.file("d.json")});
    CHECK_THAT(ok("visitsync", {"sync", "--data", dir.file("d")}), Catch::Contains("pulled"));
    CHECK(server.terminate() == 0);
  }
  SECTION("a CA key under another name") {
    fs::copy_file(h.ca + "/ca.key", h.path + "/tls/old-ca.pem");
    test::RunResult r = test::run(bin("visitsync-hub"), serve, std::chrono::seconds(20));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(h.path + "/tls/old-ca.pem") &&
                          Catch::Contains("holds a private key"));
  }
  SECTION("an empty ca.key still says where the CA's key belongs") {
    std::ofstream(h.path + "/tls/ca.key").flush();
    test::RunResult r = test::run(bin("visitsync-hub"), serve, std::chrono::seconds(20));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("tls/ca.key"));
  }
}

TEST_CASE("a CA kept off the hub's machine enrolls devices the running hub authenticates",
          "[e2e][ca][sync]") {
  test::TempDir dir;
  const Hub h = make_hub(dir, "hub", /*full=*/true);
  const std::string offline = dir.file("offline/hub-ca");  // the removable medium
  copy_folder(h.ca, offline);
  fs::remove_all(h.ca);
  test::BackgroundProcess server(bin("visitsync-hub"), {"--data", h.path, "--listen", h.address},
                                 dir.file("hub.log"));
  REQUIRE(server.wait_for_log("listening on", std::chrono::seconds(10)));

  // On the hub: a request, with no key in it. Offline: the signature. Back: the device.
  const std::string id = ok("visitsync-admin", {"enroll-request", "--data", h.path, "--inspector",
                                                "I0011", "--out", dir.file("request.json")});
  CHECK_THAT(test::slurp(dir.file("request.json")), !Catch::Contains("PRIVATE KEY"));
  CHECK_THAT(ok("visitsync-admin", {"devices", "--data", h.path}), Catch::Contains(id));
  CHECK(ok("visitsync-admin", {"enroll-sign", "--ca", offline, "--request",
                               dir.file("request.json"), "--out", dir.file("a.json")}) == id);
  CHECK(mode_of(dir.file("a.json")) == 0600);
  ok("visitsync", {"init", "--data", dir.file("a"), "--enroll", dir.file("a.json")});
  CHECK_THAT(ok("visitsync", {"sync", "--data", dir.file("a")}), Catch::Contains("pulled"));

  // The medium plugged into the hub's machine: one step.
  ok("visitsync-admin", {"enroll-device", "--data", h.path, "--inspector", "I0021", "--out",
                         dir.file("b.json"), "--ca", offline});
  ok("visitsync", {"init", "--data", dir.file("b"), "--enroll", dir.file("b.json")});
  CHECK_THAT(ok("visitsync", {"sync", "--data", dir.file("b")}), Catch::Contains("pulled"));

  SECTION("enroll-sign refuses another deployment's CA and bad files, writing nothing") {
    const Hub other = make_hub(dir, "other");
    const std::string out = dir.file("c.json");
    refused("visitsync-admin",
            {"enroll-sign", "--ca", other.ca, "--request", dir.file("request.json"), "--out", out},
            {"--ca: ", other.ca, "another deployment's CA"}, out);
    refused("visitsync-admin",
            {"enroll-sign", "--ca", offline, "--request", dir.file("a.json"), "--out", out},
            {"--request: ", "signed already"}, out);
    refused("visitsync-admin",
            {"enroll-sign", "--ca", offline, "--request", dir.file("none.json"), "--out", out},
            {"--request: "}, out);
    refused("visitsync-admin",
            {"enroll-sign", "--ca", dir.file("nowhere"), "--request", dir.file("request.json"),
             "--out", out},
            {"--ca: ", "is not a folder"}, out);
    refused("visitsync-admin", {"enroll-sign", "--request", dir.file("request.json"), "--out", out},
            {"missing --ca"}, out);
    refused("visitsync-admin",
            {"enroll-sign", "--ca", offline, "--request", dir.file("request.json"), "--out",
             dir.file("missing/c.json")},
            {"--out: "});
  }
  CHECK(files_with_private_keys(h.path) == std::vector<std::string>{"tls/hub.key"});
  CHECK(server.terminate() == 0);
}
