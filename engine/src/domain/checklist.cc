// Checklist templates: parsing, validation with paths, and answer typing (checklist.h).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include <visitsync/checklist.h>
#include <visitsync/photos.h>

#include "util/bytes.h"
#include "util/json.h"

namespace vs {
namespace {

using json = nlohmann::json;

// A template as published (pretty-printed, with notes); its stored form has the engine's text
// limit, kMaxTextBytes.
constexpr std::size_t kMaxTemplateInputBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxKeyChars = 60;
constexpr std::size_t kMaxOptions = 100;
constexpr int kMaxPhotos = 100;
constexpr int kMaxTextChars = 16000;

struct TypeInfo {
  ItemType type;
  const char* name;
  std::vector<Policy> merges;  // allowed merge policies; the first is the default
};

const std::vector<TypeInfo>& types() {
  static const std::vector<TypeInfo> kTypes = {
      {ItemType::kYesNo, "yes_no", {Policy::kLww, Policy::kMax, Policy::kMin}},
      {ItemType::kInteger, "integer", {Policy::kLww, Policy::kMax, Policy::kMin, Policy::kCounter}},
      {ItemType::kDecimal, "decimal", {Policy::kLww, Policy::kMax, Policy::kMin}},
      {ItemType::kScore, "score", {Policy::kLww, Policy::kMax, Policy::kMin}},
      {ItemType::kChoice, "choice", {Policy::kLww, Policy::kMax, Policy::kMin}},
      {ItemType::kMultiChoice, "multi_choice", {Policy::kUnion, Policy::kLww}},
      {ItemType::kText, "text", {Policy::kLww, Policy::kAppend}},
      {ItemType::kDate, "date", {Policy::kLww, Policy::kMax, Policy::kMin}},
      {ItemType::kGps, "gps", {Policy::kLww}},
      {ItemType::kPhoto, "photo", {Policy::kUnion, Policy::kLww}},
  };
  return kTypes;
}

bool is_numeric(ItemType t) {
  return t == ItemType::kInteger || t == ItemType::kDecimal || t == ItemType::kScore;
}

bool is_identifier(const std::string& s, bool dashes) {
  return !s.empty() && s.size() <= kMaxKeyChars && s[0] >= 'a' && s[0] <= 'z' &&
         std::all_of(s.begin(), s.end(), [&](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  (dashes && c == '-');
         });
}

std::string not_identifier(const std::string& s, bool dashes) {
  return "'" + s + "' is not a key (a-z, 0-9, _" + std::string(dashes ? ", -" : "") +
         "; starting with a letter; at most 60 characters)";
}

// Errors carry the JSON path of what they are about.
class Checker {
 public:
  Status error;
  bool fail(const std::string& path, const std::string& what) {
    if (error.ok()) error = Status::invalid_input(path + ": " + what);
    return false;
  }
  bool keys(const json& obj, const std::string& path, std::initializer_list<const char*> allowed) {
    if (!obj.is_object()) return fail(path, "expected an object");
    for (const auto& item : obj.items()) {
      // A name, not the binding: C++17 lambdas cannot capture structured bindings (clang says
      // so; GCC lets it pass).
      const std::string& k = item.key();
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; })) {
        std::string at = path;
        at.append(".").append(k);
        return fail(at, "unknown key");
      }
    }
    return true;
  }
  bool string(const json& obj, const char* key, const std::string& path, std::string& out,
              bool required) {
    if (!obj.contains(key)) return !required || fail(path + "." + key, "missing");
    const json& v = obj.at(key);
    if (!v.is_string()) return fail(path + "." + key, "expected a string");
    out = v.get<std::string>();
    return true;
  }
  bool identifier(const json& obj, const char* key, const std::string& path, std::string& out,
                  bool dashes) {
    if (!string(obj, key, path, out, true)) return false;
    return is_identifier(out, dashes) || fail(path + "." + key, not_identifier(out, dashes));
  }
  bool label(const json& obj, const char* key, const std::string& path, Label& out, bool required) {
    if (!obj.contains(key)) return !required || fail(path + "." + key, "missing");
    const std::string p = path + "." + key;
    const json& v = obj.at(key);
    if (!keys(v, p, {"zh", "en"})) return false;
    if (!string(v, "zh", p, out.zh, true) || !string(v, "en", p, out.en, true)) return false;
    if (out.zh.empty() || out.en.empty()) return fail(p, "both zh and en are needed");
    return true;
  }
  bool number(const json& obj, const char* key, const std::string& path,
              std::optional<double>& out) {
    if (!obj.contains(key)) return true;
    const json& v = obj.at(key);
    if (!v.is_number()) return fail(path + "." + key, "expected a number");
    out = v.get<double>();
    if (!std::isfinite(*out)) return fail(path + "." + key, "not a finite number");
    return true;
  }
  bool count(const json& obj, const char* key, const std::string& path, std::optional<int>& out,
             int lo, int hi) {
    if (!obj.contains(key)) return true;
    const json& v = obj.at(key);
    if (!v.is_number_integer() || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi) {
      return fail(path + "." + key, "expected a whole number from " + std::to_string(lo) + " to " +
                                        std::to_string(hi));
    }
    out = static_cast<int>(v.get<std::int64_t>());
    return true;
  }
};

