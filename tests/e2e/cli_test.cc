// The visitsync binary, run as a user would: init a standalone device from the sample reference
// data, a visit of each of the four templates with every item answered, invalid values, a submit
// with a required item missing, and the CSV export.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/test_support.h"

using namespace vs;
using nlohmann::json;

namespace {

constexpr const char* kSchool = "S00011";  // junior, assigned to I0011: all four templates apply

struct Device {
  test::TempDir dir;
  std::string data = dir.file("device");

  test::RunResult vs(std::vector<std::string> args) {
    // Every command after the command words takes --data; put it last.
    args.push_back("--data");
    args.push_back(data);
    return test::run(VS_VISITSYNC_BIN, args);
  }
  std::string ok(const std::vector<std::string>& args) {
    test::RunResult r = vs(args);
    INFO(args.front() << (args.size() > 1 ? " " + args[1] : "") << " -> " << r.exit_code << "\n"
                      << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
  json show(const std::string& id) { return json::parse(ok({"visit", "show", id, "--json"})); }
};

// A valid command-line value for each item of a template.
std::string valid_value(const json& item, const std::string& photo) {
  const std::string type = item["type"];
  if (type == "yes_no") return "yes";
  if (type == "integer" || type == "score") {
    const long lo = item.value("min", 0L);
    const long hi = item.value("max", lo + 10);
    return std::to_string((lo + hi) / 2);
  }
  if (type == "decimal") return std::to_string(item.value("max", 100.0) / 4);
  if (type == "choice") return item["options"].back();
  if (type == "multi_choice")
    return std::string(item["options"][0]) + "," + std::string(item["options"][1]);
  if (type == "date") return "2026-11-20";
  if (type == "gps") return "39.10855,112.90834,8";
  if (type == "photo") return photo;
  return "检查记录 notes";
}

}  // namespace

TEST_CASE_METHOD(Device, "an inspector records a visit of each template with the command line",
                 "[e2e][cli]") {
  const std::string ref = test::sample_dir();
  const std::string init = ok({"init", "--standalone", "--inspector", "I0011", "--reference", ref,
                               "--templates", test::templates_dir()});
  CHECK_THAT(init, Catch::Contains("standalone device") && Catch::Contains("I0011"));
  test::RunResult again = vs({"init", "--standalone", "--inspector", "I0011", "--reference", ref,
                              "--templates", test::templates_dir()});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("holds a visitsync store already"));

  const std::string photo = dir.file("fire-exit.jpg");
  {
    std::ofstream f(photo, std::ios::binary);
    f << std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11) << "a photo of a fire exit";
  }

  std::map<std::string, std::string> visits;
  for (const char* tmpl :
       {"school-conditions", "campus-safety", "teaching-practice", "rural-support"}) {
    INFO(tmpl);
    const json t = json::parse(test::slurp(test::templates_dir() + "/" + tmpl + ".json"));
    std::string id = ok({"visit", "start", "--school", kSchool, "--template", tmpl});
    id.erase(id.find_last_not_of('\n') + 1);
    REQUIRE(id.size() == 36);
    visits[tmpl] = id;

    // Every item but the last required one, then a submit that names it.
    std::vector<json> items;
    for (const json& s : t["sections"]) {
      for (const json& i : s["items"]) items.push_back(i);
    }
    std::string held_back;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      if (it->value("required", false)) {
        held_back = (*it)["key"];
        break;
      }
    }
    REQUIRE_FALSE(held_back.empty());
    for (const json& item : items) {
      const std::string key = item["key"];
      if (key == held_back) continue;
      if (item.value("merge", "") == "append") {
        ok({"visit", "note", id, key, "第一条 first note"});
        ok({"visit", "note", id, key, "second note, with a comma"});
      } else {
        ok({"visit", "set", id.substr(0, 8), key, valid_value(item, photo)});
      }
    }
    test::RunResult missing = vs({"visit", "submit", id});
    CHECK(missing.exit_code == 2);
    CHECK_THAT(missing.err, Catch::Contains("required items not answered: " + held_back));
    CHECK(show(id)["status"] == "draft");

