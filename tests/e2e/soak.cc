#include "e2e/soak.h"

#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/photos.h>
#include <visitsync/transport/client.h>

#include "e2e/tools.h"

namespace vs::test {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& what, const Status& s) {
  throw std::runtime_error(what + ": " + s.to_string());
}

template <typename T>
T& pick(std::vector<T>& from, std::mt19937_64& rng) {
  return from[rng() % from.size()];
}

// Counts a domain call: OK (1), refused by the device's own rules (0), or anything else
// (thrown: the store failed).
std::uint64_t counted(const Status& s, const std::string& what, SoakFigures& fig) {
  if (s.ok()) return 1;
  if (s.code() != Code::kInvalidInput) fail(what, s);
  ++fig.refused_here;
  return 0;
}

// The visits of a phase this device holds.
std::vector<VisitView> visits_in(Inspection& in, bool (*wanted)(const VisitView&)) {
  Result<std::vector<VisitView>> all = in.visits();
  if (!all.ok()) fail("visits", all.status());
  std::vector<VisitView> out;
  for (VisitView& v : all.value()) {
    if (wanted(v)) out.push_back(std::move(v));
  }
  return out;
}

// An answer of one of the school-conditions items the soak edits, drawn at random.
std::pair<std::string, std::string> random_answer(std::mt19937_64& rng) {
  const auto n = [&](int lo, int hi) {
    return std::to_string(lo + static_cast<int>(rng() % (hi - lo + 1)));
  };
  switch (rng() % 8) {
    case 0:
      return {"class_count", n(1, 60)};
    case 1:
      return {"enrolled_students", n(10, 2000)};
    case 2:
      return {"largest_class_size", n(10, 70)};
    case 3:
      return {"overall_rating", n(1, 5)};
    case 4:
      return {"heating_ok", n(1, 5)};
    case 5:
      return {"desks_damaged", n(0, 100)};
    case 6:
      return {"canteen_licensed", rng() % 2 ? "yes" : "no"};
    default:
      return {"sports_ground_surfaced", rng() % 2 ? "yes" : "no"};
  }
}

}  // namespace

void SoakFigures::failed_sync(const std::string& err) {
  ++syncs_failed;
  std::string reason = err.substr(0, err.find('\n'));
  if (reason.rfind("visitsync: error: ", 0) == 0) reason.erase(0, 18);
  reason = std::regex_replace(reason.substr(0, 120), std::regex("[0-9]+"), "#");
  const std::lock_guard<std::mutex> lock(mutex_);
  ++failures_[reason];
}

std::map<std::string, std::uint64_t> SoakFigures::failures() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return failures_;
}

int soak_setting(const char* name, int fallback, int lo, int hi) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  INFO(name << "='" << text << "' must be a whole number from " << lo << " to " << hi);
  REQUIRE((*end == '\0' && v >= lo && v <= hi));
  return static_cast<int>(v);
}

SoakHub::SoakHub(const TempDir& dir) : dir_(dir), path_(dir.file("hub")) {
  port_ = free_port();
  do {
    device_port_ = free_port();
  } while (device_port_ == port_);
  const std::string address = "127.0.0.1:" + std::to_string(device_port_);
  ok("visitsync-admin", {"init", "--data", path_, "--hub-address", address});
  for (const char* k : {"schools", "inspectors", "assignments"}) {
    ok("visitsync-admin", {"import", "--data", path_, k, sample_dir() + "/" + k + ".csv"});
  }
  ok("visitsync-admin",
     {"template", "publish", "--data", path_, templates_dir() + "/school-conditions.json"});
  start();
}

SoakHub::~SoakHub() {
  const std::lock_guard<std::mutex> lock(mutex_);
  process_.reset();  // SIGTERM, by its PID
}

void SoakHub::start() {
  process_ = std::make_unique<BackgroundProcess>(
      bin("visitsync-hub"),
      std::vector<std::string>{"--data", path_, "--listen", "127.0.0.1:" + std::to_string(port_)},
      dir_.file("hub-" + std::to_string(starts_++) + ".log"));
  if (!process_->wait_for_log("listening on", std::chrono::seconds(10)))
    throw std::runtime_error("the hub did not start again:\n" + process_->log());
}