bool parse_rule(Checker& c, const json& j, const std::string& path, Item& item) {
  if (!j.contains("rule")) return true;
  const std::string p = path + ".rule";
  const json& r = j.at("rule");
  if (!c.keys(r, p, {"warn_above", "fail_above", "warn_below", "fail_below", "note"})) return false;
  if (!is_numeric(item.type)) return c.fail(p, "rules apply to integer, decimal and score items");
  Rule rule;
  if (!c.number(r, "warn_above", p, rule.warn_above) ||
      !c.number(r, "fail_above", p, rule.fail_above) ||
      !c.number(r, "warn_below", p, rule.warn_below) ||
      !c.number(r, "fail_below", p, rule.fail_below) || !c.label(r, "note", p, rule.note, false)) {
    return false;
  }
  if (!rule.warn_above && !rule.fail_above && !rule.warn_below && !rule.fail_below) {
    return c.fail(p, "names no threshold");
  }
  if (rule.warn_above && rule.fail_above && *rule.fail_above < *rule.warn_above) {
    return c.fail(p + ".fail_above", "smaller than warn_above");
  }
  if (rule.warn_below && rule.fail_below && *rule.fail_below > *rule.warn_below) {
    return c.fail(p + ".fail_below", "larger than warn_below");
  }
  item.rule = std::move(rule);
  return true;
}

bool parse_options(Checker& c, const json& j, const std::string& path, Item& item) {
  const bool wants = item.type == ItemType::kChoice || item.type == ItemType::kMultiChoice;
  if (!j.contains("options")) return !wants || c.fail(path + ".options", "missing");
  if (!wants) return c.fail(path + ".options", "only choice and multi_choice items have options");
  const json& opts = j.at("options");
  if (!opts.is_array() || opts.empty() || opts.size() > kMaxOptions) {
    return c.fail(path + ".options", "expected 1 to 100 option keys");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < opts.size(); ++i) {
    const std::string p = path + ".options[" + std::to_string(i) + "]";
    if (!opts[i].is_string()) return c.fail(p, "expected a string");
    const std::string key = opts[i].get<std::string>();
    if (!is_identifier(key, false)) return c.fail(p, not_identifier(key, false));
    if (!seen.insert(key).second) return c.fail(p, "'" + key + "' is listed twice");
    item.options.push_back(key);
  }
  return true;
}