    // Invalid values: exit 2, the reason on stderr, nothing stored.
    const json before = show(id);
    for (const json& item : items) {
      const std::string type = item["type"];
      std::string bad = type == "yes_no" ? "perhaps"
                        : type == "date" ? "2026-02-30"
                        : type == "gps"  ? "north"
                                         : "";
      if (type == "integer" || type == "score") bad = std::to_string(item.value("max", 100L) + 1);
      if (type == "choice" || type == "multi_choice") bad = "not_an_option";
      if (bad.empty()) continue;
      test::RunResult r = vs({"visit", "set", id, item["key"], bad});
      INFO(item["key"] << " = " << bad);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::StartsWith("visitsync: error: " + std::string(item["key"])));
    }
    CHECK(show(id) == before);

    const json held = *std::find_if(items.begin(), items.end(),
                                    [&](const json& i) { return i["key"] == held_back; });
    ok({"visit", "set", id, held_back, valid_value(held, photo)});
    CHECK_THAT(ok({"visit", "submit", id}), Catch::Contains("submitted"));
    const json done = show(id);
    CHECK(done["status"] == "submitted");
    CHECK(done["missing_required"].empty());
    for (const json& item : items) {
      INFO(item["key"]);
      CHECK_FALSE(done["answers"][std::string(item["key"])].is_null());
    }
    test::RunResult locked =
        vs({"visit", "set", id, items.front()["key"], valid_value(items.front(), photo)});
    CHECK(locked.exit_code == 2);
    CHECK_THAT(locked.err, Catch::Contains("locked"));
  }

  // The photo was stored once, under its SHA-256.
  const json cs = show(visits["campus-safety"]);
  REQUIRE(cs["answers"]["fire_photos"].size() == 1);
  CHECK(std::filesystem::exists(data + "/attachments/" +
                                std::string(cs["answers"]["fire_photos"][0])));

  // The list and the status agree.
  const json list = json::parse(ok({"visit", "list", "--json"}));
  CHECK(list.size() == 4);
  const json status = json::parse(ok({"status", "--json"}));
  CHECK(status["visits_by_status"]["submitted"] == 4);
  CHECK(status["mode"] == "standalone");

  // CSV: a byte-order mark, the items in template order, one row per visit, readable Chinese.
  const std::string out = dir.file("school-conditions.csv");
  ok({"export", "--format", "csv", "--template", "school-conditions", "--out", out});
  const std::string csv = test::slurp(out);
  REQUIRE(csv.substr(0, 3) == "\xEF\xBB\xBF");
  const std::string header = csv.substr(3, csv.find("\r\n") - 3);
  CHECK_THAT(header, Catch::StartsWith("visit_id,school_id,school_name,county,template_id"));
  const json t = json::parse(test::slurp(test::templates_dir() + "/school-conditions.json"));
  std::string expected_items;
  for (const json& s : t["sections"]) {
    for (const json& i : s["items"]) expected_items += "," + std::string(i["key"]);
  }
  CHECK_THAT(header, Catch::EndsWith(expected_items));
  CHECK_THAT(csv, Catch::Contains(visits["school-conditions"] + ",S00011,代县"));
  CHECK_THAT(csv, Catch::Contains(",submitted,1,I0011,"));
  CHECK_THAT(csv, Catch::Contains("\"第一条 first note\nsecond note, with a comma\""));
  CHECK(std::count(csv.begin(), csv.end(), '\n') >= 2);

  test::RunResult mixed = vs({"export", "--format", "csv"});
  CHECK(mixed.exit_code == 2);
  CHECK_THAT(mixed.err, Catch::Contains("needs --template"));
  const std::string jsonl = ok({"export", "--format", "jsonl"});
  CHECK(std::count(jsonl.begin(), jsonl.end(), '\n') == 4);
  CHECK_THAT(ok({"export", "--format", "summary"}),
             Catch::Contains("school,S00011,") && Catch::Contains("county,代县,"));
}

