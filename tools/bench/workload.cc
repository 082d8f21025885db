#include "workload.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <visitsync/photos.h>  // sha256_hex

#include "args.h"
#include "bench.h"
#include "workload_json.h"

namespace vs::bench {
namespace {

using json = nlohmann::json;
using namespace wj;

Result<Value> typed(const WorkloadItem& item, const json& v) {
  if (v.is_null()) return Value();
  const std::string& t = item.type;
  if (t == "yes_no" && v.is_boolean()) return Value::boolean(v.get<bool>());
  if ((t == "integer" || t == "score") && v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)
      return Status::invalid_input("too large");
    return Value::integer(v.get<std::int64_t>());
  }
  if (t == "decimal" && v.is_number()) return Value::decimal(v.get<double>());
  if (t == "text" && v.is_string()) return Value::text(v.get<std::string>());
  if (t == "choice" && v.is_string()) {
    const std::string key = v.get<std::string>();
    for (std::size_t i = 0; i < item.options.size(); ++i) {
      if (item.options[i] == key) return Value::choice({static_cast<std::uint32_t>(i), key});
    }
    return Status::invalid_input("'" + key + "' is not one of its options");
  }
  if (t == "gps" && v.is_object()) return gps_point(v);
  return Status::invalid_input("expected " + expected_for(t) + ", got " + brief(v));
}

Status parse_items(const json& list, Workload& w) {
  if (!list.is_array() || list.empty())
    return Status::invalid_input("'items' must be a non-empty list");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& it = list[i];
    const std::string where = "items[" + std::to_string(i) + "]";
    if (!it.is_object()) return Status::invalid_input(where + " must be an object");
    for (const auto& [k, unused] : it.items()) {
      static const std::set<std::string> kAllowed = {"key", "type", "merge",  "options",
                                                     "min", "max",  "max_len"};
      if (kAllowed.count(k) == 0) return Status::invalid_input(where + ": unknown key '" + k + "'");
    }
    WorkloadItem item;
    std::string merge;
    if (Status s = need_string(it, "key", item.key); !s.ok()) return s.annotate(where);
    if (Status s = need_string(it, "type", item.type); !s.ok()) return s.annotate(where);
    if (Status s = need_string(it, "merge", merge); !s.ok()) return s.annotate(where);
    if (!supported_type(item.type))
      return Status::invalid_input(where + ".type: '" + item.type + "' is not a workload type (" +
                                   kTypeList + ")");
    item.json = it.dump();
    w.items.push_back(std::move(item));
  }
  // The template check settles the rest: key syntax and uniqueness, merge per type, options,
  // bounds, max_len.
  Result<Template> t = parse_template(template_json(w));
  if (!t.ok()) return Status::invalid_input(item_error(t.status().message(), w));
  const std::vector<const Item*> checked = t->items();
  for (std::size_t i = 0; i < w.items.size(); ++i) {
    w.items[i].checked = *checked[i];
    w.items[i].policy = checked[i]->merge;
    w.items[i].options = checked[i]->options;
  }
  return Status();
}

struct Header {
  std::int64_t visits = 0;
  std::int64_t version = 0;
};

Status parse_checklist(const json& j, Workload& w, Header& h) {
  if (Status s = need_kind(j, "checklist"); !s.ok()) return s;
  if (Status s = need_string(j, "template_id", w.template_id); !s.ok()) return s;
  if (Status s = need_int(j, "version", h.version, 1, 1'000'000); !s.ok()) return s;
  if (Status s = need_int(j, "visits", h.visits, 1, 100'000'000); !s.ok()) return s;
  if (Status s = optional_info(j); !s.ok()) return s;
  if (!j.contains("items")) return Status::invalid_input("missing key 'items'");
  return parse_items(j.at("items"), w);
}

Status parse_answers(const json& answers, const Workload& w, WorkloadVisit& v) {
  if (!answers.is_object()) return Status::invalid_input("'answers' must be an object");
  for (const WorkloadItem& item : w.items) {
    const auto found = answers.find(item.key);
    if (found == answers.end())
      return Status::invalid_input("answers: no answer to item '" + item.key + "'");
    Result<Value> value = answer_of(item, found.value());
    if (!value.ok()) return value.status();
    v.answers.push_back(std::move(value.value()));
  }
  if (answers.size() != w.items.size()) {
    for (const auto& entry : answers.items()) {
      const std::string& k = entry.key();
      if (std::none_of(w.items.begin(), w.items.end(),
                       [&](const WorkloadItem& i) { return i.key == k; }))
        return Status::invalid_input("answers: '" + k + "' is not an item of the checklist");
    }
  }
  return Status();
}

Status parse_visit(const json& j, const Workload& w, const Header& h, WorkloadVisit& v) {
  if (Status s = need_kind(j, "visit"); !s.ok()) return s;
  std::string inspector, template_id, date, started, status;
  std::int64_t version = 0;
  for (const auto& [key, out, max] :
       {std::tuple{"id", &v.id, 64}, std::tuple{"school_id", &v.school_id, 32},
        std::tuple{"inspector_id", &inspector, 32}, std::tuple{"device_id", &v.device_id, 62}}) {
    if (Status s = need_id(j, key, *out, static_cast<std::size_t>(max)); !s.ok()) return s;
  }
  if (Status s = need_string(j, "template_id", template_id); !s.ok()) return s;
  if (template_id != w.template_id)
    return Status::invalid_input("template_id '" + template_id + "' is not the checklist's ('" +
                                 w.template_id + "')");
  if (Status s = need_int(j, "template_version", version, 1, 1'000'000); !s.ok()) return s;
  if (version != h.version)
    return Status::invalid_input("template_version " + std::to_string(version) +
                                 " is not the checklist's version " + std::to_string(h.version));
  if (Status s = need_date(j, "date"); !s.ok()) return s;
  if (Status s = need_time(j, "started_at", v.started_ms); !s.ok()) return s;
  if (Status s = need_string(j, "status", status); !s.ok()) return s;
  static const std::set<std::string> kStatuses = {"draft", "submitted", "returned", "approved"};
  if (kStatuses.count(status) == 0)
    return Status::invalid_input("status '" + status +
                                 "' is not draft, submitted, returned or approved");
  if (!j.contains("answers")) return Status::invalid_input("missing key 'answers'");
  return parse_answers(j.at("answers"), w, v);
}

