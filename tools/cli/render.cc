#include "render.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace vs::cli {
namespace {

using nlohmann::json;

std::string pad(const std::string& s, std::size_t width) {
  // Width in characters, counting a CJK character as two columns as terminals do.
  std::size_t cols = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    cols += len >= 3 ? 2 : 1;
    i += len;
  }
  return cols >= width ? s + " " : s + std::string(width - cols, ' ');
}

std::string when(Hlc h) { return format_hlc(h).substr(0, 19) + "Z"; }

std::size_t answered(const VisitView& v) {
  std::size_t n = 0;
  for (const Answer& a : v.answers) n += a.answered() ? 1 : 0;
  return n;
}

std::string status_word(const VisitView& v) {
  return std::string(phase_name(v.status.phase)) + " (round " + std::to_string(v.status.round) +
         ")";
}

std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

const VisitSync* sync_of(const VisitSyncs& syncs, const std::string& visit) {
  const auto it = syncs.find(visit);
  return it == syncs.end() ? nullptr : &it->second;
}

json time_or_null(std::int64_t ms) { return ms > 0 ? json(utc_time(ms)) : json(nullptr); }

// One word or two for a list's column: what the hub still lacks, else whether it has it all.
std::string sync_word(const VisitSync* s) {
  if (s == nullptr) return "-";
  if (!s->refused.empty()) return std::to_string(s->refused.size()) + " refused";
  if (s->unacked > 0) return std::to_string(s->unacked) + " waiting";
  return "synced";
}

json sync_json(const VisitSync* s) {
  const VisitSync none;
  const VisitSync& v = s != nullptr ? *s : none;
  json refused = json::array();
  for (const auto& [seq, reason] : v.refused) refused.push_back({{"seq", seq}, {"reason", reason}});
  return {{"unacked", v.unacked},
          {"refused", refused},
          {"last_sent", time_or_null(v.last_sent_ms)},
          {"last_received", time_or_null(v.last_received_ms)}};
}

std::string sync_text(const VisitSync* s) {
  if (s == nullptr) return "sync     nothing sent or received yet\n";
  std::string out = "sync     " + std::to_string(s->unacked) + " changes waiting for the hub";
  out += "; last sent " + (s->last_sent_ms > 0 ? utc_time(s->last_sent_ms) : std::string("never"));
  out += "; last received " +
         (s->last_received_ms > 0 ? utc_time(s->last_received_ms) : std::string("never")) + "\n";
  for (const auto& [seq, reason] : s->refused)
    out += "  refused by the hub: op " + std::to_string(seq) + ": " + reason + "\n";
  return out;
}

}  // namespace

std::string utc_time(std::int64_t ms) { return when(make_hlc(static_cast<std::uint64_t>(ms), 0)); }

