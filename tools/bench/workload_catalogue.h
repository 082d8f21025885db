// visitsync-bench: the checklist of the generated workload (WORKLOAD.md). 150 items of a school
// inspection: the school's profile, its premises, safety, food, transport and boarding,
// teaching, resources, staff and welfare, a conclusion; then items per grade, per building and
// per subject. Each item says how its answers are drawn (workload_gen.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vs::bench {

// How the answers of an item are drawn; a and b are the item's parameters.
enum class Draw : std::uint8_t {
  kFlag,          // yes_no: yes on about 82% of visits
  kProblem,       // yes_no naming a problem: yes on about 15%
  kScore,         // score: mostly 3 and 4
  kGrade,         // choice: the first option mostly, the others rarely
  kNote,          // text: an inspector's note, about a third empty
  kFix,           // gps: a fix near the school on about a third of visits, else null
  kRange,         // integer a..b
  kMostlyZero,    // integer: 0 with probability a per mille, else 1..b
  kPupils,        // integer: the school's pupils
  kClasses,       // integer: the school's classes plus 0..a
  kUpToClasses,   // integer: 0 to the school's classes
  kPerMille,      // integer: the pupils times a..b per mille
  kPerPupil,      // integer: the pupils times a..b
  kPupilsEach,    // integer: the pupils divided by a..b, at least 1
  kBoarding,      // integer: at a boarding school the pupils times a..b per mille, else 0
  kPerBuilding,   // integer: the buildings times a..b
  kMinutes,       // integer: a usual number of minutes, from list a
  kGradePupils,   // integer: a sixth of the pupils, 70% to 130%
  kGradeClasses,  // integer: a sixth of the classes, give or take one
  kGradeLargest,  // integer: the largest class of a grade
  kTenths,        // decimal: a/10 to b/10
  kMostlyNone,    // decimal: 0.0 on about 85% of visits, else a/10 to b/10
  kAreaPerPupil,  // decimal: the pupils times a/10 to b/10
};

struct CatalogueItem {
  std::string key;
  std::string type;   // yes_no, integer, decimal, score, choice, text, gps
  std::string merge;  // a merge policy allowed for the type (schema/templates/FORMAT.md)
  std::int64_t min = 0;
  std::int64_t max = 0;  // integer, decimal and score bounds
  Draw draw = Draw::kFlag;
  std::int32_t a = 0;
  std::int32_t b = 0;
};

inline constexpr int kNoteMaxChars = 80;  // the max_len of every text item

// The catalogue, in checklist order.
const std::vector<CatalogueItem>& catalogue();
// The first m items of the checklist: the catalogue, then the catalogue again with its keys
// suffixed _r2, then _r3, and so on.
std::vector<CatalogueItem> checklist_items(std::size_t m);
// The options of the choice items.
const std::vector<std::string>& grade_options();

// Phrases of inspectors' notes, in Chinese and in English.
const std::vector<std::string>& chinese_phrases();
const std::vector<std::string>& english_phrases();

}  // namespace vs::bench
