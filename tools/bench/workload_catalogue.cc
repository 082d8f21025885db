#include "workload_catalogue.h"

namespace vs::bench {
namespace {

using Items = std::vector<CatalogueItem>;

void yes_no(Items& out, const std::string& key, const char* merge, Draw d = Draw::kFlag) {
  out.push_back({key, "yes_no", merge, 0, 0, d, 0, 0});
}
void count(Items& out, const std::string& key, const char* merge, std::int64_t max, Draw d,
           std::int32_t a = 0, std::int32_t b = 0) {
  out.push_back({key, "integer", merge, 0, max, d, a, b});
}
void decimal(Items& out, const std::string& key, const char* merge, std::int64_t max, Draw d,
             std::int32_t a, std::int32_t b) {
  out.push_back({key, "decimal", merge, 0, max, d, a, b});
}
void score(Items& out, const std::string& key, const char* merge) {
  out.push_back({key, "score", merge, 1, 5, Draw::kScore, 0, 0});
}
void note(Items& out, const std::string& key) {
  out.push_back({key, "text", "append", 0, 0, Draw::kNote, 0, 0});
}

void profile(Items& o) {
  count(o, "pupils_on_roll", "lww", 20000, Draw::kPupils);
  count(o, "classes_total", "lww", 400, Draw::kClasses, 0);
  count(o, "teachers_in_post", "lww", 2000, Draw::kPupilsEach, 12, 22);
  count(o, "posts_unfilled", "lww", 500, Draw::kRange, 0, 8);
  count(o, "supply_teachers", "lww", 300, Draw::kRange, 0, 5);
  count(o, "boarders", "lww", 10000, Draw::kBoarding, 200, 700);
  count(o, "left_behind_pupils", "lww", 10000, Draw::kPerMille, 50, 450);
  count(o, "pupils_with_sen", "lww", 2000, Draw::kPerMille, 5, 30);
  count(o, "dropouts_this_year", "max", 1000, Draw::kMostlyZero, 800, 5);
  count(o, "transfers_out", "lww", 1000, Draw::kRange, 0, 10);
  o.push_back({"school_gate_location", "gps", "lww", 0, 0, Draw::kFix, 0, 0});
  note(o, "profile_notes");
}

void premises(Items& o) {
  o.push_back({"unsafe_buildings", "choice", "max", 0, 0, Draw::kGrade, 0, 0});
  decimal(o, "unsafe_floor_area_m2", "max", 100000, Draw::kMostlyNone, 400, 24000);
  decimal(o, "playground_area_m2", "lww", 200000, Draw::kAreaPerPupil, 30, 120);
  yes_no(o, "playground_all_weather", "lww");
  yes_no(o, "boundary_wall_intact", "lww");
  yes_no(o, "roof_leaking", "max", Draw::kProblem);
  yes_no(o, "wiring_safe", "min");
  yes_no(o, "gas_installation_safe", "min");
  score(o, "heating_working", "min");
  score(o, "toilets_hygiene", "min");
  count(o, "classrooms_total", "lww", 400, Draw::kClasses, 4);
  count(o, "desks_broken", "max", 10000, Draw::kRange, 0, 25);
  count(o, "windows_broken", "max", 1000, Draw::kRange, 0, 15);
  note(o, "premises_notes");
}

void safety_and_food(Items& o) {
  count(o, "extinguishers_total", "lww", 500, Draw::kPerBuilding, 5, 9);
  count(o, "extinguishers_out_of_date", "max", 500, Draw::kMostlyZero, 750, 6);
  count(o, "cameras_working", "lww", 1000, Draw::kPerBuilding, 2, 12);
  count(o, "guards_on_duty", "lww", 50, Draw::kRange, 1, 4);
  yes_no(o, "evacuation_drill_held", "lww");
  yes_no(o, "exits_unobstructed", "min");
  yes_no(o, "visitor_register_kept", "min");
  yes_no(o, "first_aid_supplies", "min");
  note(o, "safety_notes");
  yes_no(o, "canteen_permit_valid", "min");
  yes_no(o, "food_samples_retained", "min");
  count(o, "kitchen_staff_certified", "lww", 100, Draw::kRange, 0, 12);
  count(o, "water_dispensers", "lww", 500, Draw::kPupilsEach, 40, 120);
  yes_no(o, "meal_programme_running", "lww");
  note(o, "food_notes");
  count(o, "buses_in_use", "lww", 100, Draw::kMostlyZero, 600, 8);
  yes_no(o, "bus_escort_present", "min");
  yes_no(o, "dorm_night_warden", "min");
  count(o, "dorm_beds", "lww", 10000, Draw::kBoarding, 250, 750);
  yes_no(o, "hot_water_supply", "lww");
}

void teaching_and_resources(Items& o) {
  count(o, "lessons_observed", "counter", 100, Draw::kRange, 1, 8);
  score(o, "teaching_quality", "lww");
  score(o, "digital_tools_use", "lww");
  count(o, "homework_minutes", "max", 600, Draw::kMinutes, 0);
  count(o, "pe_minutes_daily", "lww", 300, Draw::kMinutes, 1);
  yes_no(o, "after_school_clubs", "lww");
  decimal(o, "club_participation_pct", "lww", 100, Draw::kTenths, 400, 1000);
  yes_no(o, "unauthorised_charges", "max", Draw::kProblem);
  yes_no(o, "curriculum_complete", "min");
  note(o, "teaching_notes");
  count(o, "computers_working", "lww", 5000, Draw::kPerMille, 20, 120);
  count(o, "computers_faulty", "max", 500, Draw::kRange, 0, 12);
  count(o, "interactive_boards", "lww", 400, Draw::kUpToClasses);
  count(o, "projectors_in_use", "lww", 400, Draw::kUpToClasses);
  yes_no(o, "internet_reliable", "lww");
  count(o, "library_volumes", "lww", 1000000, Draw::kPerPupil, 10, 40);
  score(o, "lab_equipment", "lww");
  score(o, "arts_pe_equipment", "lww");
  count(o, "textbooks_short", "max", 2000, Draw::kMostlyZero, 500, 40);
}

void staff_and_conclusion(Items& o) {
  decimal(o, "cpd_hours_avg", "lww", 1000, Draw::kTenths, 80, 1200);
  count(o, "staff_housing_units", "lww", 500, Draw::kRange, 0, 30);
  yes_no(o, "counselling_room", "lww");
  yes_no(o, "sen_resource_room", "lww");
  count(o, "parent_meetings_term", "lww", 50, Draw::kRange, 0, 6);
  score(o, "pupil_wellbeing", "lww");
  count(o, "staff_absent_today", "max", 200, Draw::kRange, 0, 5);
  note(o, "welfare_notes");
  count(o, "repairs_outstanding", "max", 500, Draw::kRange, 0, 9);
  score(o, "fire_alarm_condition", "min");
  count(o, "meals_served_today", "lww", 20000, Draw::kPerMille, 600, 1000);
  count(o, "sports_equipment_items", "lww", 5000, Draw::kPerMille, 20, 80);
  count(o, "toilet_cubicles", "lww", 1000, Draw::kPupilsEach, 25, 50);
  count(o, "complaints_received", "max", 100, Draw::kMostlyZero, 500, 3);
  score(o, "overall_grade", "lww");
  yes_no(o, "follow_up_required", "max", Draw::kProblem);
  note(o, "inspector_summary");
}

void per_grade(Items& o) {
  for (int g = 1; g <= 6; ++g) {
    const std::string p = "grade" + std::to_string(g) + "_";
    count(o, p + "pupils_enrolled", "lww", 2000, Draw::kGradePupils);
    count(o, p + "class_count", "lww", 40, Draw::kGradeClasses);
    count(o, p + "largest_class", "max", 150, Draw::kGradeLargest);
    yes_no(o, p + "textbooks_issued", "min");
  }
}

void per_building(Items& o) {
  for (int b = 1; b <= 5; ++b) {
    const std::string p = "block" + std::to_string(b) + "_";
    count(o, p + "fire_extinguishers", "lww", 100, Draw::kRange, 2, 12);
    yes_no(o, p + "exits_clear", "min");
    score(o, p + "structural_state", "min");
    note(o, p + "inspection_remarks");
  }
}

void per_subject(Items& o) {
  for (const char* s : {"chinese", "maths", "english", "science", "ethics", "pe", "arts", "it"}) {
    const std::string p = std::string(s) + "_";
    yes_no(o, p + "specialist_teacher", "min");
    score(o, p + "lesson_rating", "lww");
    yes_no(o, p + "timetable_hours_met", "min");
  }
}

}  // namespace

const std::vector<CatalogueItem>& catalogue() {
  static const Items kItems = [] {
    Items o;
    profile(o);
    premises(o);
    safety_and_food(o);
    teaching_and_resources(o);
    staff_and_conclusion(o);
    per_grade(o);
    per_building(o);
    per_subject(o);
    return o;
  }();
  return kItems;
}

std::vector<CatalogueItem> checklist_items(std::size_t m) {
  const Items& all = catalogue();
  Items out;
  out.reserve(m);
  for (std::size_t i = 0; i < m; ++i) {
    CatalogueItem item = all[i % all.size()];
    if (const std::size_t round = i / all.size(); round > 0)
      item.key += "_r" + std::to_string(round + 1);
    out.push_back(std::move(item));
  }
  return out;
}

const std::vector<std::string>& grade_options() {
  static const std::vector<std::string> kOptions = {"none", "grade_c", "grade_d"};
  return kOptions;
}

const std::vector<std::string>& chinese_phrases() {
  static const std::vector<std::string> kPhrases = {
      "校门口放学时无人值守", "消防栓水压不足",     "灭火器压力偏低",     "食堂操作间地面湿滑",
      "配电箱未上锁",         "楼梯扶手松动",       "教室照明不足",       "课桌椅高度不合适",
      "饮用水检测报告缺失",   "晨检记录完整",       "防溺水教育已开展",   "寄宿生床铺拥挤",
      "操场跑道破损",         "实验室药品台账清楚", "图书借阅登记规范",   "多媒体设备闲置",
      "教师办公室漏雨",       "厨房排烟不畅",       "门卫登记不全",       "校车座位超员",
      "心理咨询室未开放",     "校园监控有盲区",     "整改意见已当面反馈", "上次问题已整改",
      "学生午休条件较差",     "卫生间缺洗手液",     "应急照明失效",       "建议下学期复查",
  };
  return kPhrases;
}

const std::vector<std::string>& english_phrases() {
  static const std::vector<std::string> kPhrases = {
      "gate unattended at pickup",
      "hydrant pressure low",
      "extinguisher gauge in red",
      "kitchen floor slippery",
      "fuse box left open",
      "stair rail loose",
      "poor lighting in classrooms",
      "desks wrong height",
      "no water test report",
      "morning health checks logged",
      "swim safety talk given",
      "dorm beds crowded",
      "running track cracked",
      "lab chemicals logged",
      "library loans recorded",
      "projector unused",
      "staff room leaks",
      "kitchen vent blocked",
      "gate log incomplete",
      "bus over capacity",
      "counselling room locked",
      "CCTV blind spot at back gate",
      "feedback given to head",
      "last visit's issues fixed",
      "nap room cramped",
      "no soap in toilets",
      "emergency lights dead",
      "review next term",
  };
  return kPhrases;
}

}  // namespace vs::bench
