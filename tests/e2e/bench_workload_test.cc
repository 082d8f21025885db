// visitsync-bench's workload generator and workload files, run as a user would: `visitsync-bench
// workload` writes the files (WORKLOAD.md), and the benches refuse damaged ones with exit 2 and
// the file and line at fault.
#include <algorithm>
#include <map>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "support/process.h"
#include "support/test_support.h"

using namespace vs;
using nlohmann::json;

namespace {

// Writes a generated file with `args` (after "workload") to `out`; returns its bytes.
std::string generate(const std::string& out, std::vector<std::string> args) {
  args.insert(args.begin(), "workload");
  args.push_back("--out");
  args.push_back(out);
  const test::RunResult r = test::run(VS_BENCH_BIN, args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return test::slurp(out);
}

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> out;
  std::size_t from = 0;
  while (from < text.size()) {
    const std::size_t end = text.find('\n', from);
    REQUIRE(end != std::string::npos);  // every line ends with a newline
    out.push_back(json::parse(text.substr(from, end - from)));
    from = end + 1;
  }
  return out;
}

std::string sha256_hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    static const char* digits = "0123456789abcdef";
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 15];
  }
  return hex;
}

std::size_t code_points(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Whether an answer is a valid value of the item, within its bounds.
bool valid_answer(const json& item, const json& v) {
  const std::string type = item.at("type");
  if (type == "yes_no") return v.is_boolean();
  if (type == "integer" || type == "score")
    return v.is_number_integer() && v >= item.at("min") && v <= item.at("max");
  if (type == "decimal") return v.is_number() && v >= item.at("min") && v <= item.at("max");
  if (type == "choice") {
    const auto& o = item.at("options");
    return v.is_string() && std::find(o.begin(), o.end(), v) != o.end();
  }
  if (type == "text")
    return v.is_string() &&
           code_points(v.get<std::string>()) <= item.at("max_len").get<std::size_t>();
  if (type == "gps") {
    return v.is_null() || (v.is_object() && v.size() == 3 && v.at("lat").is_number() &&
                           v.at("lat") >= -90 && v.at("lat") <= 90 && v.at("lon").is_number() &&
                           v.at("lon") >= -180 && v.at("lon") <= 180 && v.at("acc_m").is_number());
  }
  return false;
}

// The lines of a file, to damage one of them.
std::vector<std::string> text_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from < text.size()) {
    const std::size_t end = text.find('\n', from);
    out.push_back(text.substr(from, end - from));
    from = end + 1;
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("the generator gives the same bytes for the same arguments, others for another seed",
          "[e2e][bench]") {
  test::TempDir dir;
  const std::vector<std::string> base = {"--visits", "300", "--items", "150", "--seed", "7"};
  const std::string a = generate(dir.file("a.jsonl"), base);
  const std::string b = generate(dir.file("b.jsonl"), base);
  CHECK(a == b);
  CHECK(a.size() > 300 * 1000);
  const std::string c =
      generate(dir.file("c.jsonl"), {"--visits", "300", "--items", "150", "--seed", "8"});
  CHECK(c != a);
  std::vector<std::string> edits = base;
  edits.push_back("--edits");
  const std::string e1 = generate(dir.file("e1.jsonl"), edits);
  const std::string e2 = generate(dir.file("e2.jsonl"), edits);
  CHECK(e1 == e2);
  CHECK(e1 != a);
  // Visits differ per seed visit by visit, not only in the header.
  CHECK(text_lines(a)[1] != text_lines(c)[1]);
}

TEST_CASE("the generated checklist of 150 items has its designed mix of types and policies",
          "[e2e][bench]") {
  test::TempDir dir;
  const auto lines =
      lines_of(generate(dir.file("v.jsonl"), {"--visits", "4", "--items", "150", "--seed", "1"}));
  const json& header = lines.at(0);
  CHECK(header.at("kind") == "checklist");
  CHECK(header.at("generator") == "visitsync-bench");
  std::map<std::pair<std::string, std::string>, int> mix;
  for (const json& item : header.at("items")) mix[{item.at("type"), item.at("merge")}] += 1;
  const std::map<std::pair<std::string, std::string>, int> designed = {
      {{"choice", "max"}, 1},   {{"decimal", "lww"}, 3},     {{"decimal", "max"}, 1},
      {{"gps", "lww"}, 1},      {{"integer", "counter"}, 1}, {{"integer", "lww"}, 44},
      {{"integer", "max"}, 16}, {{"score", "lww"}, 14},      {{"score", "min"}, 8},
      {{"text", "append"}, 12}, {{"yes_no", "lww"}, 9},      {{"yes_no", "max"}, 3},
      {{"yes_no", "min"}, 37}};
  CHECK(mix == designed);
  for (const json& item : header.at("items")) {
    if (item.at("type") == "choice") CHECK(item.at("options").size() == 3);
    if (item.at("type") == "text") CHECK(item.at("max_len") == 80);
  }

  // Past 150 the catalogue starts again with suffixed keys.
  const auto longer =
      lines_of(generate(dir.file("w.jsonl"), {"--visits", "2", "--items", "160", "--seed", "1"}));
  const json& items = longer.at(0).at("items");
  REQUIRE(items.size() == 160);
  std::set<std::string> keys;
  for (const json& item : items) keys.insert(item.at("key").get<std::string>());
  CHECK(keys.size() == 160);
  CHECK(items[150].at("key") == items[0].at("key").get<std::string>() + "_r2");
  CHECK(items[159].at("type") == items[9].at("type"));
}

TEST_CASE("every generated visit answers every item with a value of its type and bounds",
          "[e2e][bench]") {
  test::TempDir dir;
  const auto lines =
      lines_of(generate(dir.file("v.jsonl"), {"--visits", "400", "--items", "150", "--seed", "3"}));
  const json& header = lines.at(0);
  REQUIRE(lines.size() == 401);
  CHECK(header.at("visits") == 400);
  CHECK(header.at("schools") == 100);
  CHECK(header.at("inspectors") == 16);
  std::set<std::string> ids;
  int texts = 0, empty_texts = 0, fixes = 0, no_fix = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const json& v = lines[i];
    INFO("line " << i + 1);
    CHECK(v.at("kind") == "visit");
    CHECK(ids.insert(v.at("id").get<std::string>()).second);
    CHECK(v.at("template_id") == header.at("template_id"));
    const std::string date = v.at("date");
    CHECK((date >= "2026-09-01" && date <= "2027-01-15"));
    CHECK(v.at("started_at").get<std::string>().rfind(date + "T", 0) == 0);
    const std::set<std::string> statuses = {"draft", "submitted", "returned", "approved"};
    CHECK(statuses.count(v.at("status")) == 1);
    const json& answers = v.at("answers");
    REQUIRE(answers.size() == header.at("items").size());
    for (const json& item : header.at("items")) {
      const json& a = answers.at(item.at("key").get<std::string>());
      INFO(item.dump() << " -> " << a.dump());
      CHECK(valid_answer(item, a));
      if (item.at("type") == "text") {
        ++texts;
        empty_texts += a == "" ? 1 : 0;
      }
      if (item.at("type") == "gps") (a.is_null() ? no_fix : fixes) += 1;
    }
  }
  // About a third of the notes are empty; about two thirds of the visits have no GPS fix.
  CHECK(empty_texts > texts / 4);
  CHECK(empty_texts < texts * 45 / 100);
  CHECK(no_fix > 400 * 55 / 100);
  CHECK(no_fix < 400 * 75 / 100);
}

