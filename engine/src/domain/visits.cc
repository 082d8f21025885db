// Visits: start, answers, notes, submit, review, resolve, and the view of a visit with its
// findings and flags (engine/MERGE.md, "Visits").
#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <visitsync/inspection.h>
#include <visitsync/photos.h>

#include "domain/inspection_impl.h"
#include "util/bytes.h"

namespace vs {
namespace {

using domain::answer_field;
using domain::context_of;
using nlohmann::json;

constexpr std::size_t kMaxCommentChars = 2000;

std::string short_id(std::string_view id) { return std::string(id.substr(0, 8)); }

// A write of one of the visit's own fields (not an answer), merged by the policy the hub pins.
Write visit_write(const std::string& key, std::string field, Value value, std::uint32_t ctx) {
  const Policy policy = *domain::visit_field_policy(field);
  return Write{key, std::move(field), policy, std::move(value), ctx};
}

bool valid_comment(std::string_view s) {
  const auto chars = std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  return util::valid_utf8(s) && static_cast<std::size_t>(chars) <= kMaxCommentChars;
}

std::string format_threshold(double v) {
  std::string s = Value::decimal(v).to_string();
  return s;
}

std::int64_t integer_or(const RecordView& r, std::string_view field, std::int64_t fallback) {
  const FieldView* f = r.find(field);
  return f != nullptr && f->value.kind() == Value::Kind::kInteger ? f->value.as_integer()
                                                                  : fallback;
}

// The submission snapshot of a round: for each device, the highest seq of the visit's ops the
// submitter had seen (a record clock: a replica receives one device's ops of a record in order).
std::map<std::string, std::uint64_t> snapshot_of(const RecordView& r, int round) {
  std::map<std::string, std::uint64_t> seen;
  const FieldView* f = r.find(domain::submitted_field(round));
  if (f == nullptr || f->value.kind() != Value::Kind::kSet) return seen;
  for (const std::string& entry : f->value.as_set()) {
    const std::optional<OpId> id = domain::parse_op_entry(entry);
    if (!id) continue;
    std::uint64_t& best = seen[id->device];
    best = std::max(best, id->seq);
  }
  return seen;
}

// Late changes a supervisor accepted in a round ("device#seq"): each op on its own, never a
// range, so accepting one change does not accept another made before it.
std::set<std::string> accepted_of(const RecordView& r, int round) {
  const FieldView* f = r.find(domain::accepted_field(round));
  if (f == nullptr || f->value.kind() != Value::Kind::kSet) return {};
  return {f->value.as_set().begin(), f->value.as_set().end()};
}

// Versions of an answer written by an inspector in `round` or an earlier one that the round's
// submission did not see and no supervisor accepted: changes made concurrently with the submit
// (or with the approval after it). An edit from an earlier round that arrives late counts too.
std::vector<Version> unseen_by_submit(const std::vector<Version>& versions, int round,
                                      const std::map<std::string, std::uint64_t>& snapshot,
                                      const std::set<std::string>& accepted) {
  std::vector<Version> out;
  for (const Version& v : versions) {
    if (domain::round_of(v.context) > round || domain::is_review(v.context)) continue;
    if (accepted.count(domain::op_entry(v.op)) != 0) continue;
    auto it = snapshot.find(v.op.device);
    if (it == snapshot.end() || it->second < v.op.seq) out.push_back(v);
  }
  return out;
}

void add_flags(VisitView& view, const RecordView& r) {
  const std::map<std::string, std::uint64_t> snapshot = snapshot_of(r, view.status.round);
  const std::set<std::string> accepted = accepted_of(r, view.status.round);
  const bool after_submit = !view.status.editable();
  for (const Answer& a : view.answers) {
    const FieldView* f = r.find(answer_field(a.item->key));
    if (f == nullptr) continue;
    std::vector<std::string> reasons;
    if (f->conflict) reasons.emplace_back("concurrent values differ");
    std::vector<Version> late;
    if (after_submit) {
      // A counter's versions are its increments: the late ones are listed as such.
      late = unseen_by_submit(f->versions, view.status.round, snapshot, accepted);
      if (!late.empty()) {
        reasons.emplace_back(
            std::string(f->policy == Policy::kCounter ? "incremented" : "changed") +
            " concurrently with the " +
            (view.status.phase == Phase::kApproved ? "submission it was approved on"
                                                   : "submission"));
      }
    }
    if (reasons.empty()) continue;
    Flag flag;
    flag.visit_id = view.id;
    flag.item = a.item->key;
    for (const std::string& reason : reasons)
      flag.reason += (flag.reason.empty() ? "" : "; ") + reason;
    flag.versions = f->conflict ? f->versions : late;
    view.flags.push_back(std::move(flag));
  }
  // Two decisions on one submission: an approval and a return made concurrently.
  const FieldView* status = r.find("status");
  if (status != nullptr && status->versions.size() > 1) {
    std::set<int> codes;
    for (const Version& v : status->versions) {
      if (v.value.kind() == Value::Kind::kInteger)
        codes.insert(static_cast<int>(v.value.as_integer() % 4));
    }
    if (codes.count(domain::kApproved) != 0 && codes.count(domain::kOpen) != 0) {
      view.flags.push_back(
          Flag{view.id, "status",
               "approved and returned concurrently: the return holds until a supervisor decides",
               status->versions});
    }
  }
}

std::vector<Review> reviews_of(const RecordView& r) {
  std::vector<Review> out;
  const FieldView* f = r.find("reviews");
  if (f == nullptr) return out;
  for (const Version& v : f->versions) {
    if (v.value.kind() != Value::Kind::kText) continue;
    std::optional<Review> rv = domain::parse_review(v.value.as_text());
    if (!rv) continue;  // not written by review(): the hub refuses such entries
    rv->at = v.hlc;
    out.push_back(std::move(*rv));
  }
  return out;
}

// A union field's current items plus `more`: a union write replaces what its writer saw.
Result<Value> with_items(Engine& engine, const std::string& key, const std::string& field,
                         std::vector<std::string> more) {
  Result<std::optional<FieldView>> f = engine.read_field(key, field);
  if (!f.ok()) return f.status();
  if (f.value() && f.value()->value.kind() == Value::Kind::kSet) {
    const std::vector<std::string>& have = f.value()->value.as_set();
    more.insert(more.end(), have.begin(), have.end());
  }
  return Value::set(std::move(more));
}

Status locked(const VisitView& v) {
  if (v.status.phase == Phase::kApproved) {
    return Status::invalid_input("visit " + short_id(v.id) + " is approved: its answers are final");
  }
  return Status::invalid_input(
      "visit " + short_id(v.id) +
      " is submitted: its answers are locked until a supervisor returns it");
}

}  // namespace

void findings_of(const Item& item, const Value& v, std::vector<Finding>& out) {
  if (!item.rule || (v.kind() != Value::Kind::kInteger && v.kind() != Value::Kind::kDecimal))
    return;
  const double x =
      v.kind() == Value::Kind::kInteger ? static_cast<double>(v.as_integer()) : v.as_decimal();
  const Rule& r = *item.rule;
  const std::string note = r.note.en.empty() ? "" : " (" + r.note.en + ")";
  const std::string shown = v.to_string();
  auto add = [&](const char* level, const char* side, double t) {
    out.push_back(
        Finding{item.key, level,
                item.key + " " + shown + " is " + side + " " + format_threshold(t) + note});
  };
  if (r.fail_above && x > *r.fail_above) {
    add("fail", "above", *r.fail_above);
  } else if (r.warn_above && x > *r.warn_above) {
    add("warn", "above", *r.warn_above);
  }
  if (r.fail_below && x < *r.fail_below) {
    add("fail", "below", *r.fail_below);
  } else if (r.warn_below && x < *r.warn_below) {
    add("warn", "below", *r.warn_below);
  }
}

Result<std::string> Inspection::Impl::visit_key(std::string_view id) {
  // A whole record key names its visit without a search (build_view reports a missing one).
  if (id.rfind(domain::kVisitPrefix, 0) == 0) return std::string(id);
  if (id.size() < 6)
    return Status::invalid_input("'" + std::string(id) +
                                 "': give at least 6 characters of the visit id");
  Result<std::vector<std::string>> keys = engine->records_with_prefix(domain::kVisitPrefix);
  if (!keys.ok()) return keys.status();
  std::vector<std::string> matches;
  for (const std::string& key : keys.value()) {
    const std::string_view vid = std::string_view(key).substr(key.rfind('/') + 1);
    if (vid.substr(0, id.size()) == id) matches.push_back(key);
  }
  if (matches.empty()) return Status::not_found("no visit '" + std::string(id) + "'");
  if (matches.size() > 1) {
    return Status::invalid_input("'" + std::string(id) + "' matches " +
                                 std::to_string(matches.size()) + " visits: give more of the id");
  }
  return matches.front();
}

Result<VisitView> Inspection::Impl::build_view(const std::string& key) {
  Result<RecordView> rec = engine->read(key);
  if (!rec.ok()) return rec.status();
  const RecordView& r = rec.value();
  VisitView v;
  v.id = key.substr(key.rfind('/') + 1);
  v.school_id = text_of(r, "school");
  v.template_id = text_of(r, "template");
  v.template_version = static_cast<int>(integer_or(r, "template_version", 0));
  v.started_by = text_of(r, "started_by");
  v.started_at = text_of(r, "started_at");
  if (const FieldView* f = r.find("inspectors");
      f != nullptr && f->value.kind() == Value::Kind::kSet) {
    v.inspectors = f->value.as_set();
  }
  v.status = domain::decode_status(integer_or(r, "status", domain::status_value(1, domain::kOpen)));
  v.reviews = reviews_of(r);
  Result<std::shared_ptr<const Template>> t = load_template(v.template_id, v.template_version);
  if (!t.ok()) {
    if (!template_unavailable(t.status())) return t.status();
    return v;  // its template is not here yet, or unreadable: the visit shows without answers
  }
  v.checklist = t.value();
  for (const Item* item : v.checklist->items()) {
    Answer a;
    a.item = item;
    if (const FieldView* f = r.find(answer_field(item->key)); f != nullptr) {
      a.value = f->value;
      a.versions = f->versions;
    }
    findings_of(*item, a.value, v.findings);
    if (item->required && !a.answered()) v.missing_required.push_back(item->key);
    if (item->type == ItemType::kPhoto && a.value.kind() == Value::Kind::kSet) {
      for (const std::string& id : a.value.as_set()) {
        if (!has_photo(data_dir, id)) v.photos_missing.push_back(id);
      }
    }
    v.answers.push_back(std::move(a));
  }
  add_flags(v, r);
  return v;
}

Status Inspection::Impl::check_reviewer(const VisitView& v) {
  if (role == Role::kAdmin) return Status();
  if (role != Role::kSupervisor) return Status::invalid_input("only a supervisor reviews visits");
  Result<RecordView> me = engine->read(domain::inspector_record(actor_id));
  Result<RecordView> school = engine->read(domain::school_record(v.school_id));
  if (!me.ok() || !school.ok())
    return Status::not_found("supervisor " + actor_id + " or school " + v.school_id +
                             " is not known here");
  if (text_of(me.value(), "county") != text_of(school.value(), "county")) {
    return Status::invalid_input("school " + v.school_id + " is outside the county of supervisor " +
                                 actor_id);
  }
  return Status();
}

Result<VisitView> Inspection::Impl::find_visit(std::string_view id_or_prefix, std::string* key) {
  Result<std::string> k = visit_key(id_or_prefix);
  if (!k.ok()) return k.status();
  if (key != nullptr) *key = k.value();
  return build_view(k.value());
}

Result<VisitView> Inspection::Impl::visit_for_answers(std::string_view visit) {
  if (role != Role::kInspector) {
    return Status::invalid_input(
        "only inspectors answer checklist items (a supervisor settles flags with resolve)");
  }
  Result<VisitView> v = find_visit(visit);
  if (!v.ok()) return v.status();
  if (!v->checklist)
    return Status::not_found("the template of visit " + short_id(v->id) +
                             " is not here yet, or this build cannot read it");
  if (Status s = check_assigned(v->school_id); !s.ok()) return s;
  if (!v->status.editable()) return locked(v.value());
  return v;
}

Result<std::string> Inspection::start_visit(std::string_view school_id,
                                            std::string_view template_id) {
  Impl& im = *impl_;
  if (im.role != Role::kInspector) return Status::invalid_input("only inspectors start visits");
  Result<School> school = this->school(school_id);
  if (!school.ok()) return school.status();
  if (Status s = im.check_assigned(school_id); !s.ok()) return s;
  Result<std::shared_ptr<const Template>> t = find_template(template_id);
  if (!t.ok()) return t.status();
  if (!t.value()->applies_to_level(school->level)) {
    return Status::invalid_input("template " + std::string(template_id) + " does not apply to " +
                                 school->level + " schools (school " + std::string(school_id) +
                                 ")");
  }
  const std::string id = domain::new_uuid();
  const std::string key = domain::visit_record(school_id, id);
  const std::uint32_t ctx = context_of(1, false);
  std::vector<Write> writes;
  // The order the hub checks them in: the template is known before the version that resolves
  // it, and the status that starts the visit comes last.
  for (auto& [field, value] : std::vector<std::pair<const char*, Value>>{
           {"school", Value::text(std::string(school_id))},
           {"template", Value::text(t.value()->id)},
           {"template_version", Value::integer(t.value()->version)},
           {"started_by", Value::text(im.actor_id)},
           {"started_at", Value::text(im.now_iso())},
           {"inspectors", Value::set({im.actor_id})},
           {"status", Value::integer(domain::status_value(1, domain::kOpen))}}) {
    writes.push_back(visit_write(key, field, std::move(value), ctx));
  }
  Result<std::vector<OpId>> ids = im.engine->write_batch(writes);
  if (!ids.ok()) return ids.status();
  return id;
}

namespace {

// The writes of one answer, and the inspector's name on the visit when it is new there.
void answer_writes(const VisitView& v, const std::string& key, const Item& item, Value value,
                   const std::string& actor, std::vector<Write>& out) {
  const std::uint32_t ctx = context_of(v.status.round, false);
  out.push_back(Write{key, answer_field(item.key), item.merge, std::move(value), ctx});
  if (std::find(v.inspectors.begin(), v.inspectors.end(), actor) == v.inspectors.end()) {
    std::vector<std::string> names = v.inspectors;
    names.push_back(actor);
    out.push_back(visit_write(key, "inspectors", Value::set(names), ctx));
  }
}

Result<const Item*> find_item(const VisitView& v, std::string_view item) {
  const Item* it = v.checklist->find(item);
  if (it == nullptr) {
    return Status::invalid_input("template " + v.template_id + " has no item '" +
                                 std::string(item) + "'");
  }
  return it;
}

// A counter answer given as a total ("5") or as a change ("+1", "-2"): the increment to write
// on visit `v`. The total it leads to must suit the item's bounds.
Result<std::int64_t> counter_increment(const VisitView& v, const Item& item,
                                       std::string_view text) {
  const auto current = std::find_if(v.answers.begin(), v.answers.end(),
                                    [&](const Answer& a) { return a.item == &item; });
  if (current == v.answers.end())
    return Status::internal("visit " + short_id(v.id) + " lacks item " + item.key);
  const std::int64_t total =
      current->value.kind() == Value::Kind::kInteger ? current->value.as_integer() : 0;
  std::int64_t target = 0;
  std::int64_t change = 0;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    Item magnitude = item;  // the change alone is not held to the bounds of a total
    magnitude.min.reset();
    magnitude.max.reset();
    if (text.size() > 1 && (text[1] == '+' || text[1] == '-')) {
      return Status::invalid_input(item.key + ": '" + std::string(text) +
                                   "' is not a change (expected +N or -N)");
    }
    Result<Value> m = parse_item_value(magnitude, text.substr(1));
    if (!m.ok()) return m.status();
    change = text[0] == '-' ? -m->as_integer() : m->as_integer();
    if (__builtin_add_overflow(total, change, &target)) {
      return Status::invalid_input(item.key + ": " + std::to_string(total) + " " +
                                   std::string(text) + " is out of range");
    }
  } else {
    Result<Value> t = parse_item_value(item, text);
    if (!t.ok()) return t.status();
    target = t->as_integer();
    if (__builtin_sub_overflow(target, total, &change)) {
      return Status::invalid_input(item.key + ": the change to " + std::to_string(target) +
                                   " is out of range");
    }
  }
  if (Status s = check_item_value(item, Value::integer(target)); !s.ok()) return s;
  return change;
}

}  // namespace

