#include "workload.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

namespace vs::bench {
namespace {

using json = nlohmann::json;

Result<Value> to_value(const WorkloadItem& item, const json& v) {
  if (v.is_null()) return Value();
  const std::string& t = item.type;
  if (t == "yes_no" && v.is_boolean()) return Value::boolean(v.get<bool>());
  if ((t == "integer" || t == "score") && v.is_number_integer())
    return Value::integer(v.get<std::int64_t>());
  if (t == "decimal" && v.is_number()) return Value::decimal(v.get<double>());
  if (t == "text" && v.is_string()) return Value::text(v.get<std::string>());
  if (t == "choice" && v.is_string()) {
    const std::string key = v.get<std::string>();
    for (std::size_t i = 0; i < item.options.size(); ++i) {
      if (item.options[i] == key) return Value::choice({static_cast<std::uint32_t>(i), key});
    }
  }
  if (t == "gps" && v.is_object()) {
    GeoPoint p;
    p.lat = v.at("lat").get<double>();
    p.lon = v.at("lon").get<double>();
    if (v.contains("acc_m")) p.accuracy_m = v.at("acc_m").get<double>();
    return Value::gps(p);
  }
  return Status::invalid_input("item " + item.key + " (" + t + "): unexpected answer " + v.dump());
}

// "2026-10-16T11:43:48+08:00" to milliseconds since the epoch.
std::int64_t parse_started(const std::string& s) {
  Result<Date> d = parse_date(s.substr(0, 10));
  if (!d.ok() || s.size() < 19) return 0;
  const int h = std::atoi(s.substr(11, 2).c_str());
  const int m = std::atoi(s.substr(14, 2).c_str());
  const int sec = std::atoi(s.substr(17, 2).c_str());
  int offset_min = 0;
  if (s.size() >= 25)
    offset_min = (s[19] == '-' ? -1 : 1) *
                 (std::atoi(s.substr(20, 2).c_str()) * 60 + std::atoi(s.substr(23, 2).c_str()));
  return ((static_cast<std::int64_t>(d->days) * 86400 + std::int64_t{h} * 3600 +
           std::int64_t{m} * 60 + sec) -
          std::int64_t{offset_min} * 60) *
         1000;
}

}  // namespace

Result<std::string> workload_file(const std::string& generator, const std::string& dir, int visits,
                                  int items, std::uint64_t seed, bool edits) {
  const std::string out = dir + "/v" + std::to_string(visits) + "x" + std::to_string(items) + "s" +
                          std::to_string(seed) + (edits ? "-edits" : "") + ".jsonl";
  if (std::filesystem::exists(out)) return out;
  // The paths go into a shell command in single quotes.
  if (generator.find('\'') != std::string::npos || out.find('\'') != std::string::npos)
    return Status::invalid_input("a workload path holds a single quote: " + generator + ", " + out);
  const std::string tmp = out + ".tmp";
  const std::string cmd = "python3 '" + generator + "'" + (edits ? " --edits" : "") + " --visits " +
                          std::to_string(visits) + " --items " + std::to_string(items) +
                          " --seed " + std::to_string(seed) + " --out '" + tmp + "'";
  if (std::system(cmd.c_str()) != 0) return Status::io("workload generator failed: " + cmd);
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) return Status::io("cannot move " + tmp + " to " + out + ": " + ec.message());
  return out;
}

Result<Value> answer_value(const WorkloadItem& item, const std::string& json_value) {
  try {
    return to_value(item, json::parse(json_value));
  } catch (const std::exception& e) {
    return Status::invalid_input(std::string("bad answer: ") + e.what());
  }
}

Result<Workload> load_visits(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::io("cannot read " + path);
  Workload w;
  std::string line;
  std::size_t line_no = 0;
  try {
    while (std::getline(in, line)) {
      ++line_no;
      const json j = json::parse(line);
      if (line_no == 1) {
        w.template_id = j.at("template_id").get<std::string>();
        for (const json& it : j.at("items")) {
          WorkloadItem item;
          item.key = it.at("key").get<std::string>();
          item.type = it.at("type").get<std::string>();
          Result<Policy> p = parse_policy(it.at("merge").get<std::string>());
          if (!p.ok()) return p.status().annotate(path + ":1");
          item.policy = p.value();
          if (it.contains("options")) {
            item.options = it.at("options").get<std::vector<std::string>>();
          }
          item.json = it.dump();
          w.items.push_back(std::move(item));
        }
        continue;
      }
      WorkloadVisit v;
      v.line = line;
      v.id = j.at("id").get<std::string>();
      v.school_id = j.at("school_id").get<std::string>();
      v.device_id = j.at("device_id").get<std::string>();
      v.started_ms = parse_started(j.at("started_at").get<std::string>());
      const json& answers = j.at("answers");
      for (const WorkloadItem& item : w.items) {
        Result<Value> val = to_value(item, answers.at(item.key));
        if (!val.ok()) return val.status().annotate(path + ":" + std::to_string(line_no));
        v.answers.push_back(std::move(val.value()));
      }
      w.visits.push_back(std::move(v));
    }
  } catch (const std::exception& e) {
    return Status::invalid_input(path + ":" + std::to_string(line_no) + ": " + e.what());
  }
  return w;
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