std::string visit_text(const VisitView& v, const School* school, const VisitSync* sync) {
  std::string out = "visit    " + v.id + "\n";
  out += "school   " + v.school_id;
  if (school != nullptr)
    out += " " + school->name + " (" + school->county + ", " + school->level + ")";
  out += "\n";
  out += "template " + v.template_id + " v" + std::to_string(v.template_version);
  if (v.checklist) out += " — " + v.checklist->title.zh + " / " + v.checklist->title.en;
  out += "\nstatus   " + status_word(v) + "\n";
  out += "started  " + v.started_at + " by " + v.started_by + "; inspectors:";
  for (const std::string& i : v.inspectors) out += " " + i;
  out += "\n" + sync_text(sync);
  if (!v.checklist)
    return out + "(this device does not hold the template: the answers cannot be shown)\n";
  out += "answered " + std::to_string(answered(v)) + " of " + std::to_string(v.answers.size()) +
         " items\n";
  std::string section;
  for (const Answer& a : v.answers) {
    if (a.item->section != section) {
      section = a.item->section;
      for (const Section& s : v.checklist->sections) {
        if (s.key == section) out += "\n[" + s.key + "] " + s.title.zh + " / " + s.title.en + "\n";
      }
    }
    bool flagged = false;
    for (const Flag& f : v.flags) flagged = flagged || f.item == a.item->key;
    const std::string mark = flagged ? "! " : "  ";
    if (a.item->merge == Policy::kAppend) {
      out += mark + pad(a.item->key, 34) + std::to_string(a.versions.size()) + " note" +
             (a.versions.size() == 1 ? "" : "s") + "\n";
      for (const Version& n : a.versions)
        out += "      " + when(n.hlc) + "  " + n.value.to_string() + "\n";
      continue;
    }
    std::string shown = a.value.is_null() ? "-" : format_item_value(*a.item, a.value);
    if (!a.item->unit.empty() && !a.value.is_null()) shown += " " + a.item->unit;
    out += mark + pad(a.item->key, 34) + shown +
           (a.item->required && !a.answered() ? "   (required)" : "") + "\n";
  }
  if (!v.findings.empty()) {
    out += "\nfindings\n";
    for (const Finding& f : v.findings) out += "  " + pad(f.level, 6) + f.message + "\n";
  }
  if (!v.flags.empty()) {
    out += "\nconflicts (settle with: visitsync resolve VISIT ITEM VALUE)\n";
    for (const Flag& f : v.flags) {
      out += "  " + f.item + ": " + f.reason + "\n";
      for (const Version& ver : f.versions) {
        out += "      " + pad(ver.op.to_string(), 22) + when(ver.hlc) + "  " +
               ver.value.to_string() + "\n";
      }
    }
  }
  if (!v.reviews.empty()) {
    out += "\nreviews\n";
    for (const Review& r : v.reviews) {
      out += "  round " + std::to_string(r.round) + ": " + r.decision + " by " + r.by + " at " +
             when(r.at) + (r.comment.empty() ? "" : ": " + r.comment) + "\n";
    }
  }
  if (!v.missing_required.empty() && v.status.editable()) {
    out += "\nrequired, not answered:";
    for (const std::string& m : v.missing_required) out += " " + m;
    out += "\n";
  }
  if (!v.photos_missing.empty()) {
    out += "\nphotos named but not here (" + std::to_string(v.photos_missing.size()) + "):";
    for (const std::string& id : v.photos_missing) out += " " + id.substr(0, 12);
    out += "\n";
  }
  return out;
}