Status Inspection::set_answer(std::string_view visit, std::string_view item,
                              std::string_view text) {
  // Read and written in one write transaction (BEGIN IMMEDIATE): a sync in another process
  // cannot change the visit between the checks and the writes. So are the other commands.
  return impl_->engine->transaction([&]() -> Status {
    Result<VisitView> v = impl_->visit_for_answers(visit);
    if (!v.ok()) return v.status();
    Result<const Item*> it = find_item(v.value(), item);
    if (!it.ok()) return it.status();
    const Item& spec = *it.value();
    if (spec.merge == Policy::kAppend) {
      return Status::invalid_input("item " + spec.key + " keeps notes: add one with visit note");
    }
    const std::string key = domain::visit_record(v->school_id, v->id);
    Value value;
    if (spec.merge == Policy::kCounter) {
      Result<std::int64_t> inc = counter_increment(v.value(), spec, text);
      if (!inc.ok()) return inc.status();
      if (inc.value() == 0) return Status();
      value = Value::integer(inc.value());
    } else {
      Result<Value> parsed = parse_item_value(spec, text);
      if (!parsed.ok()) return parsed.status();
      value = std::move(parsed.value());
    }
    if (Status s = impl_->check_photo_sizes(spec, value); !s.ok()) return s;
    std::vector<Write> writes;
    answer_writes(v.value(), key, spec, std::move(value), impl_->actor_id, writes);
    Result<std::vector<OpId>> ids = impl_->engine->write_batch(writes);
    return ids.ok() ? Status() : ids.status();
  });
}