void SoakHub::kill_and_restart(std::chrono::milliseconds down) {
  const std::lock_guard<std::mutex> lock(mutex_);
  process_->kill_now();
  std::this_thread::sleep_for(down);
  start();
}

void SoakHub::stop() {
  const std::lock_guard<std::mutex> lock(mutex_);
  INFO(process_->log());
  CHECK(process_->terminate() == 0);
}

std::vector<SoakDevice> enroll_fleet(const TempDir& dir, const SoakHub& hub, int count) {
  // County by county: its supervisor (I0001..I0010), then its inspectors (I0011.., I0021..).
  std::vector<std::pair<std::string, bool>> people;
  for (int county = 1; county <= 10; ++county) {
    people.emplace_back("I" + std::to_string(10000 + county).substr(1), true);
    for (int i = 10 + county; i <= 24; i += 10)
      people.emplace_back("I" + std::to_string(10000 + i).substr(1), false);
  }
  std::vector<SoakDevice> fleet;
  for (int k = 0; k < count; ++k) {
    const auto& [person, supervisor] = people[static_cast<std::size_t>(k) % people.size()];
    SoakDevice d{dir.file("device-" + std::to_string(k)), person, supervisor, {}};
    const std::string file = d.dir + ".json";
    ok("visitsync-admin",
       {"enroll-device", "--data", hub.path(), "--inspector", person, "--out", file});
    ok("visitsync", {"init", "--data", d.dir, "--enroll", file});
    fleet.push_back(std::move(d));
  }
  return fleet;
}

std::optional<std::string> start_one(Inspection& in, const SoakDevice& d, std::mt19937_64& rng,
                                     SoakFigures& fig) {
  Result<std::vector<std::string>> schools = in.assigned_schools(d.person);
  if (!schools.ok()) fail("assigned schools", schools.status());
  std::vector<std::string> fitting;  // the levels school-conditions applies to
  for (const std::string& id : schools.value()) {
    Result<School> s = in.school(id);
    if (!s.ok()) fail("school " + id, s.status());
    if (s->level == "primary" || s->level == "junior" || s->level == "nine_year")
      fitting.push_back(id);
  }
  if (fitting.empty()) return std::nullopt;
  Result<std::string> visit = in.start_visit(pick(fitting, rng), "school-conditions");
  if (!visit.ok()) fail("start visit", visit.status());
  ++fig.writes;
  const std::pair<const char*, const char*> required[] = {
      {"dangerous_buildings", "none"}, {"sports_ground_surfaced", "yes"},
      {"enrolled_students", "412"},    {"class_count", "9"},
      {"largest_class_size", "48"},    {"canteen_licensed", "yes"},
      {"overall_rating", "4"}};
  for (const auto& [item, value] : required)
    fig.writes += counted(in.set_answer(visit.value(), item, value), item, fig);
  return visit.value();
}

// A photo (10-30 KB) taken and added to the visit's buildings_photo, while it holds fewer
// than its item's 10.
std::uint64_t attach_photo(Inspection& in, const VisitView& v, std::mt19937_64& rng,
                           SoakFigures& fig) {
  std::string ids;
  std::size_t count = 0;
  for (const Answer& a : v.answers) {
    if (a.item == nullptr || a.item->key != "buildings_photo" ||
        a.value.kind() != Value::Kind::kSet)
      continue;
    for (const std::string& id : a.value.as_set()) ids += (ids.empty() ? "" : ",") + id;
    count = a.value.as_set().size();
  }
  if (count >= 10) return 0;
  std::string bytes = "\xFF\xD8\xFF\xE0";
  const std::size_t size = 10'000 + rng() % 20'000;
  while (bytes.size() < size) bytes.push_back(static_cast<char>(rng()));
  const std::string file = in.data_dir() + "/camera.jpg";
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + file);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  Result<std::string> id = in.add_attachment(file);
  if (!id.ok()) fail("attach", id.status());
  ++fig.photos;
  return counted(
      in.set_answer(v.id, "buildings_photo", ids + (ids.empty() ? "" : ",") + id.value()), "photo",
      fig);
}

