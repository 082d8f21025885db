// HubStore::push: a device's batch, authorized op by op (hub/authorize.h), merged and
// acknowledged in one transaction; refused ops are recorded with their reason.
#include <algorithm>
#include <set>

#include "domain/model.h"
#include "hub/hub_impl.h"

namespace vs {
namespace {

using hub::VisitState;

// The published template (id, version), nullptr when there is none. A stored template this
// build cannot parse is the hub's problem, not the device's: an internal error fails the push.
Result<std::shared_ptr<const Template>> published(hub::Backend& store, std::string_view id,
                                                  std::int64_t version) {
  if (version < 1 || version > INT32_MAX) return std::shared_ptr<const Template>();
  Result<std::shared_ptr<const Template>> t = store.find_template(id, static_cast<int>(version));
  if (t.ok()) return t;
  if (t.status().code() == Code::kNotFound) return std::shared_ptr<const Template>();
  if (t.status().code() == Code::kInvalidInput)
    return Status::internal("this hub cannot read its " + t.status().message());
  return t.status();
}

// One batch's view of the visits it writes: each loaded from the store once, then kept up to
// date by the ops authorize() accepts.
struct BatchView {
  HubStore::Impl& im;
  hub::Writer writer;
  const hub::Scopes& scope;
  std::set<std::uint64_t> refused;  // this batch's refused seqs
  struct Visit {
    Status scope;  // OK if the device may write the record
    VisitState state;
  };
  std::map<std::string, Visit, std::less<>> visits;
  hub::Lookups look;

  BatchView(HubStore::Impl& impl, const DeviceRecord& d, const hub::Scopes& s)
      : im(impl), writer{d.device_id, d.inspector_id, d.role}, scope(s) {
    look.find = [this](std::string_view id, std::int64_t version) {
      return published(*im.store, id, version);
    };
    look.refused_own = [this](std::uint64_t seq) -> Result<bool> {
      if (refused.count(seq) != 0) return true;
      return im.store->is_rejected(writer.device_id, seq);
    };
  }

  Result<Visit*> visit(const std::string& key) {
    if (auto it = visits.find(key); it != visits.end()) return &it->second;
    Visit v;
    const std::optional<std::string> school = hub::visit_school(key);
    if (!school) {
      v.scope = Status::rejected("devices may write visits only (visit/<school>/<id>), not '" +
                                 key + "'");
    } else if (scope.count("s:" + *school) == 0) {
      v.scope = Status::rejected(std::string(role_name(writer.role)) + " " + writer.inspector_id +
                                 " may not write visits of school " + *school);
    } else {
      Result<VisitState> state = im.load_visit(key, *school);
      if (!state.ok()) return state.status();
      v.state = std::move(state.value());
    }
    return &visits.emplace(key, std::move(v)).first->second;
  }