TEST_CASE_METHOD(Device, "the command line explains itself and refuses bad usage",
                 "[e2e][cli][input]") {
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"init"},
                                             {"visit", "start"},
                                             {"visit", "set"},
                                             {"visit", "note"},
                                             {"visit", "submit"},
                                             {"visit", "show"},
                                             {"visit", "list"},
                                             {"visit", "review"},
                                             {"conflicts"},
                                             {"resolve"},
                                             {"sync"},
                                             {"export"},
                                             {"status"}}) {
    std::vector<std::string> args = cmd;
    args.push_back("--help");
    test::RunResult r = test::run(VS_VISITSYNC_BIN, args);
    INFO(cmd.front());
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("usage: visitsync " + cmd.front()));
  }
  CHECK(test::run(VS_VISITSYNC_BIN, {"--help"}).exit_code == 0);
  test::RunResult group = test::run(VS_VISITSYNC_BIN, {"visit", "--help"});
  CHECK(group.exit_code == 0);
  CHECK_THAT(group.out, Catch::Contains("visit set") && Catch::Contains("visit review") &&
                            !Catch::Contains("conflicts"));
  CHECK(test::run(VS_VISITSYNC_BIN, {"visit"}).exit_code == 2);
  CHECK(test::run(VS_VISITSYNC_BIN, {"visit", "frobnicate"}).exit_code == 2);
  test::RunResult unknown = test::run(VS_VISITSYNC_BIN, {"frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'frobnicate'"));
  test::RunResult no_data = test::run(VS_VISITSYNC_BIN, {"status"});
  CHECK(no_data.exit_code == 2);
  CHECK_THAT(no_data.err, Catch::Contains("missing --data"));
  test::RunResult not_init = vs({"status"});
  CHECK(not_init.exit_code == 2);
  CHECK_THAT(not_init.err, Catch::Contains("not a visitsync data folder"));
  test::RunResult bad_option = vs({"status", "--colour", "red"});
  CHECK(bad_option.exit_code == 2);
  CHECK_THAT(bad_option.err, Catch::Contains("unknown option --colour"));
  // A bad reference folder leaves nothing behind: the next init starts clean.
  test::RunResult bad_ref = vs({"init", "--standalone", "--inspector", "I0011", "--reference",
                                dir.file("nowhere"), "--templates", test::templates_dir()});
  CHECK(bad_ref.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(data));
  test::RunResult unknown_inspector =
      vs({"init", "--standalone", "--inspector", "I9999", "--reference", test::sample_dir(),
          "--templates", test::templates_dir()});
  CHECK(unknown_inspector.exit_code == 2);
  CHECK_THAT(unknown_inspector.err, Catch::Contains("no inspector 'I9999'"));
  // --data naming a file is bad input, and the file stays as it was.
  const std::string file = dir.file("a-file");
  std::ofstream(file) << "mine";
  test::RunResult on_file = test::run(
      VS_VISITSYNC_BIN, {"init", "--standalone", "--inspector", "I0011", "--reference",
                         test::sample_dir(), "--templates", test::templates_dir(), "--data", file});
  CHECK(on_file.exit_code == 2);
  CHECK_THAT(on_file.err, Catch::Contains("not a folder"));
  CHECK(test::slurp(file) == "mine");
}