Status Inspection::Impl::check_photo_sizes(const Item& spec, const Value& value) {
  if (spec.type != ItemType::kPhoto || !spec.max_kb || value.kind() != Value::Kind::kSet)
    return Status();
  const std::uint64_t max = static_cast<std::uint64_t>(*spec.max_kb) * 1024;
  Result<std::unique_ptr<PhotoStore>> photos = PhotoStore::open(photo_folder(data_dir));
  if (!photos.ok()) return photos.status();
  for (const std::string& id : value.as_set()) {
    Result<std::uint64_t> size = photos.value()->size(id);
    if (size.ok() && size.value() > max) {
      return Status::invalid_input(spec.key + ": photo " + id.substr(0, 12) + " is " +
                                   std::to_string((size.value() + 1023) / 1024) +
                                   " KiB; this item takes photos of at most " +
                                   std::to_string(*spec.max_kb) + " KiB");
    }
  }
  return Status();
}

Status Inspection::add_note(std::string_view visit, std::string_view item, std::string_view text) {
  return impl_->engine->transaction([&]() -> Status {
    Result<VisitView> v = impl_->visit_for_answers(visit);
    if (!v.ok()) return v.status();
    Result<const Item*> it = find_item(v.value(), item);
    if (!it.ok()) return it.status();
    if (it.value()->merge != Policy::kAppend) {
      return Status::invalid_input("item " + it.value()->key +
                                   " is not a notes item: set it with visit set");
    }
    if (text.empty()) return Status::invalid_input(it.value()->key + ": the note is empty");
    Result<Value> value = parse_item_value(*it.value(), text);
    if (!value.ok()) return value.status();
    std::vector<Write> writes;
    answer_writes(v.value(), domain::visit_record(v->school_id, v->id), *it.value(), value.value(),
                  impl_->actor_id, writes);
    Result<std::vector<OpId>> ids = impl_->engine->write_batch(writes);
    return ids.ok() ? Status() : ids.status();
  });
}

