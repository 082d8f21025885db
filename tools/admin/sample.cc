#include "sample.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <vector>

#include "rng.h"

namespace vs::admin {
namespace {

using cli::Rng;

template <typename T, std::size_t N>
const T& pick(Rng& rng, const std::array<T, N>& a) {
  return a[rng.index(N)];
}

// Within 0.3 degrees of `centre`, in steps of 0.00001.
double near(Rng& rng, double centre) {
  return centre + static_cast<double>(rng.between(-30'000, 30'000)) / 100'000.0;
}

struct County {
  const char* name;
  const char* city;
  double lat, lon;
  std::array<const char*, 4> townships;
};

// Real counties of northern China, with approximate centres.
constexpr std::array<County, 10> kCounties = {{
    {"代县", "忻州市", 39.07, 112.96, {"上馆镇", "阳明堡镇", "峨口镇", "枣林镇"}},
    {"静乐县", "忻州市", 38.36, 111.94, {"鹅城镇", "杜家村镇", "康家会镇", "娘子神乡"}},
    {"岢岚县", "忻州市", 38.70, 111.57, {"岚漪镇", "三井镇", "神堂坪乡", "高家会乡"}},
    {"五寨县", "忻州市", 38.91, 111.85, {"砚城镇", "小河头镇", "三岔镇", "前所乡"}},
    {"偏关县", "忻州市", 39.44, 111.51, {"新关镇", "天峰坪镇", "老营镇", "万家寨镇"}},
    {"灵丘县", "大同市", 39.44, 114.23, {"武灵镇", "东河南镇", "上寨镇", "落水河乡"}},
    {"广灵县", "大同市", 39.76, 114.28, {"壶泉镇", "南村镇", "作疃乡", "加斗乡"}},
    {"阳高县", "大同市", 40.36, 113.75, {"龙泉镇", "罗文皂镇", "大白登镇", "王官屯镇"}},
    {"平顺县", "长治市", 36.20, 113.44, {"青羊镇", "龙溪镇", "石城镇", "北耽车乡"}},
    {"左权县", "晋中市", 37.08, 113.38, {"辽阳镇", "桐峪镇", "麻田镇", "芹泉镇"}},
}};

constexpr std::array<const char*, 12> kVillages = {"东沟",   "南坪",   "石门",   "王家庄",
                                                   "李家湾", "柳树沟", "白草坪", "红崖",
                                                   "大峪",   "后山",   "杏花村", "西梁"};
constexpr std::array<const char*, 16> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄",
                                                   "周", "吴", "徐", "孙", "马", "胡", "郭", "高"};
constexpr std::array<const char*, 20> kGiven = {"军", "敏", "静", "丽", "强", "磊", "洋",
                                                "艳", "勇", "杰", "娟", "涛", "明", "超",
                                                "秀", "霞", "平", "刚", "桂", "英"};

struct Level {
  const char* name;
  int weight;  // out of 100
  int min_students, max_students;
  int boarding_pct;
  const char* kind;  // the end of a school's name
};
constexpr std::array<Level, 4> kLevels = {{
    {"teaching_point", 15, 8, 90, 0, "教学点"},
    {"primary", 55, 120, 1800, 20, "小学"},
    {"junior", 20, 300, 2400, 60, "中学"},
    {"nine_year", 10, 200, 2000, 40, "学校"},
}};

const Level& draw_level(Rng& rng) {
  return kLevels[rng.weighted(
      {kLevels[0].weight, kLevels[1].weight, kLevels[2].weight, kLevels[3].weight})];
}

std::string id(char prefix, int n, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%0*d", prefix, width, n);
  return buf;
}

// Past the table, counties repeat with a number: 代县(2).
std::string county_name(int c) {
  const std::string base = kCounties[static_cast<std::size_t>(c) % kCounties.size()].name;
  const int round = c / static_cast<int>(kCounties.size());
  return round == 0 ? base : base + "(" + std::to_string(round + 1) + ")";
}

std::string coordinate(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.5f", v);
  return buf;
}

// A spec's counts once checked: they fit an int.
struct Layout {
  int schools, inspectors, counties;
  std::string from;
};

std::string make_schools(const Layout& spec, Rng& rng) {
  std::string csv =
      "school_id,name,city,county,township,level,boarding,students,teachers,lat,lon\n";
  std::map<std::string, int> numbered;  // schools so far of a name, for "第N"
  for (int i = 1; i <= spec.schools; ++i) {
    const int c = (i - 1) % spec.counties;
    const County& county = kCounties[static_cast<std::size_t>(c) % kCounties.size()];
    const std::string township = pick(rng, county.townships);
    const Level& level = draw_level(rng);
    const std::string level_name = level.name;
    // 代县上馆镇第2小学; a teaching point is named after its village: 代县峨口镇石门教学点, and
    // the village's second one 代县峨口镇石门第2教学点.
    const bool teaching_point = level_name == "teaching_point";
    std::string name = county_name(c) + township;
    if (teaching_point) name += pick(rng, kVillages);
    const int n = ++numbered[name + level.kind];
    if (n > 1 || !teaching_point) name += "第" + std::to_string(n);
    name += level.kind;
    const int students = static_cast<int>(rng.between(level.min_students, level.max_students));
    const int teachers = std::max(2, students / static_cast<int>(rng.between(11, 19)));
    const bool boarding = rng.chance(level.boarding_pct * 10);
    csv += id('S', i, 5) + "," + name + "," + county.city + "," + county_name(c) + "," + township +
           "," + level_name + "," + (boarding ? "1" : "0") + "," + std::to_string(students) + "," +
           std::to_string(teachers) + "," + coordinate(near(rng, county.lat)) + "," +
           coordinate(near(rng, county.lon)) + "\n";
  }
  return csv;
}

std::string make_inspectors(const Layout& spec, Rng& rng) {
  std::string csv = "inspector_id,name,role,county\n";
  for (int j = 1; j <= spec.inspectors; ++j) {
    const std::string first = pick(rng, kGiven);
    std::string name = pick(rng, kSurnames) + first;
    if (const std::string second = pick(rng, kGiven); rng.between(0, 2) != 0 && second != first)
      name += second;
    const char* role = j <= spec.counties ? "supervisor" : "inspector";
    csv +=
        id('I', j, 4) + "," + name + "," + role + "," + county_name((j - 1) % spec.counties) + "\n";
  }
  return csv;
}

std::string make_assignments(const Layout& spec) {
  // The field inspectors of each county, in id order.
  std::vector<std::vector<int>> field(static_cast<std::size_t>(spec.counties));
  for (int j = spec.counties + 1; j <= spec.inspectors; ++j)
    field[static_cast<std::size_t>((j - 1) % spec.counties)].push_back(j);
  std::string csv = "inspector_id,school_id,from,until\n";
  for (int i = 1; i <= spec.schools; ++i) {
    const std::vector<int>& people = field[static_cast<std::size_t>((i - 1) % spec.counties)];
    const std::size_t n = people.size();
    const std::size_t k = static_cast<std::size_t>((i - 1) / spec.counties);
    for (std::size_t a = 0; a < std::min<std::size_t>(2, n); ++a) {
      csv += id('I', people[(k + a) % n], 4) + "," + id('S', i, 5) + "," + spec.from + ",\n";
    }
  }
  return csv;
}

Status check(const char* option, long long v, long long lo, long long hi) {
  if (v >= lo && v <= hi) return Status();
  return Status::invalid_input(std::string("--") + option + ": " + std::to_string(v) +
                               " is not from " + std::to_string(lo) + " to " + std::to_string(hi));
}

}  // namespace