std::uint64_t answer_some(Inspection& in, std::mt19937_64& rng, SoakFigures& fig) {
  std::vector<VisitView> open =
      visits_in(in, [](const VisitView& v) { return v.status.editable(); });
  if (open.empty()) return 0;
  const VisitView& v = pick(open, rng);
  if (rng() % 8 == 0) return attach_photo(in, v, rng, fig);
  std::uint64_t done = 0;
  for (int n = 1 + static_cast<int>(rng() % 4); n > 0; --n) {
    if (rng() % 6 == 0) {
      done += counted(in.add_note(v.id, "inspector_notes", "note " + std::to_string(rng() % 1000)),
                      "note", fig);
      continue;
    }
    const auto [item, value] = random_answer(rng);
    done += counted(in.set_answer(v.id, item, value), item, fig);
  }
  return done;
}

std::uint64_t submit_one(Inspection& in, std::mt19937_64& rng, SoakFigures& fig) {
  std::vector<VisitView> ready = visits_in(
      in, [](const VisitView& v) { return v.status.editable() && v.missing_required.empty(); });
  if (ready.empty()) return 0;
  return counted(in.submit(pick(ready, rng).id), "submit", fig);
}

std::uint64_t review_one(Inspection& in, std::mt19937_64& rng, SoakFigures& fig) {
  std::vector<VisitView> waiting =
      visits_in(in, [](const VisitView& v) { return v.status.phase == Phase::kSubmitted; });
  if (waiting.empty()) return 0;
  const bool approve = rng() % 3 != 0;
  return counted(in.review(pick(waiting, rng).id, approve ? "approve" : "return",
                           approve ? "" : "please count the classes again"),
                 "review", fig);
}

bool sync_until_done(const SoakDevice& d) {
  const RunResult r = run(bin("visitsync"), {"sync", "--data", d.dir, "--retry-for", "60"},
                          std::chrono::seconds(90));
  INFO(d.dir << ": exit " << r.exit_code << "\n" << r.err);
  REQUIRE((r.exit_code == 0 || r.exit_code == 4));
  static const std::regex summary(R"(pushed (\d+) ops, pulled \d+ \((\d+) new\))");
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, summary));
  return m[1] != "0" || m[2] != "0";
}