Status Inspection::submit(std::string_view visit) {
  return impl_->engine->transaction([&]() -> Status {
    Result<VisitView> v = impl_->visit_for_answers(visit);
    if (!v.ok()) return v.status();
    if (!v->missing_required.empty()) {
      std::string list;
      for (const std::string& m : v->missing_required) list += (list.empty() ? "" : ", ") + m;
      return Status::invalid_input("visit " + short_id(v->id) +
                                   " cannot be submitted: required items not answered: " + list);
    }
    const std::string key = domain::visit_record(v->school_id, v->id);
    // What this device has seen of the visit: changes it has not seen are flagged later.
    Result<std::vector<OpId>> clock = impl_->engine->record_clock(key);
    if (!clock.ok()) return clock.status();
    std::vector<std::string> seen;
    for (const OpId& id : clock.value()) seen.push_back(domain::op_entry(id));
    const int round = v->status.round;
    const std::uint32_t ctx = context_of(round, false);
    Result<Value> snapshot =
        with_items(*impl_->engine, key, domain::submitted_field(round), std::move(seen));
    if (!snapshot.ok()) return snapshot.status();
    Result<std::vector<OpId>> ids = impl_->engine->write_batch({
        visit_write(key, domain::submitted_field(round), snapshot.value(), ctx),
        visit_write(key, "status", Value::integer(domain::status_value(round, domain::kSubmitted)),
                    ctx),
    });
    return ids.ok() ? Status() : ids.status();
  });
}