bool parse_bounds(Checker& c, const json& j, const std::string& path, Item& item) {
  const bool has = j.contains("min") || j.contains("max");
  if (has && !is_numeric(item.type))
    return c.fail(path + (j.contains("min") ? ".min" : ".max"),
                  "only integer, decimal and score items have bounds");
  if (!c.number(j, "min", path, item.min) || !c.number(j, "max", path, item.max)) return false;
  if (item.type == ItemType::kScore && (!item.min || !item.max)) {
    return c.fail(path + (item.min ? ".max" : ".min"), "a score needs min and max");
  }
  if (item.type != ItemType::kDecimal) {
    for (const auto& [name, v] : {std::pair{".min", item.min}, std::pair{".max", item.max}}) {
      if (v && *v != std::floor(*v)) return c.fail(path + name, "not a whole number");
    }
  }
  if (item.min && item.max && *item.max < *item.min)
    return c.fail(path + ".max", "smaller than min");
  return true;
}

bool parse_item(Checker& c, const json& j, const std::string& path, Item& item) {
  if (!c.keys(j, path,
              {"key", "type", "merge", "required", "options", "min", "max", "max_count",
               "max_kb", "max_length", "unit", "label", "rule"})) {
    return false;
  }
  if (!c.identifier(j, "key", path, item.key, false)) return false;
  std::string type;
  if (!c.string(j, "type", path, type, true)) return false;
  const TypeInfo* info = nullptr;
  for (const TypeInfo& t : types()) {
    if (type == t.name) info = &t;
  }
  if (info == nullptr) {
    return c.fail(path + ".type", "unknown item type '" + type +
                                      "' (yes_no, integer, decimal, score, choice, multi_choice, "
                                      "text, date, gps, photo)");
  }
  item.type = info->type;
  item.merge = info->merges.front();
  if (j.contains("merge")) {
    std::string merge;
    if (!c.string(j, "merge", path, merge, true)) return false;
    Result<Policy> p = parse_policy(merge);
    if (!p.ok()) return c.fail(path + ".merge", p.status().message());
    if (std::find(info->merges.begin(), info->merges.end(), p.value()) == info->merges.end()) {
      return c.fail(path + ".merge", "a " + type + " item cannot be merged by " + merge);
    }
    item.merge = p.value();
  }
  if (j.contains("required")) {
    if (!j.at("required").is_boolean()) return c.fail(path + ".required", "expected true or false");
    item.required = j.at("required").get<bool>();
  }
  if (!parse_options(c, j, path, item) || !parse_bounds(c, j, path, item)) return false;
  if (j.contains("max_count") && item.type != ItemType::kPhoto)
    return c.fail(path + ".max_count", "only photo items have max_count");
  if (j.contains("max_kb") && item.type != ItemType::kPhoto)
    return c.fail(path + ".max_kb", "only photo items have max_kb");
  if (j.contains("max_length") && item.type != ItemType::kText)
    return c.fail(path + ".max_length", "only text items have max_length");
  if (!c.count(j, "max_count", path, item.max_count, 1, kMaxPhotos) ||
      !c.count(j, "max_kb", path, item.max_kb, 1, static_cast<int>(kMaxPhotoBytes / 1024)) ||
      !c.count(j, "max_length", path, item.max_length, 1, kMaxTextChars)) {
    return false;
  }
  if (item.type == ItemType::kPhoto && !item.max_count) item.max_count = 20;
  if (item.type == ItemType::kText && !item.max_length) item.max_length = 2000;
  return c.string(j, "unit", path, item.unit, false) &&
         c.label(j, "label", path, item.label, true) && parse_rule(c, j, path, item);
}