TEST_CASE("generated edits: counts as the header says, prev as the base, concurrent pairs",
          "[e2e][bench]") {
  test::TempDir dir;
  const std::vector<std::string> args = {"--visits", "500", "--items", "150", "--seed", "5"};
  const std::string visits_text = generate(dir.file("v.jsonl"), args);
  std::vector<std::string> edit_args = args;
  edit_args.push_back("--edits");
  const auto visit_lines = lines_of(visits_text);
  const auto lines = lines_of(generate(dir.file("e.jsonl"), edit_args));
  const json& h = lines.at(0);
  CHECK(h.at("kind") == "edits_header");
  CHECK(h.at("base_sha256") == sha256_hex(visits_text));
  CHECK(h.at("total_answers") == 500 * 150);
  CHECK(h.at("edited_visits") == 200);    // 40% of the visits
  CHECK(h.at("conflict_visits") == 100);  // half of those
  std::map<std::string, const json*> visits;
  for (std::size_t i = 1; i < visit_lines.size(); ++i)
    visits[visit_lines[i].at("id")] = &visit_lines[i];
  std::map<std::string, int> seqs;
  std::map<std::pair<std::string, std::string>, const json*> second;
  std::vector<const json*> primary;
  std::set<std::string> second_visits;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const json& e = lines[i];
    INFO("line " << i + 1 << ": " << e.dump());
    REQUIRE(visits.count(e.at("visit_id")) == 1);
    const json& v = *visits[e.at("visit_id")];
    CHECK(e.at("prev") == v.at("answers").at(e.at("item").get<std::string>()));
    CHECK(e.at("seq") == ++seqs[e.at("device")]);
    if (e.at("role") == "second") {
      CHECK(e.at("device") != v.at("device_id"));
      second[{e.at("visit_id"), e.at("item")}] = &e;
      second_visits.insert(e.at("visit_id"));
    } else {
      REQUIRE(e.at("role") == "primary");
      CHECK(e.at("device") == v.at("device_id"));
      primary.push_back(&e);
    }
  }
  CHECK(h.at("second_ops") == second.size());
  CHECK(h.at("primary_ops") == primary.size());
  CHECK(second.size() == 200 * 38);   // 10% of the answers, on 40% of the visits
  CHECK(primary.size() == 100 * 15);  // 2% of the answers, on half of those
  CHECK(second_visits.size() == 200);
  std::size_t concurrent_second = 0;
  for (const auto& [key, e] : second) concurrent_second += e->at("concurrent") == true ? 1 : 0;
  CHECK(concurrent_second == primary.size());
  std::size_t differ = 0;
  for (const json* p : primary) {
    const auto partner = second.find({p->at("visit_id"), p->at("item")});
    REQUIRE(partner != second.end());
    CHECK(p->at("concurrent") == true);
    CHECK(partner->second->at("concurrent") == true);
    CHECK(p->at("prev") == partner->second->at("prev"));
    differ += p->at("value") != partner->second->at("value") ? 1 : 0;
  }
  CHECK(differ > primary.size() / 2);  // usually a different value (a yes/no has only one)
}