Status Inspection::review(std::string_view visit, std::string_view decision,
                          std::string_view comment) {
  return impl_->engine->transaction([&]() -> Status {
    Impl& im = *impl_;
    std::string key;
    Result<VisitView> v = im.find_visit(visit, &key);
    if (!v.ok()) return v.status();
    if (Status s = im.check_reviewer(v.value()); !s.ok()) return s;
    if (decision != "approve" && decision != "return") {
      return Status::invalid_input("decision '" + std::string(decision) +
                                   "': expected approve or return");
    }
    if (v->status.phase != Phase::kSubmitted) {
      return Status::invalid_input("visit " + short_id(v->id) + " is " +
                                   std::string(phase_name(v->status.phase)) +
                                   ": only a submitted visit can be reviewed");
    }
    if (!valid_comment(comment)) {
      return Status::invalid_input("the comment must be UTF-8 text of at most 2000 characters");
    }
    const int round = v->status.round;
    const bool approve = decision == "approve";
    const std::int64_t status = approve ? domain::status_value(round, domain::kApproved)
                                        : domain::status_value(round + 1, domain::kOpen);
    const json entry = {{"by", im.actor_id},
                        {"decision", std::string(decision)},
                        {"comment", std::string(comment)},
                        {"round", round}};
    const std::uint32_t ctx = context_of(round, true);
    Result<std::vector<OpId>> ids = im.engine->write_batch({
        visit_write(key, "status", Value::integer(status), ctx),
        visit_write(key, "reviews", Value::text(entry.dump()), ctx),
    });
    return ids.ok() ? Status() : ids.status();
  });
}

