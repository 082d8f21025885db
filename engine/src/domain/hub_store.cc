// HubStore: devices, hello, authorized pushes and scoped pulls (hub_store.h).
#include <algorithm>
#include <charconv>
#include <map>
#include <random>
#include <set>

#include <visitsync/hub_store.h>

#include "domain/model.h"
#include "engine_impl.h"
#include "store/migrations.h"

namespace vs {
namespace {

using Scopes = std::set<std::string>;

// How far one pull may scan the log: bounds the time of a call on a device whose scope is a
// small part of a large log.
constexpr std::uint64_t kScanBudget = 200'000;
// About how many bytes of ops one pull returns at most, so that its frame stays far below the
// wire's limit even when notes are long.
constexpr std::size_t kMaxPullBytes = 4u << 20;

// A pull cursor: the log position reached, the scopes fully served up to it, and, while a
// grown scope is back-filled, how far the back-fill has scanned and for which scopes.
struct Cursor {
  std::uint64_t pos = 0;
  Scopes served;
  bool backfilling = false;
  std::uint64_t backfill_pos = 0;
  Scopes backfill;
};

std::string join(const Scopes& s) {
  std::string out;
  for (const std::string& x : s) out += (out.empty() ? "" : ",") + x;
  return out;
}

Scopes split(std::string_view text) {
  Scopes out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    out.emplace(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string encode_cursor(const Cursor& c) {
  std::string out = "p=" + std::to_string(c.pos) + ";s=" + join(c.served);
  if (c.backfilling) out += ";b=" + std::to_string(c.backfill_pos) + ";n=" + join(c.backfill);
  return out;
}

Result<Cursor> parse_cursor(std::string_view text) {
  Cursor c;
  if (text.empty()) return c;
  const Status bad =
      Status::invalid_input("malformed pull cursor '" + std::string(text.substr(0, 64)) + "'");
  bool has_pos = false;
  while (!text.empty()) {
    const std::size_t semi = text.find(';');
    const std::string_view part = text.substr(0, semi);
    if (part.size() < 2 || part[1] != '=') return bad;
    const std::string_view value = part.substr(2);
    auto number = [&](std::uint64_t& out) {
      const auto res = std::from_chars(value.data(), value.data() + value.size(), out);
      return res.ec == std::errc() && res.ptr == value.data() + value.size();
    };
    switch (part[0]) {
      case 'p':
        if (!number(c.pos)) return bad;
        has_pos = true;
        break;
      case 's':
        c.served = split(value);
        break;
      case 'b':
        if (!number(c.backfill_pos)) return bad;
        c.backfilling = true;
        break;
      case 'n':
        c.backfill = split(value);
        break;
      default:
        return bad;
    }
    if (semi == std::string_view::npos) break;
    text.remove_prefix(semi + 1);
  }
  if (!has_pos || (c.backfilling && c.backfill_pos > c.pos)) return bad;
  return c;
}

std::string random_suffix() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

// What a device may write in a visit record's fields.
Status check_visit_field(const Op& op, const DeviceRecord& dev, std::string_view school) {
  const std::string& f = op.field;
  if (f == "school") {
    if (op.value != Value::text(std::string(school)))
      return Status::rejected("the school field must name the visit's school");
    return Status();
  }
  if (f == "template" || f == "template_version" || f == "started_by" || f == "started_at" ||
      f == "inspectors" || f.rfind("submitted.", 0) == 0 ||
      f.rfind(domain::kAnswerPrefix, 0) == 0) {
    return Status();
  }
  if (f == "status") {
    if (op.policy != Policy::kMax || op.value.kind() != Value::Kind::kInteger) {
      return Status::rejected("status is an integer merged by max");
    }
    const std::int64_t v = op.value.as_integer();
    if (dev.role == Role::kInspector && v != domain::status_value(1, domain::kOpen) &&
        v % 4 != domain::kSubmitted) {
      return Status::rejected(
          "an inspector may only start or submit a visit, not approve or return it");
    }
    return Status();
  }
  if (f == "reviews") {
    if (dev.role == Role::kInspector) return Status::rejected("only a supervisor writes reviews");
    return Status();
  }
  return Status::rejected("unknown visit field '" + f + "'");
}

}  // namespace

std::string scope_of_record(std::string_view key) {
  auto after = [&](std::string_view prefix) { return key.substr(prefix.size()); };
  if (key.rfind(domain::kTemplatePrefix, 0) == 0 || key.rfind(domain::kInspectorPrefix, 0) == 0)
    return "g";
  if (key.rfind(domain::kSchoolPrefix, 0) == 0)
    return "s:" + std::string(after(domain::kSchoolPrefix));
  if (key.rfind(domain::kVisitPrefix, 0) == 0) {
    const std::string_view rest = after(domain::kVisitPrefix);
    return "s:" + std::string(rest.substr(0, rest.find('/')));
  }
  if (key.rfind(domain::kAssignmentPrefix, 0) == 0) {
    const std::string_view rest = after(domain::kAssignmentPrefix);
    return "i:" + std::string(rest.substr(0, rest.find('/')));
  }
  return "h";
}

struct HubStore::Impl {
  std::unique_ptr<Inspection> in;
  store::Db* db = nullptr;
  Clock* clock = nullptr;
  store::Stmt find_device, insert_device, revoke, set_acked, list_devices, add_rejection,
      rejections, window, max_pos, data_version;

  // A device's scope, recomputed only when the reference data may have changed: another
  // connection committed (PRAGMA data_version moved: visitsync-admin), this connection wrote
  // ops of its own (the hub's own writes are reference data and reviews), or the day changed.
  struct CachedScope {
    std::int64_t data_version = -1;
    std::uint64_t own_seq = 0;
    std::int64_t day = 0;
    Scopes scopes;
  };
  std::map<std::string, CachedScope> scope_cache;

  Result<DeviceRecord> load_device(std::string_view id);
  Result<Scopes> scope_of(const DeviceRecord& d);
  Result<Scopes> compute_scope(const DeviceRecord& d);
  // What authorize() learned of the records of one batch: their scope check and template.
  struct BatchRecord {
    Status scope;  // OK if the device may write the record
    std::pair<std::string, int> tmpl{"", 0};
    std::shared_ptr<const Template> resolved;
  };
  using BatchRecords = std::map<std::string, BatchRecord, std::less<>>;
  Status authorize(const DeviceRecord& d, const Scopes& scope, const Op& op, BatchRecords& records);
  // The (template, version) a visit was started with, from the store.
  Result<std::pair<std::string, int>> stored_template(const std::string& key);
};

HubStore::HubStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HubStore::~HubStore() = default;
Inspection& HubStore::inspection() { return *impl_->in; }
Engine& HubStore::engine() { return impl_->in->engine(); }

Result<std::unique_ptr<HubStore>> HubStore::open(const std::string& data_dir, Clock* clock) {
  Result<std::unique_ptr<Inspection>> in = Inspection::open(data_dir, clock);
  if (!in.ok()) return in.status();
  if (in.value()->mode() != "hub")
    return Status::invalid_input(data_dir + " is a device's data folder, not a hub's");
  auto impl = std::make_unique<Impl>();
  impl->in = std::move(in.value());
  impl->db = impl->in->engine().impl().db.get();
  impl->clock = clock != nullptr ? clock : &system_clock();
  if (Status s = store::migrate_set(*impl->db, store::hub_migrations(), "hub_schema"); !s.ok())
    return s.annotate(data_dir);
  struct Spec {
    store::Stmt* stmt;
    const char* sql;
    const char* name;
  };
  const Spec specs[] = {
      {&impl->find_device,
       "SELECT device_id, inspector_id, revoked_ms, acked_seq FROM hub_devices WHERE device_id = "
       "?1",
       "find device"},
      {&impl->insert_device,
       "INSERT INTO hub_devices(device_id, inspector_id, enrolled_ms) VALUES(?1, ?2, ?3)",
       "enroll device"},
      {&impl->revoke,
       "UPDATE hub_devices SET revoked_ms = ?2 WHERE device_id = ?1 AND revoked_ms IS NULL",
       "revoke device"},
      {&impl->set_acked, "UPDATE hub_devices SET acked_seq = ?2 WHERE device_id = ?1",
       "acknowledge"},
      {&impl->list_devices, "SELECT device_id FROM hub_devices ORDER BY device_id", "list devices"},
      {&impl->add_rejection,
       "INSERT OR REPLACE INTO hub_rejections(device_id, seq, reason) VALUES(?1, ?2, ?3)",
       "record rejection"},
      {&impl->rejections,
       "SELECT seq, reason FROM hub_rejections WHERE device_id = ?1 AND seq >= ?2 AND seq <= ?3 "
       "ORDER BY seq",
       "rejections"},
      {&impl->window,
       "SELECT o.pos, r.key, d.id, o.seq, o.hlc, o.field, o.policy, o.context, o.value, o.base "
       "FROM ops o JOIN records r ON r.idx = o.record JOIN devices d ON d.idx = o.device "
       "WHERE o.pos > ?1 AND o.pos <= ?2 ORDER BY o.pos",
       "pull window"},
      {&impl->max_pos, "SELECT coalesce(max(pos), 0) FROM ops", "log end"},
      {&impl->data_version, "PRAGMA data_version", "data version"},
  };
  for (const Spec& s : specs) {
    Result<store::Stmt> st = impl->db->prepare(s.sql, s.name);
    if (!st.ok()) return st.status();
    *s.stmt = std::move(st.value());
  }
  return std::unique_ptr<HubStore>(new HubStore(std::move(impl)));
}

Result<DeviceRecord> HubStore::Impl::load_device(std::string_view id) {
  find_device.bind(1, id);
  Result<bool> row = find_device.step();
  if (!row.ok()) return row.status();
  if (!row.value()) {
    find_device.reset();
    return Status::not_found("unknown device '" + std::string(id) + "'");
  }
  DeviceRecord d;
  d.device_id = std::string(find_device.text(0));
  d.inspector_id = std::string(find_device.text(1));
  d.revoked = !find_device.is_null(2);
  d.acked_seq = static_cast<std::uint64_t>(find_device.int64(3));
  find_device.reset();
  Result<Inspector> who = in->inspector(d.inspector_id);
  if (!who.ok()) return who.status().annotate("device " + d.device_id);
  d.role = who->role;
  return d;
}

Result<Scopes> HubStore::Impl::scope_of(const DeviceRecord& d) {
  Result<bool> row = data_version.step();
  if (!row.ok()) return row.status();
  const std::int64_t version = data_version.int64(0);
  data_version.reset();
  Result<std::uint64_t> own = in->engine().impl().log.last_own_seq();
  if (!own.ok()) return own.status();
  const std::int64_t day = clock->now_ms() / 86'400'000;
  CachedScope& c = scope_cache[d.device_id];
  if (c.data_version == version && c.own_seq == own.value() && c.day == day) return c.scopes;
  Result<Scopes> fresh = compute_scope(d);
  if (!fresh.ok()) return fresh.status();
  c = CachedScope{version, own.value(), day, fresh.value()};
  return fresh;
}

Result<Scopes> HubStore::Impl::compute_scope(const DeviceRecord& d) {
  Scopes s = {"g"};
  if (d.role == Role::kInspector) {
    s.insert("i:" + d.inspector_id);
    Result<std::vector<std::string>> schools = in->assigned_schools(d.inspector_id);
    if (!schools.ok()) return schools.status();
    for (const std::string& school : schools.value()) s.insert("s:" + school);
    return s;
  }
  Result<Inspector> me = in->inspector(d.inspector_id);
  if (!me.ok()) return me.status();
  Result<std::vector<std::string>> keys = in->engine().records_with_prefix(domain::kSchoolPrefix);
  if (!keys.ok()) return keys.status();
  for (const std::string& key : keys.value()) {
    Result<std::optional<FieldView>> county = in->engine().read_field(key, "county");
    if (!county.ok()) return county.status();
    if (county.value() && county.value()->value == Value::text(me->county)) {
      s.insert("s:" + key.substr(domain::kSchoolPrefix.size()));
    }
  }
  return s;
}

Result<std::pair<std::string, int>> HubStore::Impl::stored_template(const std::string& key) {
  std::pair<std::string, int> t{"", 0};
  Result<std::optional<FieldView>> id = in->engine().read_field(key, "template");
  Result<std::optional<FieldView>> version = in->engine().read_field(key, "template_version");
  if (!id.ok()) return id.status();
  if (!version.ok()) return version.status();
  if (id.value() && id.value()->value.kind() == Value::Kind::kText)
    t.first = id.value()->value.as_text();
  if (version.value() && version.value()->value.kind() == Value::Kind::kInteger) {
    t.second = static_cast<int>(version.value()->value.as_integer());
  }
  return t;
}

Status HubStore::Impl::authorize(const DeviceRecord& d, const Scopes& scope, const Op& op,
                                 BatchRecords& records) {
  if (op.id.device != d.device_id) return Status::rejected("a device pushes only its own ops");
  // The record's scope and stored template are looked up once per batch: a visit's ops come
  // together.
  auto found = records.find(op.record);
  if (found == records.end()) {
    BatchRecord r;
    if (op.record.rfind(domain::kVisitPrefix, 0) != 0) {
      r.scope = Status::rejected("devices may write visits only, not '" + op.record + "'");
    } else if (const std::string s = scope_of_record(op.record); scope.count(s) == 0) {
      r.scope = Status::rejected(std::string(role_name(d.role)) + " " + d.inspector_id +
                                 " may not write visits of school " + s.substr(2));
    } else {
      Result<std::pair<std::string, int>> t = stored_template(op.record);
      if (!t.ok()) return t.status();
      r.tmpl = t.value();
    }
    found = records.emplace(op.record, std::move(r)).first;
  }
  BatchRecord& rec = found->second;
  if (!rec.scope.ok()) return rec.scope;
  const std::string school = scope_of_record(op.record).substr(2);
  if (Status st = check_visit_field(op, d, school); !st.ok()) return st;
  // An earlier op of this batch may have started the visit.
  if (op.field == "template" && op.value.kind() == Value::Kind::kText) {
    rec.tmpl.first = op.value.as_text();
    rec.resolved.reset();
  }
  if (op.field == "template_version" && op.value.kind() == Value::Kind::kInteger) {
    rec.tmpl.second = static_cast<int>(op.value.as_integer());
    rec.resolved.reset();
  }
  if (op.field.rfind(domain::kAnswerPrefix, 0) != 0) return Status();
  if (!rec.resolved) {
    Result<std::shared_ptr<const Template>> tmpl =
        in->find_template(rec.tmpl.first, rec.tmpl.second);
    if (!tmpl.ok()) {
      return Status::rejected("the visit's template " + rec.tmpl.first + " v" +
                              std::to_string(rec.tmpl.second) + " is not published here");
    }
    rec.resolved = tmpl.value();
  }
  const std::string_view item_key = std::string_view(op.field).substr(domain::kAnswerPrefix.size());
  const Item* item = rec.resolved->find(item_key);
  if (item == nullptr) {
    return Status::rejected("template " + rec.tmpl.first + " has no item '" +
                            std::string(item_key) + "'");
  }
  if (op.policy != item->merge) {
    return Status::rejected(std::string(item_key) + " is merged by " +
                            std::string(policy_name(item->merge)) + ", not " +
                            std::string(policy_name(op.policy)));
  }
  // A counter op carries an increment: only its kind is the item's business.
  if (item->merge == Policy::kCounter) return Status();
  if (Status st = check_item_value(*item, op.value); !st.ok())
    return Status::rejected(st.message());
  return Status();
}

Result<DeviceRecord> HubStore::enroll_device(std::string_view inspector_id) {
  Result<Inspector> who = impl_->in->inspector(inspector_id);
  if (!who.ok()) return who.status();
  DeviceRecord d;
  d.device_id = "d-" + std::string(inspector_id) + "-" + random_suffix();
  d.inspector_id = std::string(inspector_id);
  d.role = who->role;
  impl_->insert_device.bind(1, d.device_id).bind(2, d.inspector_id).bind(3, impl_->clock->now_ms());
  if (Status s = impl_->insert_device.run(); !s.ok()) return s;
  return d;
}

Status HubStore::revoke_device(std::string_view device_id) {
  Result<DeviceRecord> d = impl_->load_device(device_id);
  if (!d.ok()) return d.status();
  if (d->revoked) return Status();
  impl_->revoke.bind(1, device_id).bind(2, impl_->clock->now_ms());
  return impl_->revoke.run();
}

Result<DeviceRecord> HubStore::device(std::string_view device_id) {
  return impl_->load_device(device_id);
}

Result<std::vector<DeviceRecord>> HubStore::devices() {
  std::vector<std::string> ids;
  for (;;) {
    Result<bool> row = impl_->list_devices.step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    ids.emplace_back(impl_->list_devices.text(0));
  }
  impl_->list_devices.reset();
  std::vector<DeviceRecord> out;
  for (const std::string& id : ids) {
    Result<DeviceRecord> d = impl_->load_device(id);
    if (!d.ok()) return d.status();
    out.push_back(std::move(d.value()));
  }
  return out;
}

Result<HelloResult> HubStore::hello(std::string_view device_id, Hlc device_clock,
                                    std::uint64_t device_last_seq) {
  Result<DeviceRecord> d = impl_->load_device(device_id);
  if (!d.ok()) {
    if (d.status().code() == Code::kNotFound)
      return Status::rejected("device " + std::string(device_id) + " is not enrolled at this hub");
    return d.status();
  }
  if (d->revoked) return Status::rejected("device " + std::string(device_id) + " has been revoked");
  if (d->acked_seq > device_last_seq) {
    return Status::rejected(
        "device " + std::string(device_id) + " has written up to seq " +
        std::to_string(device_last_seq) + " but the hub holds its seq " +
        std::to_string(d->acked_seq) +
        ": its store is older than the hub's copy (restored from a backup?); enroll it again");
  }
  HelloResult h;
  h.device = d.value();
  h.hub_clock = impl_->in->engine().now_hlc();
  const std::int64_t hub_ms = impl_->clock->now_ms();
  h.hub_clock = std::max(h.hub_clock, make_hlc(static_cast<std::uint64_t>(hub_ms), 0));
  h.skew_ms = device_clock == 0 ? 0 : static_cast<std::int64_t>(hlc_millis(device_clock)) - hub_ms;
  return h;
}

Result<PushResult> HubStore::push(std::string_view device_id, std::vector<Op> ops) {
  Impl& im = *impl_;
  PushResult result;
  Status s = im.in->engine().transaction([&]() -> Status {
    Result<DeviceRecord> d = im.load_device(device_id);
    if (!d.ok())
      return d.status().code() == Code::kNotFound ? Status::rejected(d.status().message())
                                                  : d.status();
    if (d->revoked)
      return Status::rejected("device " + std::string(device_id) + " has been revoked");
    result = PushResult();
    std::uint64_t expected = d->acked_seq + 1;
    std::vector<Op> accepted;
    accepted.reserve(ops.size());
    Result<Scopes> scope = im.scope_of(d.value());
    if (!scope.ok()) return scope.status();
    Impl::BatchRecords records;
    std::uint64_t first_new = 0;
    for (Op& op : ops) {
      if (op.id.seq < expected) continue;  // already handled: a resend after a lost ack
      if (op.id.seq != expected) {
        return Status::invalid_input("push from " + std::string(device_id) + ": seq " +
                                     std::to_string(op.id.seq) + " where " +
                                     std::to_string(expected) + " was expected");
      }
      if (first_new == 0) first_new = op.id.seq;
      ++expected;
      // The engine checks each op's form when it applies it; authorize() only compares.
      Status ok = im.authorize(d.value(), scope.value(), op, records);
      if (!ok.ok()) {
        if (ok.code() != Code::kRejected && ok.code() != Code::kInvalidInput) return ok;
        result.rejected.emplace_back(op.id.seq, ok.message());
        continue;
      }
      accepted.push_back(std::move(op));  // `ops` keeps the seqs, which is all it is used for below
    }
    Result<ApplyReport> applied = im.in->engine().apply_remote(accepted);
    if (!applied.ok()) return applied.status();
    for (const ApplyReport::Rejection& r : applied->rejected) {
      result.rejected.emplace_back(accepted[r.index].id.seq, r.reason.message());
    }
    std::sort(result.rejected.begin(), result.rejected.end());
    for (const auto& [seq, reason] : result.rejected) {
      im.add_rejection.bind(1, device_id).bind(2, seq).bind(3, reason);
      if (Status st = im.add_rejection.run(); !st.ok()) return st;
    }
    result.applied = applied->applied;
    result.acked_seq = expected - 1;
    if (result.acked_seq != d->acked_seq) {
      im.set_acked.bind(1, device_id).bind(2, result.acked_seq);
      if (Status st = im.set_acked.run(); !st.ok()) return st;
    }
    // Reasons already given for seqs in this batch are given again: the device may have lost
    // the acknowledgement that carried them.
    if (!ops.empty() && (first_new == 0 || ops.front().id.seq < first_new)) {
      const std::uint64_t hi = first_new == 0 ? ops.back().id.seq : first_new - 1;
      im.rejections.bind(1, device_id).bind(2, ops.front().id.seq).bind(3, hi);
      for (;;) {
        Result<bool> row = im.rejections.step();
        if (!row.ok()) return row.status();
        if (!row.value()) break;
        result.rejected.emplace_back(static_cast<std::uint64_t>(im.rejections.int64(0)),
                                     std::string(im.rejections.text(1)));
      }
      im.rejections.reset();
      std::sort(result.rejected.begin(), result.rejected.end());
    }
    return Status();
  });
  if (!s.ok()) return s;
  return result;
}

Result<PullResult> HubStore::pull(std::string_view device_id, std::string_view cursor_text,
                                  std::size_t max_ops) {
  Impl& im = *impl_;
  Result<DeviceRecord> d = im.load_device(device_id);
  if (!d.ok())
    return d.status().code() == Code::kNotFound ? Status::rejected(d.status().message())
                                                : d.status();
  if (d->revoked) return Status::rejected("device " + std::string(device_id) + " has been revoked");
  Result<Cursor> parsed = parse_cursor(cursor_text);
  if (!parsed.ok()) return parsed.status();
  Cursor c = parsed.value();
  Result<Scopes> current = im.scope_of(d.value());
  if (!current.ok()) return current.status();
  Result<bool> end_row = im.max_pos.step();
  if (!end_row.ok()) return end_row.status();
  const auto log_end = static_cast<std::uint64_t>(im.max_pos.int64(0));
  im.max_pos.reset();
  if (c.pos > log_end)
    return Status::invalid_input("pull cursor beyond the hub's log (another hub's cursor?)");

  if (!c.backfilling) {
    Scopes grown;
    std::set_difference(current->begin(), current->end(), c.served.begin(), c.served.end(),
                        std::inserter(grown, grown.end()));
    if (!grown.empty() && c.pos > 0) {
      // The scope grew (a new assignment): send what the new part holds below the cursor first.
      c.backfilling = true;
      c.backfill_pos = 0;
      c.backfill = grown;
    } else {
      c.served = current.value();
    }
  }
  PullResult out;
  const bool backfill = c.backfilling;
  std::uint64_t& at = backfill ? c.backfill_pos : c.pos;
  const std::uint64_t stop = backfill ? c.pos : log_end;
  const Scopes& wanted = backfill ? c.backfill : current.value();
  const std::uint64_t window_end = std::min(stop, at + kScanBudget);
  im.window.bind(1, at).bind(2, window_end);
  std::uint64_t reached = window_end;
  std::size_t bytes = 0;
  for (;;) {
    Result<bool> row = im.window.step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    const auto pos = static_cast<std::uint64_t>(im.window.int64(0));
    if (im.window.text(2) == device_id || wanted.count(scope_of_record(im.window.text(1))) == 0)
      continue;
    Op op;
    op.record = std::string(im.window.text(1));
    op.id.device = std::string(im.window.text(2));
    op.id.seq = static_cast<std::uint64_t>(im.window.int64(3));
    op.hlc = static_cast<Hlc>(im.window.int64(4));
    op.field = std::string(im.window.text(5));
    op.policy = static_cast<Policy>(im.window.int64(6));
    op.context = static_cast<std::uint32_t>(im.window.int64(7));
    Result<Value> v = decode_value(im.window.blob(8));
    if (!v.ok()) {
      im.window.reset();
      return v.status().annotate("hub log op at " + std::to_string(pos));
    }
    op.value = std::move(v.value());
    Result<std::vector<OpId>> base = changelog::decode_base(im.window.blob(9));
    if (!base.ok()) {
      im.window.reset();
      return base.status().annotate("hub log op at " + std::to_string(pos));
    }
    op.base = std::move(base.value());
    bytes += op.record.size() + op.field.size() + im.window.blob(8).size() + 32;
    out.ops.push_back(std::move(op));
    if (out.ops.size() >= max_ops || bytes >= kMaxPullBytes) {
      reached = pos;
      break;
    }
  }
  im.window.reset();
  at = reached;
  if (backfill && c.backfill_pos >= c.pos) {
    c.backfilling = false;
    c.served.insert(c.backfill.begin(), c.backfill.end());
    c.backfill.clear();
    c.backfill_pos = 0;
  }
  out.more = c.backfilling || c.pos < log_end;
  out.next_cursor = encode_cursor(c);
  return out;
}

}  // namespace vs
