#include "workload_gen.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include <visitsync/types.h>

#include "workload_gen_model.h"

namespace vs::bench {
namespace gen {
namespace {

constexpr const char* kTemplateId = "bench-visit-checklist";
constexpr int kTemplateVersion = 1;
constexpr std::int64_t kMaxAnswers = 20'000'000;

// a / b rounded to the nearest whole number, a tie to the even one (b > 0, a >= 0).
std::int64_t round_half_even(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  const std::int64_t twice_rest = 2 * (a % b);
  if (twice_rest > b || (twice_rest == b && q % 2 == 1)) return q + 1;
  return q;
}

// Pupils of a school at its 0.5th, 5th, 10th, ... 95th and 99.5th percentiles: a primary
// school and a junior (or nine-year) school, roughly log-normal.
constexpr std::array<std::int64_t, 21> kPrimaryPupils = {120, 200, 250, 290,  330,  360,  400,
                                                         430, 470, 505, 545,  590,  635,  685,
                                                         745, 815, 900, 1015, 1175, 1460, 2550};
constexpr std::array<std::int64_t, 21> kJuniorPupils = {275,  435,  525,  590,  650,  710,  765,
                                                        820,  875,  930,  990,  1055, 1125, 1205,
                                                        1290, 1390, 1510, 1665, 1885, 2260, 3600};

std::int64_t from_percentiles(Rng& rng, const std::array<std::int64_t, 21>& p) {
  const std::int64_t u = rng.between(0, 19'999);
  const std::size_t step = static_cast<std::size_t>(u / 1000);
  return p[step] + (p[step + 1] - p[step]) * (u % 1000) / 1000;
}

// Where the schools are: the seats of ten counties, in millionths of a degree.
constexpr std::array<std::array<std::int64_t, 2>, 10> kCounties = {{{38'041'000, 114'514'000},
                                                                    {36'585'000, 109'489'000},
                                                                    {34'341'000, 108'940'000},
                                                                    {35'104'000, 118'356'000},
                                                                    {27'725'000, 107'031'000},
                                                                    {37'870'000, 112'549'000},
                                                                    {30'593'000, 114'305'000},
                                                                    {26'647'000, 106'630'000},
                                                                    {40'842'000, 111'749'000},
                                                                    {32'061'000, 118'797'000}}};

School make_school(Rng& rng) {
  School s;
  const std::size_t kind = rng.weighted({150, 600, 250});  // teaching point, primary, junior
  if (kind == 0) {
    s.pupils = rng.between(12, 90);
  } else {
    s.pupils = from_percentiles(rng, kind == 1 ? kPrimaryPupils : kJuniorPupils);
  }
  const std::int64_t class_size = rng.between(28, 48);
  s.classes = std::max<std::int64_t>(1, (s.pupils + class_size / 2) / class_size);
  s.buildings = rng.between(1, 6);
  s.boarding = rng.chance(300);
  const auto& county = kCounties[rng.index(kCounties.size())];
  s.lat_micro = county[0] + rng.between(-400'000, 400'000);
  s.lon_micro = county[1] + rng.between(-400'000, 400'000);
  return s;
}

std::string make_uuid(Rng& rng) {
  std::uint64_t hi = rng.next();
  std::uint64_t lo = rng.next();
  hi = (hi & ~0xF000ull) | 0x4000ull;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

// The weekdays of the autumn term, 2026-09-01 to 2027-01-15.
std::vector<std::int32_t> term_days() {
  const std::int32_t first = parse_date("2026-09-01").value().days;
  const std::int32_t last = parse_date("2027-01-15").value().days;
  std::vector<std::int32_t> days;
  for (std::int32_t d = first; d <= last; ++d) {
    const std::int32_t weekday = ((d % 7) + 7) % 7;  // 0 is a Thursday (1970-01-01)
    if (weekday != 2 && weekday != 3) days.push_back(d);
  }
  return days;
}

std::int64_t minutes(Rng& rng, int list) {
  static constexpr std::array<std::int64_t, 8> kHomework = {20, 30, 40, 45, 60, 60, 90, 120};
  static constexpr std::array<std::int64_t, 8> kPe = {30, 45, 60, 60, 60, 75, 90, 120};
  return (list == 0 ? kHomework : kPe)[rng.index(8)];
}

std::int64_t draw_count(Rng& rng, const CatalogueItem& item, const School& s) {
  switch (item.draw) {
    case Draw::kRange:
      return rng.between(item.a, item.b);
    case Draw::kMostlyZero:
      return rng.chance(item.a) ? 0 : rng.between(1, item.b);
    case Draw::kPupils:
      return s.pupils;
    case Draw::kClasses:
      return s.classes + rng.between(0, item.a);
    case Draw::kUpToClasses:
      return rng.between(0, s.classes);
    case Draw::kPerMille:
      return s.pupils * rng.between(item.a, item.b) / 1000;
    case Draw::kPerPupil:
      return s.pupils * rng.between(item.a, item.b);
    case Draw::kPupilsEach:
      return std::max<std::int64_t>(1, s.pupils / rng.between(item.a, item.b));
    case Draw::kBoarding:
      return s.boarding ? s.pupils * rng.between(item.a, item.b) / 1000 : 0;
    case Draw::kPerBuilding:
      return s.buildings * rng.between(item.a, item.b);
    case Draw::kMinutes:
      return minutes(rng, item.a);
    case Draw::kGradePupils:
      return s.pupils * rng.between(700, 1300) / 6000;
    case Draw::kGradeClasses:
      return std::max<std::int64_t>(0, (s.classes + 3) / 6 + rng.between(-1, 1));
    case Draw::kGradeLargest:
      return s.pupils > 100 ? rng.between(15, 70) : rng.between(3, 25);
    default:
      return 0;
  }
}

// A decimal answer in tenths.
std::int64_t draw_tenths(Rng& rng, const CatalogueItem& item, const School& s) {
  switch (item.draw) {
    case Draw::kTenths:
      return rng.between(item.a, item.b);
    case Draw::kMostlyNone:
      return rng.chance(850) ? 0 : rng.between(item.a, item.b);
    case Draw::kAreaPerPupil:
      return s.pupils * rng.between(item.a, item.b);
    default:
      return 0;
  }
}

ojson answer(Rng& rng, const CatalogueItem& item, const School& s) {
  switch (item.draw) {
    case Draw::kFlag:
      return rng.chance(820);
    case Draw::kProblem:
      return rng.chance(150);
    case Draw::kScore:
      return item.min + static_cast<std::int64_t>(rng.weighted({45, 100, 295, 380, 180}));
    case Draw::kGrade:
      return grade_options()[rng.weighted({850, 110, 40})];
    case Draw::kNote:
      return note(rng, kNoteMaxChars);
    case Draw::kFix:
      return rng.chance(650) ? ojson() : fix(rng, s, 4, 60);
    default:
      break;
  }
  if (item.type == "decimal") {
    const std::int64_t tenths = std::clamp(draw_tenths(rng, item, s), item.min * 10, item.max * 10);
    return static_cast<double>(tenths) / 10.0;
  }
  return std::clamp(draw_count(rng, item, s), item.min, item.max);
}

ojson item_json(const CatalogueItem& item) {
  ojson j = {{"key", item.key}, {"type", item.type}, {"merge", item.merge}};
  if (item.type == "choice") j["options"] = grade_options();
  if (item.type == "integer" || item.type == "decimal" || item.type == "score") {
    j["min"] = item.min;
    j["max"] = item.max;
  }
  if (item.type == "text") j["max_len"] = kNoteMaxChars;
  return j;
}

std::string header_line(const WorkloadSpec& spec, const Generated& g) {
  ojson items = ojson::array();
  for (const CatalogueItem& item : g.items) items.push_back(item_json(item));
  const ojson h = {
      {"kind", "checklist"},         {"template_id", kTemplateId}, {"version", kTemplateVersion},
      {"generator", kGeneratorName}, {"seed", spec.seed},          {"visits", spec.visits},
      {"schools", g.schools.size()}, {"inspectors", g.inspectors}, {"items", items}};
  return h.dump();
}

std::string visit_line(const Generated& g, const Visit& v, const std::string& status,
                       std::int64_t started) {
  ojson answers = ojson::object();
  for (std::size_t i = 0; i < g.items.size(); ++i) answers[g.items[i].key] = v.answers[i];
  char school[16];
  std::snprintf(school, sizeof school, "S%05zu", v.school + 1);
  const ojson j = {{"kind", "visit"},
                   {"id", v.id},
                   {"school_id", school},
                   {"inspector_id", inspector_id(v.inspector)},
                   {"device_id", device_id(v.inspector, 1)},
                   {"template_id", kTemplateId},
                   {"template_version", kTemplateVersion},
                   {"date", format_date(Date{v.day})},
                   {"started_at", local_time(v.day, started)},
                   {"status", status},
                   {"answers", std::move(answers)}};
  return j.dump();
}

}  // namespace

std::string inspector_id(std::size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "I%04zu", i + 1);
  return buf;
}

std::string device_id(std::size_t inspector, int n) {
  return "D-" + inspector_id(inspector) + "-" + std::to_string(n);
}

std::string local_time(std::int32_t day, std::int64_t seconds) {
  const std::int32_t d = day + static_cast<std::int32_t>(seconds / 86'400);
  const std::int64_t s = seconds % 86'400;
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:%02d+08:00", static_cast<int>(s / 3600),
                static_cast<int>(s / 60 % 60), static_cast<int>(s % 60));
  return format_date(Date{d}) + buf;
}

std::size_t code_points(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string first_code_points(const std::string& s, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == n) return s.substr(0, i);
  }
  return s;
}

namespace {

// A reference to a place at the school: a room, a building's floor, a grade's count.
std::string place_tag(Rng& rng) {
  const std::size_t form = rng.index(3);
  const std::int64_t x = rng.between(1, 6);
  const std::int64_t y = rng.between(1, 40);
  if (form == 0) return "Rm " + std::to_string(x) + "0" + std::to_string(y % 10);
  if (form == 1) return std::to_string(x) + "号楼" + std::to_string(y % 5 + 1) + "层";
  return "Gr " + std::to_string(x) + " x" + std::to_string(y);
}

std::string phrase(Rng& rng) {
  const std::size_t lang = rng.weighted({50, 40, 10});
  if (lang == 0) return chinese_phrases()[rng.index(chinese_phrases().size())];
  if (lang == 1) return english_phrases()[rng.index(english_phrases().size())];
  return place_tag(rng);
}

}  // namespace

std::string note(Rng& rng, int max_chars, bool may_be_empty) {
  static const std::array<const char*, 5> kJoins = {"；", "; ", "，", ", ", " | "};
  if (may_be_empty && rng.chance(350)) return "";
  const auto budget = static_cast<std::size_t>(rng.between(4, max_chars));
  std::string text;
  std::string last;
  // Whole phrases while they fit in the budget; a first phrase too long is cut.
  for (int piece = 0; piece < 12; ++piece) {
    last = phrase(rng);
    const std::string join = text.empty() ? "" : kJoins[rng.index(kJoins.size())];
    if (code_points(text) + code_points(join) + code_points(last) > budget) break;
    text += join + last;
  }
  return text.empty() ? first_code_points(last, budget) : text;
}

ojson fix(Rng& rng, const School& school, int acc_lo, int acc_hi) {
  const std::int64_t lat = school.lat_micro + rng.between(-2000, 2000);
  const std::int64_t lon = school.lon_micro + rng.between(-2000, 2000);
  const std::int64_t acc = rng.between(acc_lo, acc_hi);
  return ojson{{"lat", static_cast<double>(lat) / 1e6},
               {"lon", static_cast<double>(lon) / 1e6},
               {"acc_m", acc}};
}

Generated generate(const WorkloadSpec& spec) {
  Generated g;
  Rng rng(spec.seed, "visitsync-bench visits");
  g.items = checklist_items(static_cast<std::size_t>(spec.items));
  const std::int64_t n = spec.visits;
  const auto schools = static_cast<std::size_t>(std::max<std::int64_t>(1, round_half_even(n, 4)));
  for (std::size_t i = 0; i < schools; ++i) g.schools.push_back(make_school(rng));
  g.inspectors = static_cast<std::size_t>(std::max<std::int64_t>(3, round_half_even(n, 25)));
  const std::vector<std::int32_t> days = term_days();
  static const std::array<const char*, 4> kStatus = {"draft", "submitted", "returned", "approved"};
  g.file = header_line(spec, g) + "\n";
  g.visits.reserve(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    Visit v;
    v.school = rng.index(g.schools.size());
    v.inspector = rng.index(g.inspectors);
    v.day = days[rng.index(days.size())];
    const std::int64_t started = rng.between(std::int64_t{8} * 3600, std::int64_t{16} * 3600 - 1);
    v.id = make_uuid(rng);
    const char* status = kStatus[rng.weighted({150, 500, 100, 250})];
    v.answers.reserve(g.items.size());
    for (const CatalogueItem& item : g.items)
      v.answers.push_back(answer(rng, item, g.schools[v.school]));
    g.file += visit_line(g, v, status, started) + "\n";
    g.visits.push_back(std::move(v));
  }
  return g;
}

}  // namespace gen

Status check_spec(const WorkloadSpec& spec, const EditSpec& edits) {
  if (spec.visits < 1 || spec.items < 1)
    return Status::invalid_input("--visits and --items must be at least 1");
  if (static_cast<std::int64_t>(spec.visits) * spec.items > gen::kMaxAnswers)
    return Status::invalid_input("--visits x --items must be at most 20,000,000 answers");
  if (!(edits.conflict_frac >= 0 && edits.conflict_frac <= edits.edit_frac && edits.edit_frac <= 1))
    return Status::invalid_input("need 0 <= --conflict-frac <= --edit-frac <= 1");
  return Status();
}

std::string generate_visits_file(const WorkloadSpec& spec) { return gen::generate(spec).file; }

}  // namespace vs::bench
