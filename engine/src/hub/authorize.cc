// The rules of authorize.h. Each check returns the reason a device is shown for a refused op.
#include "hub/authorize.h"

#include <algorithm>

#include "domain/model.h"
#include "util/bytes.h"

namespace vs::hub {
namespace {

using domain::kAnswerPrefix;

Status refuse(std::string why) { return Status::rejected(std::move(why)); }

VisitStatus now_of(const VisitState& v) {
  return domain::decode_status(v.status.value_or(domain::status_value(1, domain::kOpen)));
}

// started_at as devices write it: YYYY-MM-DDTHH:MM:SSZ, a real date and time.
bool valid_timestamp(std::string_view s) {
  if (s.size() != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z') return false;
  if (!parse_date(s.substr(0, 10)).ok()) return false;
  auto two = [&](std::size_t at, int max) {
    const char a = s[at];
    const char b = s[at + 1];
    return a >= '0' && a <= '9' && b >= '0' && b <= '9' && (a - '0') * 10 + (b - '0') <= max;
  };
  return two(11, 23) && two(14, 59) && two(17, 59);
}

// The template a start names, once both its id and version are known; nullptr until then.
Result<std::shared_ptr<const Template>> resolve_start(const VisitState& v, const Lookups& look,
                                                      const std::string& id, std::int64_t version) {
  if (id.empty() || version == 0) return std::shared_ptr<const Template>();
  Result<std::shared_ptr<const Template>> t = look.find(id, version);
  if (!t.ok()) return t.status();
  if (!t.value()) {
    return refuse("template " + id + " v" + std::to_string(version) + " is not published here");
  }
  if (!t.value()->applies_to_level(v.school_level)) {
    return refuse("template " + id + " does not apply to " +
                  (v.school_level.empty() ? std::string("this school's") : v.school_level) +
                  " schools (school " + v.school + ")");
  }
  return t;
}

// school, template, template_version, started_by, started_at: once each, by the inspector who
// starts the visit, naming the visit's school, the inspector and a template for its level.
Status check_start_field(const Writer& w, const VisitState& v, const Lookups& look, const Op& op,
                         std::shared_ptr<const Template>* resolved) {
  const std::string& f = op.field;
  if (w.role != Role::kInspector) return refuse("only an inspector starts a visit (" + f + ")");
  if (v.fields.count(f) != 0) return refuse(f + " is written once, when the visit is started");
  if (!v.starter.empty() && v.starter != w.device_id)
    return refuse(f + " is written by the device that started the visit, " + v.starter);
  const Value& x = op.value;
  if (f == "school" && x != Value::text(v.school))
    return refuse("the school field must name the visit's school, " + v.school);
  if (f == "started_by" && x != Value::text(w.inspector_id))
    return refuse("started_by must name the device's own inspector, " + w.inspector_id);
  if (f == "started_at" && (x.kind() != Value::Kind::kText || !valid_timestamp(x.as_text())))
    return refuse("started_at must be a time as YYYY-MM-DDTHH:MM:SSZ");
  std::string id = v.template_id;
  std::int64_t version = v.template_version;
  if (f == "template") {
    if (x.kind() != Value::Kind::kText || !domain::valid_ref_id(x.as_text()))
      return refuse("template must name a template id");
    id = x.as_text();
  }
  if (f == "template_version") {
    if (x.kind() != Value::Kind::kInteger || x.as_integer() < 1 || x.as_integer() > INT32_MAX)
      return refuse("template_version must be a version from 1 to " + std::to_string(INT32_MAX));
    version = x.as_integer();
  }
  Result<std::shared_ptr<const Template>> t = resolve_start(v, look, id, version);
  if (!t.ok()) return t.status();
  *resolved = t.value();
  return Status();
}

// Every entry names an op: of the visit, or one of the writer's own earlier ops; or it is one
// the field holds already (a union write repeats what it saw).
Status check_entries(const VisitState& v, const Op& op, bool own_any_earlier) {
  if (op.value.kind() != Value::Kind::kSet) return refuse(op.field + " must be a set of ops");
  const auto held = v.entries.find(op.field);
  for (const std::string& entry : op.value.as_set()) {
    if (held != v.entries.end() && held->second.count(entry) != 0) continue;
    const std::optional<OpId> id = domain::parse_op_entry(entry);
    if (!id) return refuse(op.field + " holds '" + entry + "', which is not device#seq");
    const bool own_earlier = id->device == op.id.device && id->seq < op.id.seq;
    if (!v.ops.has(*id) && !(own_any_earlier && own_earlier))
      return refuse(op.field + " names " + entry + ", an op this visit does not have");
  }
  return Status();
}

Status check_status(const Writer& w, const VisitState& v, const Op& op) {
  const Value& x = op.value;
  if (x.kind() != Value::Kind::kInteger ||
      x.as_integer() < domain::status_value(1, domain::kOpen) ||
      x.as_integer() > domain::status_value(domain::kRoundMask, domain::kApproved) ||
      x.as_integer() % 4 > domain::kApproved) {
    return refuse("status " + x.to_string() + " is not a visit status");
  }
  if (w.role != Role::kInspector) return Status();
  // An inspector moves a visit forward only: start it, or submit the current round. What it
  // writes is never below the stored status, so it cannot undo a supervisor's decision.
  const VisitStatus now = now_of(v);
  const std::int64_t s = x.as_integer();
  const bool start = !v.status && s == domain::status_value(1, domain::kOpen);
  const bool submit = v.status && now.phase != Phase::kApproved &&
                      s == domain::status_value(now.round, domain::kSubmitted);
  if (!start && !submit) {
    return refuse("an inspector may only start a visit or submit its current round (it is " +
                  std::string(phase_name(now.phase)) + ", round " + std::to_string(now.round) +
                  ")");
  }
  return Status();
}

// The visit's own fields after its start: inspectors, status, snapshots, acceptances, reviews.
Status check_lifecycle_field(const Writer& w, const VisitState& v, const Op& op, const Op* next) {
  const std::string& f = op.field;
  const bool supervisor = w.role != Role::kInspector;
  if (!v.tmpl) return refuse(f + " is written on a visit that has not been started");
  if (f == "inspectors") {
    if (op.value.kind() != Value::Kind::kSet)
      return refuse("inspectors must be a set of inspector ids");
    // A device adds its own inspector, and keeps the names it saw: never a stranger's.
    for (const std::string& name : op.value.as_set()) {
      if (name != w.inspector_id && v.inspectors.count(name) == 0)
        return refuse("inspectors names " + name + ", who has not worked on this visit");
    }
    return Status();
  }
  if (f == "status") return check_status(w, v, op);
  const VisitStatus now = now_of(v);
  if (const std::optional<int> round = domain::round_field(f, "submitted")) {
    // The submitter's view of the visit, written right before the submit of the round it names
    // (a second, concurrent submitter's too): it may name only ops the visit has (its own
    // earlier ones included), so it cannot claim a change the hub has never seen.
    if (supervisor) return refuse("only an inspector submits a visit");
    const bool with_submit =
        next != nullptr && next->id.device == op.id.device && next->id.seq == op.id.seq + 1 &&
        next->record == op.record && next->field == "status" && next->check().ok() &&
        next->value == Value::integer(domain::status_value(*round, domain::kSubmitted));
    if (!with_submit)
      return refuse(f + " is written only with the submit of round " + std::to_string(*round) +
                    ", as the op before it");
    if (*round != now.round || now.phase == Phase::kApproved)
      return refuse(f + " is written with the submit of round " + std::to_string(*round) +
                    ", but the visit is " + std::string(phase_name(now.phase)) + ", round " +
                    std::to_string(now.round));
    return check_entries(v, op, true);
  }
  if (domain::round_field(f, "accepted")) {
    if (!supervisor) return refuse("only a supervisor accepts changes made after a submission");
    return check_entries(v, op, false);
  }
  // reviews
  if (!supervisor) return refuse("only a supervisor writes reviews");
  const std::optional<Review> r = op.value.kind() == Value::Kind::kText
                                      ? domain::parse_review(op.value.as_text())
                                      : std::nullopt;
  if (!r) return refuse("a review must be JSON {by, decision: approve|return, comment, round}");
  if (r->by != w.inspector_id) return refuse("a review must name its writer, " + w.inspector_id);
  return Status();
}

Status check_answer(const Writer& w, const VisitState& v, const Op& op) {
  if (!v.tmpl) {
    if (v.template_id.empty())
      return refuse(op.field + " answers a visit that has not been started");
    return refuse("the visit's template " + v.template_id + " v" +
                  std::to_string(v.template_version) + " is not published here");
  }
  if (w.role == Role::kInspector) {
    const VisitStatus now = now_of(v);
    if (domain::round_of(op.context) > now.round)
      return refuse("written in round " + std::to_string(domain::round_of(op.context)) +
                    " of a visit in round " + std::to_string(now.round));
  }
  const std::string_view key = std::string_view(op.field).substr(kAnswerPrefix.size());
  const Item* item = v.tmpl->find(key);
  if (item == nullptr)
    return refuse("template " + v.template_id + " has no item '" + std::string(key) + "'");
  if (op.policy != item->merge) {
    return refuse(std::string(key) + " is merged by " + std::string(policy_name(item->merge)) +
                  ", not " + std::string(policy_name(op.policy)));
  }
  if (item->merge != Policy::kCounter) {
    if (Status s = check_item_value(*item, op.value); !s.ok()) return refuse(s.message());
    return Status();
  }
  // A counter op is an increment: the total it leads to must suit the item's bounds.
  const auto at = v.counter_totals.find(op.field);
  const std::int64_t total = at == v.counter_totals.end() ? 0 : at->second;
  std::int64_t next = 0;
  if (__builtin_add_overflow(total, op.value.as_integer(), &next))
    return refuse(std::string(key) + ": an increment of " + op.value.to_string() + " overflows");
  if (Status s = check_item_value(*item, Value::integer(next)); !s.ok())
    return refuse(s.message() + " (the total after an increment of " + op.value.to_string() + ")");
  return Status();
}

Status check_bases(const VisitState& v, const Lookups& look, const Op& op) {
  // A base names ops the writer saw: ops the visit has, or the writer's own earlier ops that the
  // hub refused (the device still holds them). Anything else would only grow the record.
  for (const OpId& b : op.base) {
    if (v.ops.has(b)) continue;
    if (b.device == op.id.device && b.seq < op.id.seq) {
      Result<bool> refused = look.refused_own(b.seq);
      if (!refused.ok()) return refused.status();
      if (refused.value()) continue;
    }
    return refuse("its base names " + b.to_string() + ", an op this visit does not have");
  }
  return Status();
}

// The whole judgement of authorize(), without changing the state; `kind` is set to the kind
// of check that is made before it is made (authorize.h, the kinds of refusal).
Status judge(const Writer& w, const VisitState& v, const Lookups& look, const Op& op,
             const Op* next, std::shared_ptr<const Template>* resolved, std::string_view& kind) {
  kind = "forged";
  if (op.id.device != w.device_id) return refuse("a device pushes only its own ops");
  // The engine's own check first: an op it would refuse is refused here and changes nothing.
  kind = "malformed";
  if (Status s = op.check(); !s.ok()) return refuse(s.message());
  if (auto f = v.fields.find(op.field); f != v.fields.end() && f->second != op.policy) {
    return refuse(op.field + " is merged by " + std::string(policy_name(f->second)) + ", not " +
                  std::string(policy_name(op.policy)));
  }
  kind = "role";
  if (w.role == Role::kInspector && domain::is_review(op.context))
    return refuse("an inspector's op cannot carry a supervisor's mark");
  kind = "base";
  if (Status s = check_bases(v, look, op); !s.ok()) return s;
  kind = "answer";
  if (op.field.rfind(kAnswerPrefix, 0) == 0) return check_answer(w, v, op);
  kind = "malformed";
  const std::optional<Policy> policy = domain::visit_field_policy(op.field);
  if (!policy) return refuse("unknown visit field '" + op.field + "'");
  if (op.policy != *policy) {
    return refuse(op.field + " is merged by " + std::string(policy_name(*policy)) + ", not " +
                  std::string(policy_name(op.policy)));
  }
  kind = "start";
  if (domain::is_start_field(op.field)) return check_start_field(w, v, look, op, resolved);
  kind = "lifecycle";
  return check_lifecycle_field(w, v, op, next);
}

}  // namespace

bool OpSet::has(const OpId& id) const {
  const auto it = ranges_.find(id.device);
  if (it == ranges_.end()) return false;
  const auto& r = it->second;
  auto after = std::upper_bound(r.begin(), r.end(), std::make_pair(id.seq, UINT64_MAX));
  return after != r.begin() && std::prev(after)->second >= id.seq;
}

void OpSet::add(const OpId& id) { add_range(id.device, id.seq, id.seq); }

void OpSet::add_range(const std::string& device, std::uint64_t first, std::uint64_t last) {
  auto& r = ranges_[device];
  r.emplace_back(first, last);
  std::sort(r.begin(), r.end());
  // Merge overlapping and adjacent ranges, so that a device's run of seqs stays one range.
  std::size_t out = 0;
  for (std::size_t i = 1; i < r.size(); ++i) {
    if (r[i].first <= r[out].second + 1) {
      r[out].second = std::max(r[out].second, r[i].second);
    } else {
      r[++out] = r[i];
    }
  }
  r.resize(out + 1);
}

Status authorize(const Writer& w, VisitState& v, const Lookups& look, const Op& op, const Op* next,
                 std::string_view* kind) {
  std::shared_ptr<const Template> resolved;
  std::string_view checked;
  if (Status s = judge(w, v, look, op, next, &resolved, checked); !s.ok()) {
    if (kind != nullptr) *kind = checked;
    return s;
  }
  v.ops.add(op.id);
  v.fields.emplace(op.field, op.policy);
  const Value& x = op.value;
  if (domain::is_start_field(op.field)) {
    if (v.starter.empty()) v.starter = op.id.device;
    if (op.field == "template") v.template_id = x.as_text();
    if (op.field == "template_version") v.template_version = x.as_integer();
    if (resolved) v.tmpl = std::move(resolved);
  } else if (op.field == "status") {
    v.status = std::max(v.status.value_or(0), x.as_integer());
  } else if (op.field == "inspectors") {
    v.inspectors.insert(x.as_set().begin(), x.as_set().end());
  } else if (domain::round_field(op.field, "submitted") ||
             domain::round_field(op.field, "accepted")) {
    v.entries[op.field].insert(x.as_set().begin(), x.as_set().end());
  } else if (op.policy == Policy::kCounter) {
    v.counter_totals[op.field] += x.as_integer();  // judged free of overflow
  }
  return Status();
}

std::optional<std::string> visit_school(std::string_view key) {
  if (key.rfind(domain::kVisitPrefix, 0) != 0) return std::nullopt;
  const std::string_view rest = key.substr(domain::kVisitPrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size() ||
      rest.find('/', slash + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(rest.substr(0, slash));
}

}  // namespace vs::hub
