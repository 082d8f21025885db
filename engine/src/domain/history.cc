// Inspection::history: a visit's changes, from the op log. Each op of an answer, the status or
// the reviews becomes one Change; its base names the values the writer replaced.
#include <algorithm>
#include <map>
#include <string>

#include "domain/inspection_impl.h"
#include "domain/model.h"

namespace vs {
namespace {

// What a change is to, or "" for a field the history leaves out (those written at the start).
std::string subject_of(const std::string& field) {
  if (field.rfind(domain::kAnswerPrefix, 0) == 0) return field.substr(domain::kAnswerPrefix.size());
  if (field == "status" || field == "reviews") return field == "status" ? "status" : "review";
  return "";
}

// `field` is the op's: an answer's item is told from the status by its prefix.
std::string text_of_value(const Template* t, const std::string& field, const Value& v) {
  if (v.is_null()) return "";
  if (field == "status" && v.kind() == Value::Kind::kInteger) {
    const VisitStatus st = domain::decode_status(v.as_integer());
    return std::string(phase_name(st.phase)) + " (round " + std::to_string(st.round) + ")";
  }
  if (field == "reviews" && v.kind() == Value::Kind::kText) {
    if (std::optional<Review> r = domain::parse_review(v.as_text())) {
      return r->decision + (r->comment.empty() ? "" : ": " + r->comment);
    }
  }
  const bool answer = field.rfind(domain::kAnswerPrefix, 0) == 0;
  const Item* item =
      answer && t != nullptr ? t->find(field.substr(domain::kAnswerPrefix.size())) : nullptr;
  return item != nullptr ? format_item_value(*item, v) : v.to_string();
}

}  // namespace

Result<std::vector<Change>> Inspection::history(std::string_view id_or_prefix) {
  Impl& im = *impl_;
  std::string key;
  Result<VisitView> v = im.find_visit(id_or_prefix, &key);
  if (!v.ok()) return v.status();
  Result<std::vector<Op>> ops = im.engine->ops_of(key);
  if (!ops.ok()) return ops.status();
  std::vector<Op>& log = ops.value();
  // Oldest stamp first: a base names ops with lower stamps, so each is seen before its use.
  std::sort(log.begin(), log.end(), [](const Op& a, const Op& b) {
    return a.hlc != b.hlc ? a.hlc < b.hlc : a.id.device < b.id.device;
  });
  const Template* t = v->checklist.get();
  const std::string& me = im.engine->device_id();
  std::map<OpId, std::string> shown;  // each op's value as text, for the changes over it
  std::vector<Change> out;
  for (const Op& op : log) {
    const std::string what = subject_of(op.field);
    if (what.empty()) continue;
    Change c;
    c.at = op.hlc;
    c.op = op.id;
    c.by = op.id.device == me ? im.actor_id : "";
    c.what = what;
    c.after = text_of_value(t, op.field, op.value);
    for (const OpId& b : op.base) {
      const auto it = shown.find(b);
      c.before.push_back(it != shown.end() ? it->second : "?");
    }
    c.round = domain::round_of(op.context);
    c.review = domain::is_review(op.context);
    shown[op.id] = c.after;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace vs
