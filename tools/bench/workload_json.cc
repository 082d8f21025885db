#include "workload_json.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "util/json.h"

namespace vs::bench::wj {
namespace {

// A workload line holds one visit (150 answers, notes of up to 2,000 characters) or one edit.
constexpr std::size_t kMaxLineBytes = 4u << 20;

Status missing(const char* key) {
  return Status::invalid_input("missing key '" + std::string(key) + "'");
}

Status wrong(const char* key, const std::string& what, const json& got) {
  return Status::invalid_input("'" + std::string(key) + "' must be " + what + ", not " +
                               brief(got));
}

bool digits(const std::string& s, std::size_t from, std::size_t n, int& out) {
  out = 0;
  for (std::size_t i = from; i < from + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Milliseconds since the epoch of "YYYY-MM-DDTHH:MM:SS(Z|+HH:MM|-HH:MM)", or an error.
Result<std::int64_t> parse_time(const std::string& s) {
  const Status bad =
      Status::invalid_input("'" + s + "' is not a time like 2026-10-22T09:18:42+08:00");
  if (s.size() < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':') return bad;
  Result<Date> d = parse_date(s.substr(0, 10));
  int h = 0, m = 0, sec = 0, oh = 0, om = 0;
  if (!d.ok() || !digits(s, 11, 2, h) || !digits(s, 14, 2, m) || !digits(s, 17, 2, sec) || h > 23 ||
      m > 59 || sec > 59)
    return bad;
  int sign = 0;
  if (s.size() == 20 && s[19] == 'Z') {
    sign = 1;
  } else if (s.size() == 25 && (s[19] == '+' || s[19] == '-') && s[22] == ':' &&
             digits(s, 20, 2, oh) && digits(s, 23, 2, om) && oh <= 14 && om <= 59) {
    sign = s[19] == '-' ? -1 : 1;
  }
  if (sign == 0) return bad;
  const std::int64_t local =
      std::int64_t{d->days} * 86'400 + std::int64_t{h} * 3600 + std::int64_t{m} * 60 + sec;
  return (local - std::int64_t{sign} * (std::int64_t{oh} * 3600 + std::int64_t{om} * 60)) * 1000;
}

}  // namespace

bool supported_type(const std::string& type) {
  static const std::set<std::string> kTypes = {"yes_no", "integer", "decimal", "score",
                                               "choice", "text",    "gps"};
  return kTypes.count(type) > 0;
}

Status at_line(const std::string& path, std::size_t line, const std::string& what) {
  return Status::invalid_input(path + ":" + std::to_string(line) + ": " + what);
}

Result<std::string> read_input(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Status::invalid_input(path + ": a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid_input(path + ": cannot read the file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::invalid_input(path + ": cannot read the file");
  return text;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t from = 0;
  while (from < text.size()) {
    std::size_t end = text.find('\n', from);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(from, end - from));
    from = end + 1;
  }
  return lines;
}

Result<json> parse_line(const std::string& line) {
  if (line.empty()) return Status::invalid_input("empty line");
  Result<json> j = util::parse_json(line, "the line", kMaxLineBytes);
  if (j.ok() && !j->is_object())
    return Status::invalid_input("expected a JSON object, got " + brief(j.value()));
  return j;
}

Status need_kind(const json& j, const char* kind) {
  std::string k;
  if (Status s = need_string(j, "kind", k); !s.ok()) return s;
  if (k != kind)
    return Status::invalid_input("'kind' must be \"" + std::string(kind) + "\", not \"" + k + "\"");
  return Status();
}

Status need_string(const json& j, const char* key, std::string& out) {
  const auto it = j.find(key);
  if (it == j.end()) return missing(key);
  if (!it->is_string()) return wrong(key, "a string", *it);
  out = it->get<std::string>();
  return Status();
}

Status need_int(const json& j, const char* key, std::int64_t& out, std::int64_t lo,
                std::int64_t hi) {
  const auto it = j.find(key);
  if (it == j.end()) return missing(key);
  const std::string range =
      "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX))
    return wrong(key, range, *it);
  out = it->get<std::int64_t>();
  if (out < lo || out > hi) return wrong(key, range, *it);
  return Status();
}

Status need_bool(const json& j, const char* key, bool& out) {
  const auto it = j.find(key);
  if (it == j.end()) return missing(key);
  if (!it->is_boolean()) return wrong(key, "true or false", *it);
  out = it->get<bool>();
  return Status();
}

Status need_id(const json& j, const char* key, std::string& out, std::size_t max) {
  if (Status s = need_string(j, key, out); !s.ok()) return s;
  const bool ok =
      !out.empty() && out.size() <= max && std::all_of(out.begin(), out.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
      });
  if (!ok) return wrong(key, "1 to " + std::to_string(max) + " of A-Z a-z 0-9 _ -", j.at(key));
  return Status();
}

Status need_date(const json& j, const char* key) {
  std::string d;
  if (Status s = need_string(j, key, d); !s.ok()) return s;
  if (!parse_date(d).ok()) return wrong(key, "a date YYYY-MM-DD", j.at(key));
  return Status();
}

Status need_time(const json& j, const char* key, std::int64_t& ms) {
  std::string t;
  if (Status s = need_string(j, key, t); !s.ok()) return s;
  Result<std::int64_t> r = parse_time(t);
  if (!r.ok()) return r.status().annotated(key);
  ms = r.value();
  return Status();
}

Status optional_info(const json& j) {
  std::string text;
  std::int64_t n = 0;
  if (j.contains("generator")) {
    if (Status s = need_string(j, "generator", text); !s.ok()) return s;
  }
  for (const char* key : {"seed", "schools", "inspectors"}) {
    if (!j.contains(key)) continue;
    if (key == std::string("seed") && j.at(key).is_number_unsigned()) continue;  // any 64 bits
    if (Status s = need_int(j, key, n, 0, INT64_MAX); !s.ok()) return s;
  }
  return Status();
}

Result<Value> gps_point(const json& j) {
  for (const auto& [k, unused] : j.items()) {
    if (k != "lat" && k != "lon" && k != "acc_m")
      return Status::invalid_input("a gps point has lat, lon and acc_m, not '" + k + "'");
  }
  if (!j.contains("lat") || !j.contains("lon") || !j.at("lat").is_number() ||
      !j.at("lon").is_number())
    return Status::invalid_input("a gps point needs numbers lat and lon, got " + brief(j));
  GeoPoint p;
  p.lat = j.at("lat").get<double>();
  p.lon = j.at("lon").get<double>();
  if (j.contains("acc_m")) {
    if (!j.at("acc_m").is_number())
      return Status::invalid_input("acc_m must be a number, got " + brief(j));
    p.accuracy_m = j.at("acc_m").get<double>();
  }
  return Value::gps(p);
}

std::string expected_for(const std::string& type) {
  if (type == "yes_no") return "true or false";
  if (type == "integer" || type == "score") return "a whole number";
  if (type == "decimal") return "a number";
  if (type == "choice") return "an option (a string)";
  if (type == "text") return "a string";
  return "{\"lat\":..,\"lon\":..,\"acc_m\":..} or null";
}

std::string brief(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() <= 40) return s;
  std::size_t cut = 37;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

std::string item_error(const std::string& message, const Workload& w) {
  const std::string prefix = "sections[0].items[";
  if (message.rfind(prefix, 0) != 0) return "checklist: " + message;
  const std::size_t close = message.find(']', prefix.size());
  const std::size_t i = std::stoul(message.substr(prefix.size(), close - prefix.size()));
  std::string rest = message.substr(close + 1);
  if (rest.rfind(".max_length", 0) == 0) rest = ".max_len" + rest.substr(11);
  const std::string key = i < w.items.size() ? " ('" + w.items[i].key + "')" : "";
  return "items[" + std::to_string(i) + "]" + key + rest;
}

}  // namespace vs::bench::wj