TEST_CASE_METHOD(Device, "a template nested 100,000 deep is refused at init and at publish",
                 "[e2e][cli][input]") {
  // It killed both commands with SIGSEGV, and init left a half-made store behind.
  json t = json::parse(test::slurp(test::templates_dir() + "/campus-safety.json"));
  t["template_id"] = "deep";
  t["applies_to"] = "HERE";
  std::string text = t.dump();
  text.replace(text.find("\"HERE\""), 6, std::string(100'000, '[') + std::string(100'000, ']'));
  const std::string templates = dir.file("templates");
  std::filesystem::create_directories(templates);
  std::ofstream(templates + "/deep.json") << text;
  test::RunResult init = vs({"init", "--standalone", "--inspector", "I0011", "--reference",
                             test::sample_dir(), "--templates", templates});
  CHECK(init.exit_code == 2);
  CHECK_THAT(init.err, Catch::Contains("deep.json: template: nested deeper than 64 levels"));
  CHECK_FALSE(std::filesystem::exists(data));
  const std::string hub = dir.file("hub");
  const std::string admin = std::string(VS_TOOLS_DIR) + "/visitsync-admin";
  REQUIRE(test::run(admin, {"init", "--data", hub, "--hub-address", "127.0.0.1:7000"}).exit_code ==
          0);
  test::RunResult publish =
      test::run(admin, {"template", "publish", "--data", hub, templates + "/deep.json"});
  CHECK(publish.exit_code == 2);
  CHECK_THAT(publish.err, Catch::Contains("nested deeper than 64 levels"));
  CHECK(publish.err.size() < 300);
  CHECK(test::run(admin, {"template", "publish", "--data", hub,
                          test::templates_dir() + "/campus-safety.json"})
            .exit_code == 0);
}

TEST_CASE_METHOD(Device, "a store that is a FIFO or an empty file stops every command with exit 2",
                 "[e2e][cli][input]") {
  ok({"init", "--standalone", "--inspector", "I0011", "--reference", test::sample_dir(),
      "--templates", test::templates_dir()});
  const std::string db = data + "/visitsync.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  REQUIRE(mkfifo(db.c_str(), 0600) == 0);
  // Every command blocked in open() forever; the 10 s limit fails the test instead.
  test::RunResult fifo =
      test::run(VS_VISITSYNC_BIN, {"status", "--data", data}, std::chrono::seconds(10));
  CHECK(fifo.exit_code == 2);
  CHECK_THAT(fifo.err, Catch::Contains("visitsync.db is not a regular file"));
  std::filesystem::remove(db);
  std::ofstream(db).close();
  test::RunResult empty = vs({"visit", "list"});
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.err, Catch::Contains("visitsync.db is an empty file, not a visitsync store"));
  CHECK(std::filesystem::file_size(db) == 0);
}

TEST_CASE_METHOD(Device, "an export to a folder, or into a missing folder, is bad usage",
                 "[e2e][cli][input]") {
  ok({"init", "--standalone", "--inspector", "I0011", "--reference", test::sample_dir(),
      "--templates", test::templates_dir()});
  // A value that looks like --help is a value (after --), not a request for help.
  const std::string id =
      ok({"visit", "start", "--school", kSchool, "--template", "school-conditions"}).substr(0, 36);
  test::RunResult note = test::run(
      VS_VISITSYNC_BIN, {"visit", "note", "--data", data, id, "inspector_notes", "--", "--help"});
  INFO(note.err);
  REQUIRE(note.exit_code == 0);
  CHECK(show(id)["answers"]["inspector_notes"][0]["text"] == "--help");
  for (const std::string& out : {dir.path().string(), dir.file("missing/visits.csv")}) {
    test::RunResult r = vs({"export", "--format", "jsonl", "--out", out});
    INFO(r.err);
    CHECK(r.exit_code == 2);
  }
  CHECK_FALSE(std::filesystem::exists(dir.path().string() + ".tmp"));
  ok({"export", "--format", "jsonl", "--out", dir.file("visits.jsonl")});
  CHECK_THAT(test::slurp(dir.file("visits.jsonl")), Catch::Contains(id));
}