  Status judge(const Op& op, const Op* next, std::string_view* kind) {
    Result<Visit*> v = visit(op.record);
    if (!v.ok()) return v.status();
    if (!v.value()->scope.ok()) {
      *kind = "scope";
      return v.value()->scope;
    }
    return hub::authorize(writer, v.value()->state, look, op, next, kind);
  }
};

}  // namespace

Result<hub::VisitState> HubStore::Impl::load_visit(const std::string& key,
                                                   const std::string& school) {
  VisitState v;
  v.school = school;
  Result<School> s = store->school(school);
  if (s.ok()) {
    v.school_level = s->level;
  } else if (s.status().code() != Code::kNotFound) {
    return s.status();
  }
  Result<std::optional<hub::StoredRecord>> stored = store->load_record(key);
  if (!stored.ok()) return stored.status();
  if (!stored.value()) return v;
  for (const auto& [device, range] : stored.value()->ops)
    v.ops.add_range(device, range.first, range.second);
  for (const hub::StoredField& f : stored.value()->fields) {
    v.fields.emplace(f.name, f.policy);
    const Value& merged = f.merged;
    if (domain::is_start_field(f.name) && v.starter.empty()) v.starter = f.first_writer;
    if (f.name == "template" && merged.kind() == Value::Kind::kText)
      v.template_id = merged.as_text();
    if (f.name == "template_version" && merged.kind() == Value::Kind::kInteger)
      v.template_version = merged.as_integer();
    if (f.name == "status" && merged.kind() == Value::Kind::kInteger)
      v.status = merged.as_integer();
    if (f.name == "inspectors") {
      for (const Value& e : f.union_values) {
        if (e.kind() == Value::Kind::kSet)
          v.inspectors.insert(e.as_set().begin(), e.as_set().end());
      }
    }
    if (f.policy == Policy::kCounter) v.counter_totals[f.name] = merged.as_integer();
    if ((domain::round_field(f.name, "submitted") || domain::round_field(f.name, "accepted")) &&
        merged.kind() == Value::Kind::kSet) {
      v.entries[f.name].insert(merged.as_set().begin(), merged.as_set().end());
    }
  }
  Result<std::shared_ptr<const Template>> t = published(*store, v.template_id, v.template_version);
  if (!t.ok()) return t.status();
  v.tmpl = t.value();
  return v;
}

Result<PushResult> HubStore::push(std::string_view device_id, std::vector<Op> ops) {
  Impl& im = *impl_;
  PushResult result;
  Status s = im.store->transaction([&]() -> Status {
    Result<DeviceRecord> d = im.active_device(device_id);
    if (!d.ok()) return d.status();
    result = PushResult();
    std::uint64_t expected = d->acked_seq + 1;
    // The fingerprint of the op the acknowledgement will name (ops are moved out below).
    const std::uint64_t last_print =
        !ops.empty() && ops.back().id.seq >= expected ? fingerprint(ops.back()) : d->acked_print;
    Result<hub::Scopes> scope = im.scope_of(d.value());
    if (!scope.ok()) return scope.status();
    BatchView view(im, d.value(), scope.value());
    std::vector<Op> accepted;
    accepted.reserve(ops.size());
    std::uint64_t first_new = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      Op& op = ops[i];
      if (op.id.seq < expected) continue;  // already handled: a resend after a lost ack
      if (op.id.seq != expected) {
        return Status::invalid_input("push from " + std::string(device_id) + ": seq " +
                                     std::to_string(op.id.seq) + " where " +
                                     std::to_string(expected) + " was expected");
      }
      if (first_new == 0) first_new = op.id.seq;
      ++expected;
      std::string_view kind;
      Status ok = view.judge(op, i + 1 < ops.size() ? &ops[i + 1] : nullptr, &kind);
      if (ok.code() == Code::kRejected) {
        result.rejected.emplace_back(op.id.seq, ok.message());
        ++result.kinds[std::string(kind)];
        view.refused.insert(op.id.seq);
        continue;
      }
      if (!ok.ok()) return ok;
      accepted.push_back(std::move(op));  // `ops` keeps the seqs, which is all it is used for below
    }
    Result<ApplyReport> applied = im.store->apply(accepted);
    if (!applied.ok()) return applied.status();
    // authorize() runs the engine's own checks first: a refusal here means the two disagree, and
    // the batch's later ops were judged against a state that is not stored.
    if (!applied->rejected.empty()) {
      return Status::internal("the engine refused an op the hub had authorized: " +
                              applied->rejected.front().reason.message());
    }
    for (const auto& [seq, reason] : result.rejected) {
      if (Status st = im.store->add_rejection(device_id, seq, reason); !st.ok()) return st;
    }
    result.applied = applied->applied;
    const std::uint64_t handled = expected - 1;
    if (handled != d->acked_seq) {
      if (Status st = im.store->set_acked(device_id, handled, last_print); !st.ok()) return st;
    }
    // The acknowledgement names the end of this push: a resend of ops handled already (a
    // session that replaced one whose acks were lost) is acknowledged as sent, not with the
    // device's whole count, which the device learns at its next hello.
    result.acked_seq = ops.empty() ? handled : std::min(handled, ops.back().id.seq);
    // Reasons already given for seqs in this batch are given again: the device may have lost
    // the acknowledgement that carried them.
    if (!ops.empty() && (first_new == 0 || ops.front().id.seq < first_new)) {
      const std::uint64_t hi = first_new == 0 ? ops.back().id.seq : first_new - 1;
      Result<std::vector<std::pair<std::uint64_t, std::string>>> again =
          im.store->reasons(device_id, ops.front().id.seq, hi, ops.size());
      if (!again.ok()) return again.status();
      result.rejected.insert(result.rejected.end(), again->begin(), again->end());
      std::sort(result.rejected.begin(), result.rejected.end());
    }
    return Status();
  });
  if (!s.ok()) return s;
  return result;
}

}  // namespace vs