bool parse_sections(Checker& c, const json& j, Template& t) {
  if (!j.contains("sections")) return c.fail("sections", "missing");
  const json& secs = j.at("sections");
  if (!secs.is_array() || secs.empty()) return c.fail("sections", "expected a non-empty list");
  std::set<std::string> section_keys, item_keys;
  for (std::size_t s = 0; s < secs.size(); ++s) {
    const std::string sp = "sections[" + std::to_string(s) + "]";
    Section sec;
    if (!c.keys(secs[s], sp, {"key", "title", "items"}) ||
        !c.identifier(secs[s], "key", sp, sec.key, false) ||
        !c.label(secs[s], "title", sp, sec.title, true)) {
      return false;
    }
    if (!section_keys.insert(sec.key).second)
      return c.fail(sp + ".key", "'" + sec.key + "' is used twice");
    if (!secs[s].contains("items") || !secs[s].at("items").is_array() ||
        secs[s].at("items").empty()) {
      return c.fail(sp + ".items", "expected a non-empty list");
    }
    const json& items = secs[s].at("items");
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string ip = sp + ".items[" + std::to_string(i) + "]";
      Item item;
      item.section = sec.key;
      if (!parse_item(c, items[i], ip, item)) return false;
      if (!item_keys.insert(item.key).second)
        return c.fail(ip + ".key", "'" + item.key + "' is used twice");
      sec.items.push_back(std::move(item));
    }
    t.sections.push_back(std::move(sec));
  }
  return true;
}

Result<Template> validate(const json& j) {
  Checker c;
  Template t;
  if (!c.keys(j, "template", {"template_id", "version", "title", "applies_to", "sections"}))
    return c.error;
  if (!c.identifier(j, "template_id", "template", t.id, true)) return c.error;
  if (!j.contains("version") || !j.at("version").is_number_integer() ||
      j.at("version").get<std::int64_t>() < 1 || j.at("version").get<std::int64_t>() > 1'000'000) {
    return Status::invalid_input("version: expected a whole number from 1 to 1000000");
  }
  t.version = static_cast<int>(j.at("version").get<std::int64_t>());
  if (!c.label(j, "title", "template", t.title, true)) return c.error;
  if (!j.contains("applies_to") || !j.at("applies_to").is_array() || j.at("applies_to").empty()) {
    return Status::invalid_input("applies_to: expected a non-empty list of school levels");
  }
  for (std::size_t i = 0; i < j.at("applies_to").size(); ++i) {
    const json& level = j.at("applies_to")[i];
    const std::string p = "applies_to[" + std::to_string(i) + "]";
    const auto& levels = school_levels();
    if (!level.is_string() ||
        std::find(levels.begin(), levels.end(), level.get<std::string>()) == levels.end()) {
      return Status::invalid_input(p + ": unknown school level " + level.dump());
    }
    if (t.applies_to_level(level.get<std::string>()))
      return Status::invalid_input(p + ": listed twice");
    t.applies_to.push_back(level.get<std::string>());
  }
  if (!parse_sections(c, j, t)) return c.error;
  for (std::size_t s = 0; s < t.sections.size(); ++s) {
    for (std::size_t i = 0; i < t.sections[s].items.size(); ++i)
      t.index[t.sections[s].items[i].key] = {s, i};
  }
  t.canonical = j.dump();
  return t;
}

// Counts code points of valid UTF-8.
std::size_t char_count(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
    std::string part(text.substr(start, end - start));
    const auto b = part.find_first_not_of(' ');
    const auto e = part.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? std::string() : part.substr(b, e - b + 1));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty() || text.front() == '+') return false;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return res.ec == std::errc() && res.ptr == text.data() + text.size();
}

std::string format_number(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

}  // namespace

std::string_view item_type_name(ItemType t) {
  for (const TypeInfo& info : types()) {
    if (info.type == t) return info.name;
  }
  return "unknown";
}

const std::vector<std::string>& school_levels() {
  static const std::vector<std::string> kLevels = {
      "kindergarten", "teaching_point", "primary", "junior", "nine_year", "senior", "vocational"};
  return kLevels;
}

const Item* Template::find(std::string_view key) const {
  auto it = index.find(key);
  if (it == index.end()) return nullptr;
  return &sections[it->second.first].items[it->second.second];
}