Status Inspection::resolve(std::string_view visit, std::string_view item, std::string_view text) {
  return impl_->engine->transaction([&]() -> Status {
    Impl& im = *impl_;
    std::string key;
    Result<VisitView> v = im.find_visit(visit, &key);
    if (!v.ok()) return v.status();
    // An inspector settles a co-inspector's conflict while the visit is open, as an inspector's
    // edit; a supervisor's resolution carries the review mark.
    const bool by_inspector = im.role == Role::kInspector;
    if (by_inspector) {
      if (Status s = im.check_assigned(v->school_id); !s.ok()) return s;
      if (!v->status.editable()) return locked(v.value());
    } else if (Status s = im.check_reviewer(v.value()); !s.ok()) {
      return s;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : v->flags) {
      if (f.item == item) flag = &f;
    }
    if (flag == nullptr) {
      return Status::invalid_input("item " + std::string(item) + " of visit " + short_id(v->id) +
                                   " is not flagged");
    }
    const int round = v->status.round;
    const std::uint32_t ctx = context_of(round, !by_inspector);
    std::vector<OpId> settles;
    for (const Version& ver : flag->versions) settles.push_back(ver.op);

    if (item == "status") {
      if (by_inspector)
        return Status::invalid_input("only a supervisor decides between an approval and a return");
      if (text != "approve" && text != "return")
        return Status::invalid_input("status: expected approve or return");
      int approved_round = round;
      for (const Version& ver : flag->versions) {
        if (ver.value.kind() == Value::Kind::kInteger &&
            ver.value.as_integer() % 4 == domain::kApproved) {
          approved_round = static_cast<int>(ver.value.as_integer() / 4);
        }
      }
      const std::int64_t status = text == "approve"
                                      ? domain::status_value(approved_round, domain::kApproved)
                                      : domain::status_value(approved_round + 1, domain::kOpen);
      Result<OpId> id =
          im.engine->resolve(visit_write(key, "status", Value::integer(status), ctx), settles);
      return id.ok() ? Status() : id.status();
    }
    if (!v->checklist)
      return Status::not_found("the template of visit " + short_id(v->id) +
                               " is not here yet, or this build cannot read it");
    Result<const Item*> it = find_item(v.value(), item);
    if (!it.ok()) return it.status();
    // A counter's flag lists late increments: the value is the total decided (or a change, as
    // `visit set` takes it), written as one more increment; empty accepts the total as it is.
    const bool counter = it.value()->merge == Policy::kCounter;
    Result<Value> value = Value();
    if (counter) {
      Result<std::int64_t> inc =
          text.empty() ? Result<std::int64_t>(0) : counter_increment(v.value(), *it.value(), text);
      if (!inc.ok()) return inc.status();
      value = Value::integer(inc.value());
    } else {
      value = parse_item_value(*it.value(), text);
    }
    if (!value.ok()) return value.status();
    // The value settles every current version of the item; after a submit, the flagged ops are
    // also recorded as accepted in the round, so they are not flagged again.
    std::vector<OpId> current;
    for (const Answer& a : v->answers) {
      if (a.item == it.value() && a.item->merge != Policy::kAppend && !counter) {
        for (const Version& ver : a.versions) current.push_back(ver.op);
      }
    }
    std::vector<std::string> accepted;
    for (const Version& ver : flag->versions) accepted.push_back(domain::op_entry(ver.op));
    const Write w{key, answer_field(it.value()->key), it.value()->merge, value.value(), ctx};
    return im.engine->transaction([&]() -> Status {
      const bool adds =
          counter ? w.value != Value::integer(0) : w.policy != Policy::kAppend || !text.empty();
      if (adds) {
        Result<OpId> id = current.empty() ? im.engine->write(w) : im.engine->resolve(w, current);
        if (!id.ok()) return id.status();
      }
      if (!v->status.editable()) {
        const std::string field = domain::accepted_field(round);
        Result<Value> snapshot = with_items(*im.engine, key, field, accepted);
        if (!snapshot.ok()) return snapshot.status();
        Result<OpId> id = im.engine->write(visit_write(key, field, snapshot.value(), ctx));
        if (!id.ok()) return id.status();
      }
      return Status();
    });
  });
}

Result<VisitView> Inspection::visit(std::string_view id_or_prefix) {
  return impl_->find_visit(id_or_prefix);
}

Status Inspection::Impl::each_visit(const std::function<Status(VisitView&)>& fn) {
  Result<std::vector<std::string>> keys = engine->records_with_prefix(domain::kVisitPrefix);
  if (!keys.ok()) return keys.status();
  for (const std::string& key : keys.value()) {
    Result<VisitView> v = build_view(key);
    if (!v.ok()) return v.status();
    if (Status s = fn(v.value()); !s.ok()) return s;
  }
  return Status();
}

Result<std::vector<VisitView>> Inspection::visits() {
  std::vector<VisitView> out;
  Status s = impl_->each_visit([&](VisitView& v) {
    out.push_back(std::move(v));
    return Status();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<Flag>> Inspection::flags() {
  std::vector<Flag> out;
  Status s = impl_->each_visit([&](VisitView& v) {
    for (Flag& f : v.flags) out.push_back(std::move(f));
    return Status();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace vs