TEST_CASE("a damaged workload or edits file stops the bench with exit 2 at its file and line",
          "[e2e][bench]") {
  test::TempDir dir;
  const std::string visits = dir.file("v.jsonl");
  const std::string edits = dir.file("e.jsonl");
  const std::string good = generate(visits, {"--visits", "20", "--items", "12", "--seed", "9"});
  const std::string good_edits =
      generate(edits, {"--visits", "20", "--items", "12", "--seed", "9", "--edits"});
  const std::vector<std::string> lines = text_lines(good);
  const std::string bad = dir.file("bad.jsonl");
  auto run_on = [&](const std::string& bench, const std::string& workload,
                    const std::string& edits_file) {
    std::vector<std::string> args = {bench, "--work", dir.file("work"), "--workload", workload};
    if (bench == "sync") args.insert(args.end(), {"--edits", edits_file});
    return test::run(VS_BENCH_BIN, args);
  };
  auto refuses = [&](const std::string& text, const std::string& where, const std::string& what) {
    test::write_file(bad, text);
    for (const char* bench : {"sync", "engine"}) {
      const test::RunResult r = run_on(bench, bad, edits);
      INFO(bench << ": " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("visitsync-bench: error: " + bad + ":" + where + ": ") != std::string::npos);
      CHECK(r.err.find(what) != std::string::npos);
    }
  };
  SECTION("a line cut short") {
    std::vector<std::string> l = lines;
    l[3] = l[3].substr(0, l[3].size() / 2);
    refuses(joined(l), "4", "not valid JSON");
  }
  SECTION("a line nested 100,000 levels deep") {
    std::vector<std::string> l = lines;
    l[2] = std::string(100'000, '[') + std::string(100'000, ']');
    refuses(joined(l), "3", "nested deeper than 64 levels");
  }
  SECTION("a file that ends early") {
    std::vector<std::string> l(lines.begin(), lines.begin() + 11);
    refuses(joined(l), "11", "ends after 10 visits");
  }
  SECTION("an empty file") { refuses("", "1", "empty file"); }
  SECTION("an answer out of its item's type or bounds") {
    json v = json::parse(lines[4]);
    v["answers"]["pupils_on_roll"] = "many";
    std::vector<std::string> l = lines;
    l[4] = v.dump();
    refuses(joined(l), "5", "pupils_on_roll");
    v["answers"]["pupils_on_roll"] = 20001;
    l[4] = v.dump();
    refuses(joined(l), "5", "outside");
  }
  SECTION("a missing key") {
    json v = json::parse(lines[2]);
    v.erase("school_id");
    std::vector<std::string> l = lines;
    l[2] = v.dump();
    refuses(joined(l), "3", "missing key 'school_id'");
  }
  SECTION("a checklist item of a wrong policy") {
    json h = json::parse(lines[0]);
    h["items"][11]["merge"] = "max";  // a text item
    std::vector<std::string> l = lines;
    l[0] = h.dump();
    refuses(joined(l), "1", "items[11]");
  }
  SECTION("an edit naming an unknown visit") {
    std::vector<std::string> el = text_lines(good_edits);
    json e = json::parse(el[2]);
    e["visit_id"] = "no-such-visit";
    el[2] = e.dump();
    test::write_file(bad, joined(el));
    const test::RunResult r = run_on("sync", visits, bad);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(bad + ":3: unknown visit 'no-such-visit'") != std::string::npos);
  }
  SECTION("an edit whose prev is not the base answer") {
    std::vector<std::string> el = text_lines(good_edits);
    json e = json::parse(el[1]);
    e["prev"] = e["value"];
    el[1] = e.dump();
    test::write_file(bad, joined(el));
    const test::RunResult r = run_on("sync", visits, bad);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(bad + ":2: prev ") != std::string::npos);
  }
  SECTION("edits made for another visits file") {
    const std::string other = dir.file("other.jsonl");
    generate(other, {"--visits", "20", "--items", "12", "--seed", "10"});
    const test::RunResult r = run_on("sync", other, edits);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(edits + ":1: 'base_sha256'") != std::string::npos);
  }
}