std::vector<const Item*> Template::items() const {
  std::vector<const Item*> out;
  for (const Section& s : sections) {
    for (const Item& i : s.items) out.push_back(&i);
  }
  return out;
}

bool Template::applies_to_level(std::string_view level) const {
  return std::find(applies_to.begin(), applies_to.end(), level) != applies_to.end();
}

Result<Template> parse_template(std::string_view text) {
  Result<json> j = util::parse_json(text, "template", kMaxTemplateInputBytes);
  if (!j.ok()) return j.status();
  try {
    return validate(j.value());
  } catch (const std::exception& e) {  // a JSON type mismatch the checks did not foresee
    return Status::invalid_input(std::string("malformed template: ") + e.what());
  }
}

Status check_item_value(const Item& item, const Value& v) {
  if (v.is_null()) return Status();
  if (Status s = v.check(); !s.ok()) return s.annotate(item.key);
  auto wrong = [&](const char* expected) {
    return Status::invalid_input(item.key + ": expected " + expected + ", got a " +
                                 std::string(kind_name(v.kind())));
  };
  auto out_of_bounds = [&](double x) -> Status {
    if ((item.min && x < *item.min) || (item.max && x > *item.max)) {
      return Status::invalid_input(item.key + ": " + format_number(x) + " is outside " +
                                   (item.min ? format_number(*item.min) : "-inf") + ".." +
                                   (item.max ? format_number(*item.max) : "inf"));
    }
    return Status();
  };
  // A whole number against the bounds, exactly: as a double it would round above 2^53.
  auto integer_out_of_bounds = [&](std::int64_t x) -> Status {
    constexpr double kTwo63 = 9223372036854775808.0;
    // x < min exactly when x < ceil(min); x > max exactly when x > floor(max).
    const bool below =
        item.min && std::ceil(*item.min) >= -kTwo63 &&
        (std::ceil(*item.min) >= kTwo63 || x < static_cast<std::int64_t>(std::ceil(*item.min)));
    const bool above =
        item.max && std::floor(*item.max) < kTwo63 &&
        (std::floor(*item.max) < -kTwo63 || x > static_cast<std::int64_t>(std::floor(*item.max)));
    if (!below && !above) return Status();
    return Status::invalid_input(item.key + ": " + std::to_string(x) + " is outside " +
                                 (item.min ? format_number(*item.min) : "-inf") + ".." +
                                 (item.max ? format_number(*item.max) : "inf"));
  };
  switch (item.type) {
    case ItemType::kYesNo:
      return v.kind() == Value::Kind::kBool ? Status() : wrong("yes or no");
    case ItemType::kInteger:
    case ItemType::kScore:
      if (v.kind() != Value::Kind::kInteger) return wrong("a whole number");
      return integer_out_of_bounds(v.as_integer());
    case ItemType::kDecimal:
      if (v.kind() != Value::Kind::kDecimal) return wrong("a number");
      return out_of_bounds(v.as_decimal());
    case ItemType::kDate:
      return v.kind() == Value::Kind::kDate ? Status() : wrong("a date");
    case ItemType::kGps:
      return v.kind() == Value::Kind::kGps ? Status() : wrong("a gps point");
    case ItemType::kChoice: {
      if (v.kind() != Value::Kind::kChoice) return wrong("an option");
      const Choice& ch = v.as_choice();
      if (ch.rank >= item.options.size() || item.options[ch.rank] != ch.key) {
        return Status::invalid_input(item.key + ": '" + ch.key + "' is not an option");
      }
      return Status();
    }
    case ItemType::kMultiChoice:
      if (v.kind() != Value::Kind::kSet) return wrong("a list of options");
      for (const std::string& o : v.as_set()) {
        if (std::find(item.options.begin(), item.options.end(), o) == item.options.end()) {
          return Status::invalid_input(item.key + ": '" + o + "' is not an option");
        }
      }
      return Status();
    case ItemType::kText:
      if (v.kind() != Value::Kind::kText) return wrong("text");
      if (item.max_length && char_count(v.as_text()) > static_cast<std::size_t>(*item.max_length)) {
        return Status::invalid_input(item.key + ": " + std::to_string(char_count(v.as_text())) +
                                     " characters, at most " + std::to_string(*item.max_length));
      }
      return Status();
    case ItemType::kPhoto:
      if (v.kind() != Value::Kind::kSet) return wrong("a list of photos");
      if (item.max_count && v.as_set().size() > static_cast<std::size_t>(*item.max_count)) {
        return Status::invalid_input(item.key + ": " + std::to_string(v.as_set().size()) +
                                     " photos, at most " + std::to_string(*item.max_count));
      }
      for (const std::string& id : v.as_set()) {
        if (!is_photo_id(id))
          return Status::invalid_input(item.key + ": '" + id + "' is not a photo id (SHA-256 hex)");
      }
      return Status();
  }
  return Status::internal("unknown item type");
}