std::string visit_json(const VisitView& v, const VisitSync* sync) {
  // In to_json's order, then the sync state.
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(Inspection::to_json(v));
  j["sync"] = sync_json(sync);
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string visit_list_text(const std::vector<VisitView>& visits, const VisitSyncs& syncs) {
  if (visits.empty()) return "no visits\n";
  std::string out = pad("visit", 10) + pad("status", 22) + pad("school", 9) + pad("template", 20) +
                    pad("answered", 10) + pad("conflicts", 11) + "sync\n";
  for (const VisitView& v : visits) {
    out += pad(v.id.substr(0, 8), 10) + pad(status_word(v), 22) + pad(v.school_id, 9) +
           pad(v.template_id, 20) +
           pad(std::to_string(answered(v)) + "/" + std::to_string(v.answers.size()), 10) +
           pad(std::to_string(v.flags.size()), 11) + sync_word(sync_of(syncs, v.id)) + "\n";
  }
  return out;
}

std::string visit_list_json(const std::vector<VisitView>& visits, const VisitSyncs& syncs) {
  json out = json::array();
  for (const VisitView& v : visits) {
    out.push_back({{"visit_id", v.id},
                   {"school_id", v.school_id},
                   {"template_id", v.template_id},
                   {"template_version", v.template_version},
                   {"status", std::string(phase_name(v.status.phase))},
                   {"round", v.status.round},
                   {"started_by", v.started_by},
                   {"started_at", v.started_at},
                   {"answered", answered(v)},
                   {"items", v.answers.size()},
                   {"findings", v.findings.size()},
                   {"conflicts", v.flags.size()},
                   {"sync", sync_json(sync_of(syncs, v.id))}});
  }
  return dump(out);
}

std::string history_text(const std::vector<Change>& changes) {
  std::string out;
  for (const Change& c : changes) {
    std::string before;
    for (const std::string& b : c.before) before += (before.empty() ? "" : " | ") + b;
    const std::string who = c.by.empty() ? c.op.device : c.by + " on " + c.op.device;
    out += when(c.at) + "  " + pad(who, 24) + pad(c.what, 18) +
           (c.before.empty() ? std::string("") : before + " -> ") +
           (c.after.empty() ? std::string("(cleared)") : c.after) + (c.review ? "  [review]" : "") +
           "\n";
  }
  if (changes.empty()) out = "no changes\n";
  return out;
}

std::string history_json(const std::vector<Change>& changes) {
  json out = json::array();
  for (const Change& c : changes) {
    out.push_back({{"at", format_hlc(c.at)},
                   {"op", c.op.to_string()},
                   {"device", c.op.device},
                   {"by", c.by},
                   {"item", c.what},
                   {"before", c.before},
                   {"after", c.after},
                   {"round", c.round},
                   {"review", c.review}});
  }
  return dump(out);
}

std::string flags_text(const std::vector<Flag>& flags) {
  if (flags.empty()) return "no conflicts\n";
  std::string out;
  for (const Flag& f : flags) {
    out += f.visit_id.substr(0, 8) + "  " + f.item + ": " + f.reason + "\n";
    for (const Version& v : f.versions) {
      out += "      " + pad(v.op.to_string(), 22) + when(v.hlc) + "  " + v.value.to_string() + "\n";
    }
  }
  return out;
}

std::string flags_json(const std::vector<Flag>& flags) {
  json out = json::array();
  for (const Flag& f : flags) {
    json versions = json::array();
    for (const Version& v : f.versions) {
      versions.push_back({{"device", v.op.device},
                          {"seq", v.op.seq},
                          {"at", when(v.hlc)},
                          {"value", v.value.to_string()}});
    }
    out.push_back(
        {{"visit_id", f.visit_id}, {"item", f.item}, {"reason", f.reason}, {"versions", versions}});
  }
  return dump(out);
}

std::string status_text(const LocalStatus& s, const RefusedOps& refused) {
  std::string out = "device    " + s.device_id + " (" + s.mode + ")\n";
  out += "acting as " + s.actor_id + " (" + std::string(role_name(s.role)) + ")\n";
  out += "visits    " + std::to_string(s.visits) + ":";
  for (int p = 0; p < 4; ++p) {
    out.append(" ")
        .append(std::to_string(s.visits_by_phase[p]))
        .append(" ")
        .append(phase_name(static_cast<Phase>(p)));
    out += p < 3 ? "," : "\n";
  }
  out += "conflicts " + std::to_string(s.flags) + "\n";
  out += "ops       " + std::to_string(s.engine.ops) + " stored, " +
         std::to_string(s.engine.own_ops) + " written here, " + std::to_string(s.unsynced_ops) +
         " not yet acknowledged by the hub\n";
  if (s.photos_missing > 0) {
    out += "photos    " + std::to_string(s.photos_missing) +
           " named by answers but not here (visit show lists them)\n";
  }
  if (!refused.empty()) {
    out += "refused   " + std::to_string(refused.size()) +
           " ops refused by the hub, kept on this device:\n";
    for (const auto& [seq, reason] : refused)
      out += "  op " + std::to_string(seq) + ": " + reason + "\n";
  }
  return out;
}

std::string status_json(const LocalStatus& s, const RefusedOps& refused) {
  json by_phase = json::object();
  for (int p = 0; p < 4; ++p)
    by_phase[std::string(phase_name(static_cast<Phase>(p)))] = s.visits_by_phase[p];
  json refused_json = json::array();
  for (const auto& [seq, reason] : refused)
    refused_json.push_back({{"seq", seq}, {"reason", reason}});
  return dump({{"device_id", s.device_id},
               {"mode", s.mode},
               {"actor_id", s.actor_id},
               {"role", std::string(role_name(s.role))},
               {"visits", s.visits},
               {"visits_by_status", by_phase},
               {"conflicts", s.flags},
               {"ops", s.engine.ops},
               {"own_ops", s.engine.own_ops},
               {"unsynced_ops", s.unsynced_ops},
               {"photos_missing", s.photos_missing},
               {"refused_ops", refused_json},
               {"schema_version", s.engine.schema_version}});
}

}  // namespace vs::cli