TEST_CASE("visitsync-bench refuses bad arguments with exit 2", "[e2e][bench]") {
  test::TempDir dir;
  const std::vector<std::vector<std::string>> bad = {
      {"workload", "--visits", "0", "--out", dir.file("x")},
      {"workload", "--visits", "10"},  // no --out
      {"workload", "--visits", "10", "--edit-frac", "0.01", "--conflict-frac", "0.5", "--out",
       dir.file("x")},
      {"workload", "--seed", "-3", "--out", dir.file("x")},
      {"workload", "--visits", "2", "--out", dir.path().string()},  // a folder
      {"workload", "--visits", "2", "--out", dir.file("none/x")},   // in a missing folder
      {"sync", "--visits", "abc"},
      {"sync", "--workload", dir.file("x")},  // sync on a file needs its edits
      {"engine", "--workload", dir.file("x"), "--visits", "10"},
      {"engine", "--edits", dir.file("x")},
      {"engine", "--work"},
      {"sessions", "--concurrency", "0"},
      {"sessions", "--concurrency", "many"},
      {"engine", "--concurrency", "8"},  // an option of the sessions bench
      {"import", "--rows", "0"},
      {"engine", "--rows", "10"},  // an option of the import bench
      {"frobnicate"},
  };
  for (const auto& args : bad) {
    const test::RunResult r = test::run(VS_BENCH_BIN, args);
    INFO(args.front() << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("visitsync-bench: error: ") != std::string::npos);
  }
  const test::RunResult missing =
      test::run(VS_BENCH_BIN, {"engine", "--work", dir.file("w"), "--workload", dir.file("none")});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find(dir.file("none") + ": cannot read") != std::string::npos);
}