Result<SampleFiles> make_sample(const SampleSpec& spec) {
  // Ids have five digits for schools and four for inspectors.
  if (Status s = check("schools", spec.schools, 1, 99'999); !s.ok()) return s;
  if (Status s = check("inspectors", spec.inspectors, 1, 9'999); !s.ok()) return s;
  if (Status s = check("counties", spec.counties, 1, 1'000); !s.ok()) return s;
  if (spec.counties > spec.inspectors)
    return Status::invalid_input("--counties: " + std::to_string(spec.counties) +
                                 " counties need at least as many inspectors (one supervisor "
                                 "each); --inspectors is " +
                                 std::to_string(spec.inspectors));
  if (Result<Date> d = parse_date(spec.from); !d.ok())
    return Status::invalid_input("--from: '" + spec.from + "' is not a date (YYYY-MM-DD)");
  // Each file draws from its own stream: more inspectors do not change the schools.
  const Layout layout{static_cast<int>(spec.schools), static_cast<int>(spec.inspectors),
                      static_cast<int>(spec.counties), spec.from};
  Rng schools(spec.seed, "visitsync-admin sample schools");
  Rng inspectors(spec.seed, "visitsync-admin sample inspectors");
  return SampleFiles{make_schools(layout, schools), make_inspectors(layout, inspectors),
                     make_assignments(layout)};
}

}  // namespace vs::admin
