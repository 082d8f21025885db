// Checklist templates: the format of schema/templates/FORMAT.md, its validator, and the typing
// of answers against an item.
//
// A template is parsed from JSON and validated as a whole; every error names the path of the
// offending part ("sections[2].items[4].max: smaller than min").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/status.h>
#include <visitsync/types.h>

namespace vs {

enum class ItemType : std::uint8_t {
  kYesNo,
  kInteger,
  kDecimal,
  kScore,
  kChoice,
  kMultiChoice,
  kText,
  kDate,
  kGps,
  kPhoto,
};
std::string_view item_type_name(ItemType t);

struct Label {
  std::string zh;
  std::string en;
};

// Thresholds that turn an answer into a finding (warn or fail).
struct Rule {
  std::optional<double> warn_above, fail_above, warn_below, fail_below;
  Label note;
};

struct Item {
  std::string key;
  ItemType type = ItemType::kText;
  Policy merge = Policy::kLww;
  bool required = false;
  std::vector<std::string> options;  // choice and multi_choice, in their order
  std::optional<double> min, max;    // integer, decimal, score
  std::optional<int> max_count;      // photo
  std::optional<int> max_kb;         // photo: each file at most this many KiB
  std::optional<int> max_length;     // text, in characters (code points)
  std::string unit;
  Label label;
  std::optional<Rule> rule;
  std::string section;  // key of the section it is in
};

struct Section {
  std::string key;
  Label title;
  std::vector<Item> items;
};

struct Template {
  std::string id;
  int version = 0;
  Label title;
  std::vector<std::string> applies_to;  // school levels
  std::vector<Section> sections;
  std::string canonical;  // the JSON as published (object keys sorted, no spaces)
  // Item key -> (section, item) positions; parse_template fills it. Positions, not pointers,
  // so that a copy of the template stays right.
  std::map<std::string, std::pair<std::size_t, std::size_t>, std::less<>> index;

  // The item with this key, or nullptr.
  const Item* find(std::string_view key) const;
  // Every item, in template order.
  std::vector<const Item*> items() const;
  bool applies_to_level(std::string_view level) const;
};

// The school levels a template may name in applies_to.
const std::vector<std::string>& school_levels();

// Parses and validates a template. kInvalidInput names the path of the first problem found.
Result<Template> parse_template(std::string_view json);

// Parses a value as typed on the command line (tools/COMMANDS.md) and checks it against
// the item: yes|no, numbers as written, YYYY-MM-DD, an option key, option keys separated by
// commas, LAT,LON[,ACCURACY_M], text as given. Photo items take attachment ids (SHA-256 hex)
// separated by commas. Errors name the item and what was expected.
Result<Value> parse_item_value(const Item& item, std::string_view text);

// Checks a value against the item (kind, options, bounds, length, count). Null always passes.
Status check_item_value(const Item& item, const Value& v);

// The value as the command line and the CSV export write it (the inverse of parse_item_value).
std::string format_item_value(const Item& item, const Value& v);

}  // namespace vs