Result<Value> parse_item_value(const Item& item, std::string_view text) {
  auto bad = [&](const std::string& expected) {
    return Status::invalid_input(item.key + ": '" + std::string(text) + "' is not " + expected);
  };
  if (!util::valid_utf8(text)) return Status::invalid_input(item.key + ": the value is not UTF-8");
  Value v;
  switch (item.type) {
    case ItemType::kYesNo:
      if (text == "yes")
        v = Value::boolean(true);
      else if (text == "no")
        v = Value::boolean(false);
      else
        return bad("yes or no");
      break;
    case ItemType::kInteger:
    case ItemType::kScore: {
      std::int64_t n = 0;
      if (!parse_number(text, n)) return bad("a whole number");
      v = Value::integer(n);
      break;
    }
    case ItemType::kDecimal: {
      double d = 0;
      if (!parse_number(text, d) || !std::isfinite(d)) return bad("a number");
      v = Value::decimal(d);
      break;
    }
    case ItemType::kDate: {
      Result<Date> d = parse_date(text);
      if (!d.ok()) return Status::invalid_input(item.key + ": " + d.status().message());
      v = Value::date(d.value());
      break;
    }
    case ItemType::kChoice: {
      auto it = std::find(item.options.begin(), item.options.end(), text);
      if (it == item.options.end()) {
        std::string list;
        for (const std::string& o : item.options) list += (list.empty() ? "" : ", ") + o;
        return bad("an option (" + list + ")");
      }
      v = Value::choice({static_cast<std::uint32_t>(it - item.options.begin()), std::string(text)});
      break;
    }
    case ItemType::kMultiChoice:
    case ItemType::kPhoto: {
      std::vector<std::string> parts =
          text.empty() ? std::vector<std::string>() : split_commas(text);
      for (const std::string& p : parts) {
        if (p.empty())
          return bad(item.type == ItemType::kPhoto ? "a list of photo ids" : "a list of options");
      }
      v = Value::set(std::move(parts));
      break;
    }
    case ItemType::kText:
      v = Value::text(std::string(text));
      break;
    case ItemType::kGps: {
      const std::vector<std::string> parts = split_commas(text);
      GeoPoint p;
      double acc = 0;
      if ((parts.size() != 2 && parts.size() != 3) || !parse_number(parts[0], p.lat) ||
          !parse_number(parts[1], p.lon) || (parts.size() == 3 && !parse_number(parts[2], acc))) {
        return bad("a gps point (LAT,LON[,ACCURACY_M])");
      }
      if (parts.size() == 3) p.accuracy_m = acc;
      v = Value::gps(p);
      break;
    }
  }
  if (Status s = check_item_value(item, v); !s.ok()) return s;
  return v;
}

std::string format_item_value(const Item& item, const Value& v) {
  (void)item;
  return v.to_string();
}

}  // namespace vs
