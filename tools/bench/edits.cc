#include "edits.h"

#include <map>
#include <set>
#include <unordered_map>

#include "workload_json.h"

namespace vs::bench {
namespace {

using namespace wj;

struct Header {
  std::int64_t second_ops = 0;
  std::int64_t primary_ops = 0;
  std::int64_t edited_visits = -1;  // -1: not given
  std::int64_t conflict_visits = -1;
};

Status need_count(const json& j, const char* key, std::int64_t& out, std::int64_t expected,
                  const std::string& what) {
  if (Status s = need_int(j, key, out, 0, INT64_MAX); !s.ok()) return s;
  if (expected >= 0 && out != expected)
    return Status::invalid_input("'" + std::string(key) + "' is " + std::to_string(out) + ", but " +
                                 what + " " + std::to_string(expected));
  return Status();
}

Status parse_header(const json& j, const Workload& w, Header& h) {
  if (Status s = need_kind(j, "edits_header"); !s.ok()) return s;
  const std::string file = "the visits file " + w.path + " has";
  const auto visits = static_cast<std::int64_t>(w.visits.size());
  const auto items = static_cast<std::int64_t>(w.items.size());
  std::int64_t n = 0;
  if (Status s = need_count(j, "visits", n, visits, file); !s.ok()) return s;
  if (Status s = need_count(j, "items", n, items, file); !s.ok()) return s;
  std::string sha;
  if (Status s = need_string(j, "base_sha256", sha); !s.ok()) return s;
  if (sha != w.sha256)
    return Status::invalid_input("'base_sha256' is not the SHA-256 of " + w.path +
                                 ": these edits were made for another visits file");
  if (Status s = need_count(j, "second_ops", h.second_ops, -1, ""); !s.ok()) return s;
  if (Status s = need_count(j, "primary_ops", h.primary_ops, -1, ""); !s.ok()) return s;
  if (j.contains("total_answers")) {
    if (Status s = need_count(j, "total_answers", n, visits * items, file); !s.ok()) return s;
  }
  for (const auto& [key, out] : {std::pair{"edited_visits", &h.edited_visits},
                                 std::pair{"conflict_visits", &h.conflict_visits}}) {
    if (!j.contains(key)) continue;
    if (Status s = need_count(j, key, *out, -1, ""); !s.ok()) return s;
  }
  for (const char* key : {"edit_frac", "conflict_frac"}) {
    if (j.contains(key) &&
        !(j.at(key).is_number() && j.at(key).get<double>() >= 0 && j.at(key).get<double>() <= 1))
      return Status::invalid_input("'" + std::string(key) + "' must be a number from 0 to 1");
  }
  return optional_info(j);
}

struct Index {
  std::unordered_map<std::string, std::size_t> visits;
  std::unordered_map<std::string, std::size_t> items;
  std::map<std::string, std::int64_t> seqs;  // per device, the last seq read
};

Status parse_edit(const json& j, const Workload& w, Index& index, WorkloadEdit& e,
                  bool& concurrent) {
  if (Status s = need_kind(j, "edit"); !s.ok()) return s;
  std::string device, role, visit_id, item_key;
  std::int64_t seq = 0, at = 0;
  if (Status s = need_id(j, "device", device, 62); !s.ok()) return s;
  if (Status s = need_string(j, "role", role); !s.ok()) return s;
  if (role != "second" && role != "primary")
    return Status::invalid_input("'role' must be \"second\" or \"primary\", not \"" + role + "\"");
  e.primary = role == "primary";
  if (Status s = need_int(j, "seq", seq, 1, INT64_MAX); !s.ok()) return s;
  std::int64_t& last = index.seqs[device];
  if (seq != last + 1)
    return Status::invalid_input("seq " + std::to_string(seq) + " of device " + device +
                                 " should be " + std::to_string(last + 1));
  last = seq;
  if (Status s = need_string(j, "visit_id", visit_id); !s.ok()) return s;
  const auto v = index.visits.find(visit_id);
  if (v == index.visits.end()) return Status::invalid_input("unknown visit '" + visit_id + "'");
  e.visit = v->second;
  if (Status s = need_string(j, "item", item_key); !s.ok()) return s;
  const auto i = index.items.find(item_key);
  if (i == index.items.end()) return Status::invalid_input("unknown item '" + item_key + "'");
  e.item = i->second;
  const WorkloadItem& item = w.items[e.item];
  const WorkloadVisit& visit = w.visits[e.visit];
  for (const auto& [key, out] : {std::pair{"prev", &e.prev}, std::pair{"value", &e.value}}) {
    if (!j.contains(key)) return Status::invalid_input("missing key '" + std::string(key) + "'");
    Result<Value> val = answer_of(item, j.at(key));
    if (!val.ok()) return val.status().annotated(key);
    *out = std::move(val.value());
  }
  if (e.prev != visit.answers[e.item])
    return Status::invalid_input("prev " + brief(j.at("prev")) + " is not the visit's answer to '" +
                                 item_key + "'");
  if (e.primary != (device == visit.device_id))
    return Status::invalid_input(e.primary ? "a primary edit must come from the visit's device " +
                                                 visit.device_id + ", not " + device
                                           : "a second edit must come from another device than "
                                             "the visit's own (" +
                                                 device + ")");
  if (Status s = need_time(j, "at", at); !s.ok()) return s;
  if (Status s = need_bool(j, "concurrent", concurrent); !s.ok()) return s;
  if (e.primary && !concurrent) return Status::invalid_input("a primary edit is concurrent: true");
  return Status();
}

struct Tally {
  std::int64_t second = 0;
  std::int64_t primary = 0;
  std::set<std::size_t> second_visits;
  std::set<std::size_t> primary_visits;
  // (visit, item) of concurrent edits -> their lines, per role: each must have its partner.
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> concurrent[2];
};

Status check_totals(const std::string& path, std::size_t last_line, const Header& h,
                    const Tally& t) {
  const auto say = [&](const std::string& what, std::int64_t got, std::int64_t said) {
    return at_line(path, last_line,
                   "the file ends with " + std::to_string(got) + " " + what +
                       "; its header (line 1) says " + std::to_string(said));
  };
  if (t.second != h.second_ops) return say("second edits", t.second, h.second_ops);
  if (t.primary != h.primary_ops) return say("primary edits", t.primary, h.primary_ops);
  const auto second_visits = static_cast<std::int64_t>(t.second_visits.size());
  const auto primary_visits = static_cast<std::int64_t>(t.primary_visits.size());
  if (h.edited_visits >= 0 && second_visits != h.edited_visits)
    return say("visits with second edits", second_visits, h.edited_visits);
  if (h.conflict_visits >= 0 && primary_visits != h.conflict_visits)
    return say("visits with primary edits", primary_visits, h.conflict_visits);
  for (int role = 0; role < 2; ++role) {
    for (const auto& [key, line] : t.concurrent[role]) {
      if (t.concurrent[1 - role].count(key) == 0)
        return at_line(path, line,
                       role == 1
                           ? "a primary edit without a concurrent second edit of the same item"
                           : "a concurrent second edit without a primary edit of the item");
    }
  }
  return Status();
}

Status read_edits(const std::string& path, const std::string& text, const Workload& w,
                  std::vector<WorkloadEdit>& out) {
  Index index;
  for (std::size_t i = 0; i < w.visits.size(); ++i) index.visits[w.visits[i].id] = i;
  for (std::size_t i = 0; i < w.items.size(); ++i) index.items[w.items[i].key] = i;
  Header h;
  Tally t;
  std::size_t line_no = 0;
  for (const std::string& line : split_lines(text)) {
    ++line_no;
    Result<json> j = parse_line(line);
    Status s = j.ok() ? Status() : j.status();
    WorkloadEdit e;
    bool concurrent = false;
    if (s.ok())
      s = line_no == 1 ? parse_header(j.value(), w, h)
                       : parse_edit(j.value(), w, index, e, concurrent);
    if (!s.ok()) return at_line(path, line_no, s.message());
    if (line_no == 1) continue;
    (e.primary ? t.primary : t.second) += 1;
    (e.primary ? t.primary_visits : t.second_visits).insert(e.visit);
    if (concurrent &&
        !t.concurrent[e.primary ? 1 : 0].emplace(std::pair{e.visit, e.item}, line_no).second)
      return at_line(path, line_no, "a second concurrent edit of the same item by the same role");
    out.push_back(std::move(e));
  }
  if (line_no == 0) return at_line(path, 1, "empty file: no edits_header line");
  return check_totals(path, line_no, h, t);
}

}  // namespace

Result<std::vector<WorkloadEdit>> load_edits(const std::string& path, const Workload& w) {
  Result<std::string> text = read_input(path);
  if (!text.ok()) return text.status();
  std::vector<WorkloadEdit> out;
  try {
    if (Status s = read_edits(path, text.value(), w, out); !s.ok()) return s;
  } catch (const std::exception& e) {  // a bug here, not bad input: still no crash
    return Status::internal(path + ": " + e.what());
  }
  return out;
}

}  // namespace vs::bench