TEST_CASE_METHOD(Device,
                 "a path the file system refuses is bad input, and no output replaces a node",
                 "[e2e][cli][input]") {
  namespace fs = std::filesystem;
  const std::vector<std::string> init = {"init",        "--standalone",        "--inspector",
                                         "I0011",       "--reference",         test::sample_dir(),
                                         "--templates", test::templates_dir(), "--data"};
  auto with = [](std::vector<std::string> args, const std::string& last) {
    args.push_back(last);
    return args;
  };
  const std::string file = dir.file("a-file");
  std::ofstream(file) << "mine";
  fs::create_symlink(dir.file("loop"), dir.file("loop"));
  // Each exited 1 (an internal error) or, for '', made a store in the current folder.
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {with(init, dir.file(std::string(300, 'n'))), "File name too long"},
      {with(init, dir.file("loop") + "/d"), "Too many levels of symbolic links"},
      {with(init, file + "/sub"), "Not a directory"},
      {with(init, "/proc/self/x"), "/proc/self/x: No such file or directory"},
      {with(init, ""), "the data folder's name is empty"},
      {{"status", "--data", dir.file(std::string(300, 'n'))}, "File name too long"},
  };
  for (const auto& [args, message] : cases) {
    test::RunResult r = test::run(VS_VISITSYNC_BIN, args);
    INFO(args.back().substr(0, 60) << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(message));
  }
  CHECK(!fs::exists(fs::current_path() / "visitsync.db"));
  ok({"init", "--standalone", "--inspector", "I0011", "--reference", test::sample_dir(),
      "--templates", test::templates_dir()});
  // An output's temporary name is its own: a folder at the old "<out>.tmp" is no obstacle.
  fs::create_directories(dir.file("visits.csv.tmp"));
  ok({"export", "--format", "csv", "--out", dir.file("visits.csv")});
  // A FIFO, a symlink or a device at --out stays what it is (as root, --out /dev/null replaced
  // /dev/null with a regular file).
  const std::string fifo = dir.file("fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_symlink(file, dir.file("link"));
  for (const std::string& out : {fifo, dir.file("link")}) {
    test::RunResult r = vs({"export", "--format", "csv", "--out", out});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("not a regular file: it is not replaced"));
  }
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK(fs::is_symlink(fs::symlink_status(dir.file("link"))));
  CHECK(test::slurp(file) == "mine");
}

TEST_CASE_METHOD(Device, "an error message quotes at most a short part of a long input",
                 "[e2e][cli][input]") {
  ok({"init", "--standalone", "--inspector", "I0011", "--reference", test::sample_dir(),
      "--templates", test::templates_dir()});
  const std::string id =
      ok({"visit", "start", "--school", kSchool, "--template", "school-conditions"}).substr(0, 36);
  const std::string big(131'000, '7');  // a 131 KB value gave 131 KB of stderr
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"visit", "set", id, big, "1"},
        std::vector<std::string>{"visit", "start", "--school", big, "--template", "x"}}) {
    test::RunResult r = vs(args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.size() < 1200);
    CHECK_THAT(r.err, Catch::EndsWith("more bytes not shown)\n"));
  }
}

TEST_CASE("a run that times out ends what it started too", "[e2e][support]") {
  const auto started = std::chrono::steady_clock::now();
  test::RunResult r =
      test::run("/bin/bash", {"-c", "sleep 30 & echo $!; wait"}, std::chrono::milliseconds(500));
  CHECK(r.exit_code == -1);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  const std::string pid = r.out.substr(0, r.out.find('\n'));
  REQUIRE_FALSE(pid.empty());
  // The sleep was killed with bash: gone, or a zombie until its new parent reaps it.
  bool ended = false;
  for (int i = 0; i < 100 && !ended; ++i) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string line;
    std::getline(stat, line);
    const std::size_t paren = line.rfind(')');
    ended =
        !stat || line.empty() || (paren != std::string::npos && line.substr(paren + 2, 1) == "Z");
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(ended);
}

// A year-0000 date was stored, then could not be read back: status, visit list and export failed
// from then on. It is refused as bad input now, and the store stays readable.
TEST_CASE_METHOD(Device, "a date outside 0001..9999 is refused and the store stays readable",
                 "[e2e][cli][input]") {
  ok({"init", "--standalone", "--inspector", "I0011", "--reference", test::sample_dir(),
      "--templates", test::templates_dir()});
  std::string visit = ok({"visit", "start", "--school", kSchool, "--template", "campus-safety"});
  visit.erase(visit.find_last_not_of('\n') + 1);
  for (const char* date : {"0000-01-01", "0000-02-29", "0000-03-01"}) {
    test::RunResult r = vs({"visit", "set", visit, "last_drill_date", date});
    INFO(date << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("0001-01-01 to 9999-12-31"));
  }
  ok({"visit", "set", visit, "last_drill_date", "0001-01-01"});
  ok({"status"});
  ok({"visit", "list"});
  ok({"export", "--format", "jsonl"});
  CHECK(show(visit)["answers"]["last_drill_date"] == "0001-01-01");
}