SoakCount count_ops(const SoakHub& hub, const std::vector<SoakDevice>& fleet) {
  std::map<std::pair<std::string, std::uint64_t>, int> on_hub;  // (device, seq) -> copies
  Result<std::unique_ptr<HubStore>> store = HubStore::open(hub.path());
  REQUIRE(store.ok());
  for (std::uint64_t cursor = 0;;) {
    Result<LogSlice> slice = store.value()->engine().log_after(cursor, 10'000);
    REQUIRE(slice.ok());
    if (slice->ops.empty()) break;
    for (const Op& op : slice->ops) ++on_hub[{op.id.device, op.id.seq}];
    cursor = slice->next_cursor;
  }
  SoakCount count;
  std::set<std::string> photos_seen;
  // A photo file the device holds, named by one of its ops the hub took: whole on the hub.
  const auto check_photos = [&](const SoakDevice& d, const Op& op) {
    if (op.field != "a.buildings_photo" || op.value.kind() != Value::Kind::kSet) return;
    for (const std::string& id : op.value.as_set()) {
      if (!has_photo(d.dir, id) || !photos_seen.insert(id).second) continue;
      ++count.photos;
      Result<std::string> there = store.value()->photos().read_all(id);
      if (!there.ok() || there.value() != slurp(photo_folder(d.dir) + "/" + id)) {
        ++count.photos_lost;
        UNSCOPED_INFO("photo " << id << " of " << d.dir << " is not whole on the hub");
      }
    }
  };
  std::set<std::string> reasons;
  for (const SoakDevice& d : fleet) {
    Result<std::unique_ptr<Inspection>> in = Inspection::open(d.dir);
    REQUIRE(in.ok());
    Engine& engine = in.value()->engine();
    INFO(d.dir);
    REQUIRE(engine.check_integrity().ok());
    Result<std::vector<Op>> own = engine.ops_after(0, 100'000'000);
    REQUIRE(own.ok());
    Result<std::vector<std::pair<std::uint64_t, std::string>>> refused = refused_ops(engine);
    REQUIRE(refused.ok());
    std::map<std::uint64_t, std::string> refused_seq(refused->begin(), refused->end());
    const std::string device = in.value()->status()->device_id;
    for (const Op& op : own.value()) {
      ++count.ops;
      const auto copies = on_hub.find({device, op.id.seq});
      const int n = copies == on_hub.end() ? 0 : copies->second;
      if (copies != on_hub.end()) on_hub.erase(copies);
      if (n > 1) ++count.duplicates;
      if (n > 0) {
        check_photos(d, op);
        continue;
      }
      const auto why = refused_seq.find(op.id.seq);
      if (why != refused_seq.end() && !why->second.empty()) {
        ++count.refused;
        reasons.insert(why->second);
        if (std::optional<std::string> visit = visit_of_record(op.record))
          count.refused_visits[d.dir].insert(*visit);
      } else {
        ++count.lost;
        UNSCOPED_INFO("lost: " << device << " seq " << op.id.seq << " " << op.record);
      }
    }
    for (const auto& [key, n] : on_hub) count.phantoms += key.first == device ? 1 : 0;
  }
  count.reasons.assign(reasons.begin(), reasons.end());
  return count;
}

int check_exports(const SoakHub& hub, const std::vector<SoakDevice>& fleet,
                  const std::map<std::string, std::set<std::string>>& apart) {
  // photos_missing says which photo files are in that data folder, which is no replicated
  // state (a device holds only the photos it took): compared without it.
  const auto replicated = [](const std::string& text) {
    std::set<std::string> out;
    for (const std::string& line : line_set(text)) {
      json v = json::parse(line);
      v.erase("photos_missing");
      out.insert(v.dump());
    }
    return out;
  };
  std::map<std::string, std::string> hub_line;  // visit id -> its JSONL line
  for (const std::string& line :
       replicated(ok("visitsync-admin", {"export", "--data", hub.path(), "--format", "jsonl"}))) {
    hub_line[json::parse(line).at("visit_id").get<std::string>()] = line;
  }
  // person -> the first device's folder and export
  std::map<std::string, std::pair<std::string, std::set<std::string>>> by_person;
  int disagreeing = 0;
  for (const SoakDevice& d : fleet) {
    const auto kept_apart = apart.find(d.dir);
    const auto is_apart = [&](const std::string& id) {
      return kept_apart != apart.end() && kept_apart->second.count(id) > 0;
    };
    std::set<std::string> exported;  // its lines but those of visits kept apart
    std::set<std::string> seen;
    bool agrees = true;
    for (const std::string& line :
         replicated(ok("visitsync", {"export", "--data", d.dir, "--format", "jsonl"}))) {
      const std::string id = json::parse(line).at("visit_id").get<std::string>();
      seen.insert(id);
      if (is_apart(id)) continue;
      exported.insert(line);
      const auto on_hub = hub_line.find(id);
      if (on_hub == hub_line.end() || on_hub->second != line) {
        agrees = false;
        UNSCOPED_INFO(d.dir << ": visit " << id << " differs from the hub's:\n"
                            << line << "\n"
                            << (on_hub == hub_line.end() ? "(none)" : on_hub->second));
      }
    }
    for (const std::string& id : d.started) {
      if (seen.count(id) == 0 || hub_line.count(id) == 0) {
        agrees = false;
        UNSCOPED_INFO(d.dir << ": visit " << id << " started here is missing");
      }
    }
    // The devices of one person: the same visits, but those either keeps apart.
    const auto [first, inserted] = by_person.emplace(d.person, std::make_pair(d.dir, exported));
    const auto differs = [&](const std::set<std::string>& mine, const std::set<std::string>& other,
                             const std::string& other_dir) {
      const auto other_apart = apart.find(other_dir);
      for (const std::string& line : mine) {
        const std::string id = json::parse(line).at("visit_id").get<std::string>();
        const bool skip = other_apart != apart.end() && other_apart->second.count(id) > 0;
        if (!skip && other.count(line) == 0) return true;
      }
      return false;
    };
    if (!inserted && (differs(exported, first->second.second, first->second.first) ||
                      differs(first->second.second, exported, d.dir))) {
      agrees = false;
      UNSCOPED_INFO(d.dir << ": export differs from " << d.person << "'s other device");
    }
    disagreeing += agrees ? 0 : 1;
  }
  return disagreeing;
}

}  // namespace vs::test