Status load_lines(const std::string& path, const std::string& text, Workload& w) {
  Header h;
  std::set<std::string> ids;
  std::size_t line_no = 0;
  for (const std::string& line : split_lines(text)) {
    ++line_no;
    Result<json> j = parse_line(line);
    Status s = j.ok() ? Status() : j.status();
    if (s.ok() && line_no == 1) s = parse_checklist(j.value(), w, h);
    if (s.ok() && line_no > 1) {
      WorkloadVisit v;
      v.line = line;
      s = parse_visit(j.value(), w, h, v);
      if (s.ok() && !ids.insert(v.id).second)
        s = Status::invalid_input("visit id '" + v.id + "' appears twice");
      if (s.ok()) w.visits.push_back(std::move(v));
    }
    if (!s.ok()) return at_line(path, line_no, s.message());
  }
  if (line_no == 0) return at_line(path, 1, "empty file: no checklist line");
  if (w.visits.size() != static_cast<std::size_t>(h.visits))
    return at_line(path, line_no,
                   "the file ends after " + std::to_string(w.visits.size()) +
                       " visits; its checklist line says " + std::to_string(h.visits));
  return Status();
}

}  // namespace

Result<Value> wj::answer_of(const WorkloadItem& item, const nlohmann::json& v) {
  Result<Value> value = typed(item, v);
  if (!value.ok())
    return value.status().annotated("answer to '" + item.key + "' (" + item.type + ")");
  Status s = value->check();
  if (s.ok()) s = check_item_value(item.checked, value.value());
  if (s.ok()) return value;
  std::string what = s.message();  // the engine's message names the item first
  if (what.rfind(item.key + ": ", 0) == 0) what = what.substr(item.key.size() + 2);
  return Status::invalid_input("answer to '" + item.key + "': " + what);
}

Result<Workload> load_visits(const std::string& path) {
  Result<std::string> text = read_input(path);
  if (!text.ok()) return text.status();
  Workload w;
  w.path = path;
  w.sha256 = sha256_hex(text.value());
  try {
    if (Status s = load_lines(path, text.value(), w); !s.ok()) return s;
  } catch (const std::exception& e) {  // a bug here, not bad input: still no crash
    return Status::internal(path + ": " + e.what());
  }
  return w;
}

Result<std::string> generated_file(const std::string& dir, const WorkloadSpec& spec, bool edits) {
  // "g1": the generator's version; a later change to what it writes gets new cache names.
  const std::string out = dir + "/g1-v" + std::to_string(spec.visits) + "x" +
                          std::to_string(spec.items) + "s" + std::to_string(spec.seed) +
                          (edits ? "-edits" : "") + ".jsonl";
  if (std::filesystem::exists(out)) return out;
  if (Status s = check_spec(spec); !s.ok()) return s;
  const std::string text =
      edits ? generate_edits_file(spec, EditSpec{}) : generate_visits_file(spec);
  if (Status s = cli::write_file(out, text); !s.ok()) return s;  // whole, or not at all
  return out;
}

Result<Workload> bench_workload(const BenchArgs& args) {
  if (!args.workload.empty()) return load_visits(args.workload);
  Result<std::string> file = generated_file(args.work_dir, {args.visits, args.items, 42}, false);
  if (!file.ok()) return file.status();
  return load_visits(file.value());
}

std::string template_json(const Workload& w) {
  json items = json::array();
  for (const WorkloadItem& item : w.items) {
    json i = json::parse(item.json);
    if (i.contains("max_len")) {
      i["max_length"] = i["max_len"];
      i.erase("max_len");
    }
    i["label"] = {{"zh", item.key}, {"en", item.key}};
    items.push_back(i);
  }
  const json t = {{"template_id", w.template_id},
                  {"version", 1},
                  {"title", {{"zh", "基准检查表"}, {"en", "Benchmark checklist"}}},
                  {"applies_to", school_levels()},
                  {"sections", json::array({{{"key", "all"},
                                             {"title", {{"zh", "全部"}, {"en", "All items"}}},
                                             {"items", items}}})}};
  return t.dump();
}

std::string visit_record(const WorkloadVisit& v) { return "visit/" + v.school_id + "/" + v.id; }

std::vector<Op> visits_as_ops(const Workload& w) {
  std::vector<Op> ops;
  ops.reserve(w.visits.size() * w.items.size());
  std::map<std::string, std::uint64_t> seqs;
  for (const WorkloadVisit& v : w.visits) {
    std::uint64_t& seq = seqs[v.device_id];
    const std::string record = visit_record(v);
    for (std::size_t i = 0; i < w.items.size(); ++i) {
      Op op;
      op.id = OpId{v.device_id, ++seq};
      op.hlc = make_hlc(static_cast<std::uint64_t>(v.started_ms) + i * 1000, 0);
      op.record = record;
      op.field = w.items[i].key;
      op.policy = w.items[i].policy;
      op.value = v.answers[i];
      if (op.policy == Policy::kCounter && op.value.is_null()) op.value = Value::integer(0);
      ops.push_back(std::move(op));
    }
  }
  return ops;
}

}  // namespace vs::bench
