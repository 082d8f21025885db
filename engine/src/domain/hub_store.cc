// HubStore: devices, hello, authorized pushes and scoped pulls (hub_store.h).
#include <algorithm>
#include <charconv>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <openssl/evp.h>

#include <visitsync/hub_store.h>

#include "domain/model.h"
#include "engine_impl.h"
#include "store/migrations.h"
#include "util/bytes.h"

namespace vs {
namespace {

using Scopes = std::set<std::string>;

// How far one pull may scan the log, in positions (rows): bounds the time of a call on a device
// whose scope is a small part of a large log.
constexpr std::uint64_t kScanBudget = 200'000;
// About how many bytes of ops one pull returns at most, so that its frame stays far below the
// wire's limit even when notes are long. A row that would cross it waits for the next pull
// (a row holds at most changelog::kMaxRunBytes plus two ops, far below this).
constexpr std::size_t kMaxPullBytes = 4u << 20;

// A pull cursor: the log position reached, with the scopes served up to it; and, while a new
// part of the scope is filled in (a device's first pull, or a scope that grew), the fill's
// progress: ops up to `fill_end` of the records of `filling`, record by record (by idx), done
// up to record `record` and, within it, position `record_pos`. On the wire the scope sets
// travel as digests the hub reads back (hub_served_scopes).
struct Cursor {
  std::uint64_t pos = 0;
  Scopes served;
  bool filling = false;
  Scopes fill;
  std::uint64_t fill_end = 0;
  std::int64_t record = 0;
  std::uint64_t record_pos = 0;
};

struct CursorText {
  std::uint64_t pos = 0;
  std::string served = "-";  // digest, "-" for the empty set
  bool filling = false;
  std::string fill = "-";
  std::uint64_t fill_end = 0;
  std::uint64_t record = 0;
  std::uint64_t record_pos = 0;
  // The fingerprint of the log row at the newest position the cursor names (pos, or fill_end
  // while filling; print_at): a hub restored from an older copy holds other ops there, or none.
  std::optional<std::uint64_t> print;
};

// The newest log position a cursor names.
std::uint64_t mark_of(std::uint64_t pos, bool filling, std::uint64_t fill_end) {
  return std::max(pos, filling ? fill_end : 0);
}

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

// 16 hex digits of the SHA-256 of the joined set; "-" for the empty set.
std::string digest_of(const Scopes& s) {
  if (s.empty()) return "-";
  const std::string text = join(s);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  return util::to_hex(std::string_view(reinterpret_cast<const char*>(md), 8));
}

bool is_digest(std::string_view d) {
  return d == "-" || (d.size() == 16 && std::all_of(d.begin(), d.end(), [](char c) {
                        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                      }));
}

std::string encode_cursor(const CursorText& c) {
  std::string out = "p=" + std::to_string(c.pos) + ";s=" + c.served;
  if (c.filling) {
    out += ";f=" + std::to_string(c.fill_end) + ";n=" + c.fill + ";r=" + std::to_string(c.record) +
           ";q=" + std::to_string(c.record_pos);
  }
  if (c.print) out += ";k=" + std::to_string(*c.print);
  return out;
}

Result<CursorText> parse_cursor(std::string_view text) {
  CursorText c;
  if (text.empty()) return c;
  const Status bad =
      Status::invalid_input("malformed pull cursor '" + std::string(text.substr(0, 64)) + "'");
  bool has_pos = false;
  int fill_parts = 0;
  while (!text.empty()) {
    const std::size_t semi = text.find(';');
    const std::string_view part = text.substr(0, semi);
    if (part.size() < 2 || part[1] != '=') return bad;
    const std::string_view value = part.substr(2);
    auto number = [&](std::uint64_t& out) {
      const auto res = std::from_chars(value.data(), value.data() + value.size(), out);
      return res.ec == std::errc() && res.ptr == value.data() + value.size();
    };
    bool ok = true;
    switch (part[0]) {
      case 'p':
        ok = number(c.pos);
        has_pos = true;
        break;
      case 's':
        ok = is_digest(value);
        c.served = std::string(value);
        break;
      case 'f':
        ok = number(c.fill_end);
        ++fill_parts;
        break;
      case 'n':
        ok = is_digest(value);
        c.fill = std::string(value);
        ++fill_parts;
        break;
      case 'r':
        ok = number(c.record);
        ++fill_parts;
        break;
      case 'q':
        ok = number(c.record_pos);
        ++fill_parts;
        break;
      case 'k': {
        std::uint64_t print = 0;
        ok = number(print);
        c.print = print;
        break;
      }
      default:
        ok = false;
    }
    if (!ok) return bad;
    if (semi == std::string_view::npos) break;
    text.remove_prefix(semi + 1);
  }
  c.filling = fill_parts == 4;
  if (!has_pos || (fill_parts != 0 && fill_parts != 4) || c.record > INT64_MAX) return bad;
  return c;
}

std::string random_suffix() {
  std::random_device rd;
  char buf[16];
  // Six hex digits: "d-I0011-3fa2c1" stays within a string's small-buffer size, which every
  // op that names the device (stamps, bases, frontiers) benefits from.
  std::snprintf(buf, sizeof buf, "%06x", rd() & 0xFFFFFFu);
  return buf;
}

// What a device may write in a visit record's fields.
// The policy each non-answer field of a visit is merged by: a field keeps the policy of its
// first op, so the hub pins them (answers follow their template).
std::optional<Policy> meta_policy(const std::string& f) {
  if (f == "school" || f == "template" || f == "template_version" || f == "started_by" ||
      f == "started_at") {
    return Policy::kLww;
  }
  if (f == "inspectors" || f.rfind("submitted.", 0) == 0 || f.rfind("accepted.", 0) == 0) {
    return Policy::kUnion;
  }
  if (f == "status") return Policy::kMax;
  if (f == "reviews") return Policy::kAppend;
  return std::nullopt;
}

// What a device may write in a visit record's fields, judged from the op alone.
Status check_visit_field(const Op& op, const DeviceRecord& dev, std::string_view school) {
  const std::string& f = op.field;
  if (f.rfind(domain::kAnswerPrefix, 0) == 0) return Status();
  const std::optional<Policy> policy = meta_policy(f);
  if (!policy) return Status::rejected("unknown visit field '" + f + "'");
  if (op.policy != *policy) {
    return Status::rejected(f + " is merged by " + std::string(policy_name(*policy)) + ", not " +
                            std::string(policy_name(op.policy)));
  }
  if (f == "school" && op.value != Value::text(std::string(school))) {
    return Status::rejected("the school field must name the visit's school");
  }
  if (f == "started_by" && op.value != Value::text(dev.inspector_id)) {
    return Status::rejected("started_by must name the device's own inspector, " + dev.inspector_id);
  }
  if (f == "inspectors" && op.value.kind() != Value::Kind::kSet) {
    return Status::rejected("inspectors must be a set of inspector ids");
  }
  if (f == "status") {
    if (op.value.kind() != Value::Kind::kInteger ||
        op.value.as_integer() < domain::status_value(1, domain::kOpen) ||
        op.value.as_integer() > domain::status_value(domain::kRoundMask, domain::kApproved) ||
        op.value.as_integer() % 4 > domain::kApproved) {
      return Status::rejected("status " + op.value.to_string() + " is not a visit status");
    }
  }
  if (f == "reviews") {
    if (dev.role == Role::kInspector) return Status::rejected("only a supervisor writes reviews");
    if (op.value.kind() != Value::Kind::kText || !domain::parse_review(op.value.as_text())) {
      return Status::rejected(
          "a review must be JSON {by, decision: approve|return, comment, round}");
    }
  }
  if (f.rfind("accepted.", 0) == 0 && dev.role == Role::kInspector) {
    return Status::rejected("only a supervisor accepts changes made after a submission");
  }
  return Status();
}

}  // namespace

std::string scope_of_record(std::string_view key) {
  auto after = [&](std::string_view prefix) { return key.substr(prefix.size()); };
  if (key.rfind(domain::kTemplatePrefix, 0) == 0) return "g";
  if (key.rfind(domain::kInspectorPrefix, 0) == 0) {
    return "i:" + std::string(after(domain::kInspectorPrefix));
  }
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
  changelog::OpLog* log = nullptr;
  Clock* clock = nullptr;
  store::Stmt find_device, insert_device, revoke, set_acked, list_devices, add_rejection,
      rejections, window, max_pos, data_version, op_at;

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

  // Scope sets behind cursor digests: read back (nullopt if unknown), and recorded.
  Result<std::optional<Scopes>> scopes_of_digest(std::string_view device,
                                                 const std::string& digest);
  Result<std::string> remember_scopes(std::string_view device, const Scopes& scopes);
  std::set<std::pair<std::string, std::string>> remembered;  // (device, digest) known stored
  store::Stmt find_served, add_served, records_by_prefix, record_by_key, record_ops;

  // Records of the scopes, with idx >= from, sorted by idx.
  Result<std::vector<std::int64_t>> records_in(const Scopes& scopes, std::int64_t from);
  // The fingerprint of the log row at a position: of every op of its run (of its one op, as
  // before runs, when it holds one); none past the log's end.
  Result<std::optional<std::uint64_t>> print_at(std::uint64_t pos);

  Result<DeviceRecord> load_device(std::string_view id);
  Result<Scopes> scope_of(const DeviceRecord& d);
  Result<Scopes> compute_scope(const DeviceRecord& d);
  // What authorize() learned of the records of one batch: their scope check and template.
  struct BatchRecord {
    Status scope;        // OK if the device may write the record
    std::string school;  // the school of the visit, when the scope is OK
    std::pair<std::string, int> tmpl{"", 0};
    std::shared_ptr<const Template> resolved;
    // The record as stored before this batch, read when an op needs it, and the highest status
    // once the batch's ops so far count.
    bool loaded = false;
    merge::SeenSet seen;
    std::optional<std::int64_t> status;             // the highest status value
    std::set<std::string, std::less<>> inspectors;  // every name the visit's inspectors held
  };
  Status load_stored(const std::string& key, BatchRecord& rec);
  struct BatchRecords {
    std::map<std::string, BatchRecord, std::less<>> by_key;
    // The record of the previous op: a visit's ops come one after another.
    std::map<std::string, BatchRecord, std::less<>>::iterator last = by_key.end();
  };
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
  impl->log = &impl->in->engine().impl().log;
  impl->clock = clock != nullptr ? clock : &system_clock();
  if (Status s = store::migrate_set(*impl->db, store::hub_migrations(), "hub_schema"); !s.ok())
    return s.annotate(data_dir);
  struct Spec {
    store::Stmt* stmt;
    const char* sql;
    const char* name;
  };
  const std::string rows = changelog::kRowSelect;
  const std::string window =
      rows + "WHERE o.pos > ?1 AND o.pos <= ?2 AND o.device <> ?3 ORDER BY o.pos";
  const std::string op_at = rows + "WHERE o.pos = ?1";
  const std::string record_ops =
      rows + "WHERE o.record = ?1 AND o.pos > ?2 AND o.pos <= ?3 ORDER BY o.pos";
  const Spec specs[] = {
      {&impl->find_device,
       "SELECT device_id, inspector_id, revoked_ms, acked_seq, acked_print FROM hub_devices "
       "WHERE device_id = ?1",
       "find device"},
      {&impl->insert_device,
       "INSERT INTO hub_devices(device_id, inspector_id, enrolled_ms) VALUES(?1, ?2, ?3)",
       "enroll device"},
      {&impl->revoke,
       "UPDATE hub_devices SET revoked_ms = ?2 WHERE device_id = ?1 AND revoked_ms IS NULL",
       "revoke device"},
      {&impl->set_acked,
       "UPDATE hub_devices SET acked_seq = ?2, acked_print = ?3 WHERE device_id = ?1",
       "acknowledge"},
      {&impl->list_devices, "SELECT device_id FROM hub_devices ORDER BY device_id", "list devices"},
      {&impl->add_rejection,
       "INSERT OR REPLACE INTO hub_rejections(device_id, seq, reason) VALUES(?1, ?2, ?3)",
       "record rejection"},
      {&impl->rejections,
       "SELECT seq, reason FROM hub_rejections WHERE device_id = ?1 AND seq >= ?2 AND seq <= ?3 "
       "ORDER BY seq",
       "rejections"},
      {&impl->window, window.c_str(), "pull window"},
      {&impl->max_pos, "SELECT coalesce(max(pos), 0) FROM ops", "log end"},
      {&impl->op_at, op_at.c_str(), "op at a position"},
      {&impl->data_version, "PRAGMA data_version", "data version"},
      {&impl->records_by_prefix,
       "SELECT idx FROM records WHERE key >= ?1 AND key < ?2 AND idx >= ?3", "records of a scope"},
      {&impl->record_by_key, "SELECT idx FROM records WHERE key = ?1 AND idx >= ?2",
       "record of a scope"},
      {&impl->record_ops, record_ops.c_str(), "ops of a record"},
      {&impl->find_served,
       "SELECT scopes FROM hub_served_scopes WHERE device_id = ?1 AND digest = ?2",
       "read served scopes"},
      {&impl->add_served,
       "INSERT OR IGNORE INTO hub_served_scopes(device_id, digest, scopes) VALUES(?1, ?2, ?3)",
       "record served scopes"},
  };
  for (const Spec& s : specs) {
    Result<store::Stmt> st = impl->db->prepare(s.sql, s.name);
    if (!st.ok()) return st.status();
    *s.stmt = std::move(st.value());
  }
  return std::unique_ptr<HubStore>(new HubStore(std::move(impl)));
}

Result<std::vector<std::int64_t>> HubStore::Impl::records_in(const Scopes& scopes,
                                                             std::int64_t from) {
  std::vector<std::int64_t> out;
  auto collect = [&](store::Stmt& st) -> Status {
    for (;;) {
      Result<bool> row = st.step();
      if (!row.ok()) return row.status();
      if (!row.value()) break;
      out.push_back(st.int64(0));
    }
    st.reset();
    return Status();
  };
  auto prefix = [&](const std::string& p) -> Status {
    records_by_prefix.bind(1, p).bind(2, p + "\xFF").bind(3, from);
    return collect(records_by_prefix);
  };
  for (const std::string& scope : scopes) {
    Status s;
    if (scope == "g") {
      s = prefix(std::string(domain::kTemplatePrefix));
    } else if (scope.rfind("s:", 0) == 0) {
      record_by_key.bind(1, domain::school_record(scope.substr(2))).bind(2, from);
      s = collect(record_by_key);
      if (s.ok()) s = prefix(domain::visit_record(scope.substr(2), ""));
    } else if (scope.rfind("i:", 0) == 0) {
      record_by_key.bind(1, domain::inspector_record(scope.substr(2))).bind(2, from);
      s = collect(record_by_key);
      if (s.ok()) s = prefix(domain::assignment_record(scope.substr(2), ""));
    }
    if (!s.ok()) return s;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::optional<std::uint64_t>> HubStore::Impl::print_at(std::uint64_t pos) {
  op_at.bind(1, pos);
  Result<bool> row = op_at.step();
  std::optional<std::uint64_t> print;
  if (row.ok() && row.value()) {
    std::vector<Op> ops;
    Status s = log->read_row(op_at, ops);
    if (!s.ok()) {
      op_at.reset();
      return s;
    }
    std::uint64_t p = 0;
    for (const Op& op : ops) p = p * 1099511628211ull ^ fingerprint(op);
    print = p == 0 ? 1 : p;
  }
  op_at.reset();
  if (!row.ok()) return row.status();
  return print;
}

Result<std::optional<Scopes>> HubStore::Impl::scopes_of_digest(std::string_view device,
                                                               const std::string& digest) {
  if (digest == "-") return std::optional<Scopes>(Scopes{});
  find_served.bind(1, device).bind(2, digest);
  Result<bool> row = find_served.step();
  if (!row.ok()) return row.status();
  std::optional<Scopes> out;
  if (row.value()) out = split(find_served.text(0));
  find_served.reset();
  return out;
}

Result<std::string> HubStore::Impl::remember_scopes(std::string_view device, const Scopes& scopes) {
  std::string digest = digest_of(scopes);
  if (digest == "-" || remembered.count({std::string(device), digest}) != 0) return digest;
  add_served.bind(1, device).bind(2, digest).bind(3, join(scopes));
  if (Status s = add_served.run(); !s.ok()) return s;
  remembered.emplace(std::string(device), digest);
  return digest;
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
  d.acked_print = static_cast<std::uint64_t>(find_device.int64(4));
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
  Scopes s = {"g", "i:" + d.inspector_id};
  if (d.role == Role::kInspector) {
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

Status HubStore::Impl::load_stored(const std::string& key, BatchRecord& rec) {
  if (rec.loaded) return Status();
  rec.loaded = true;
  Result<std::optional<merge::RecordTable::Loaded>> stored = in->engine().impl().records.load(key);
  if (!stored.ok()) return stored.status();
  if (!stored.value()) return Status();
  merge::RecordState& rs = stored.value()->state;
  rec.seen = rs.seen();
  Result<merge::FieldState*> status = rs.find("status");
  if (!status.ok()) return status.status();
  if (status.value() != nullptr) {
    for (const merge::Entry& e : status.value()->entries) {
      if (e.value.kind() == Value::Kind::kInteger)
        rec.status = std::max(rec.status.value_or(0), e.value.as_integer());
    }
  }
  Result<merge::FieldState*> names = rs.find("inspectors");
  if (!names.ok()) return names.status();
  if (names.value() != nullptr) {
    for (const merge::Entry& e : names.value()->entries) {
      if (e.value.kind() == Value::Kind::kSet)
        rec.inspectors.insert(e.value.as_set().begin(), e.value.as_set().end());
    }
  }
  return Status();
}

Status HubStore::Impl::authorize(const DeviceRecord& d, const Scopes& scope, const Op& op,
                                 BatchRecords& records) {
  if (op.id.device != d.device_id) return Status::rejected("a device pushes only its own ops");
  // The record's scope and stored template are looked up once per batch: a visit's ops come
  // together.
  auto found = records.last;
  if (found == records.by_key.end() || found->first != op.record)
    found = records.by_key.find(op.record);
  if (found == records.by_key.end()) {
    BatchRecord r;
    const std::string_view rest =
        std::string_view(op.record).substr(std::min(op.record.size(), domain::kVisitPrefix.size()));
    const std::size_t slash = rest.find('/');
    if (op.record.rfind(domain::kVisitPrefix, 0) != 0 || slash == std::string_view::npos ||
        slash == 0 || slash + 1 == rest.size() ||
        rest.find('/', slash + 1) != std::string_view::npos) {
      r.scope = Status::rejected("devices may write visits only (visit/<school>/<id>), not '" +
                                 op.record + "'");
    } else if (const std::string s = scope_of_record(op.record); scope.count(s) == 0) {
      r.scope = Status::rejected(std::string(role_name(d.role)) + " " + d.inspector_id +
                                 " may not write visits of school " + s.substr(2));
    } else {
      Result<std::pair<std::string, int>> t = stored_template(op.record);
      if (!t.ok()) return t.status();
      r.tmpl = t.value();
      r.school = s.substr(2);
    }
    found = records.by_key.emplace(op.record, std::move(r)).first;
  }
  records.last = found;
  BatchRecord& rec = found->second;
  if (!rec.scope.ok()) return rec.scope;
  if (Status st = check_visit_field(op, d, rec.school); !st.ok()) return st;

  // A base names ops the writer saw: ops the hub has for this record, or the device's own
  // earlier ops (this batch's included). Anything else would only grow the record's bookkeeping.
  if (!op.base.empty()) {
    if (Status st = load_stored(op.record, rec); !st.ok()) return st;
    for (const OpId& b : op.base) {
      if (b.device == op.id.device && b.seq < op.id.seq) continue;
      Result<std::optional<std::int64_t>> dev = in->engine().impl().log.find_device(b.device);
      if (!dev.ok()) return dev.status();
      if (!dev.value() || !rec.seen.contains(*dev.value(), b.seq)) {
        return Status::rejected("its base names " + b.to_string() +
                                ", an op this visit does not have");
      }
    }
  }
  // Most ops are answers: the visit's own fields are compared by name only when they are not.
  const bool answer = op.field.rfind(domain::kAnswerPrefix, 0) == 0;
  const bool status = !answer && op.field == "status";
  // An inspector moves a visit forward only: start it, or submit the current round. The status
  // it writes is never below the one stored, so it cannot undo a supervisor's decision.
  if (d.role == Role::kInspector && (answer || status || domain::is_review(op.context))) {
    if (Status st = load_stored(op.record, rec); !st.ok()) return st;
    if (domain::is_review(op.context))
      return Status::rejected("an inspector's op cannot carry a supervisor's mark");
    const VisitStatus now =
        domain::decode_status(rec.status.value_or(domain::status_value(1, domain::kOpen)));
    if (status) {
      const std::int64_t v = op.value.as_integer();
      const bool start = !rec.status && v == domain::status_value(1, domain::kOpen);
      const bool submit = rec.status && now.phase != Phase::kApproved &&
                          v == domain::status_value(now.round, domain::kSubmitted);
      if (!start && !submit) {
        return Status::rejected(
            "an inspector may only start a visit or submit its current round (it is " +
            std::string(phase_name(now.phase)) + ", round " + std::to_string(now.round) + ")");
      }
    } else if (domain::round_of(op.context) > now.round) {
      return Status::rejected("written in round " + std::to_string(domain::round_of(op.context)) +
                              " of a visit in round " + std::to_string(now.round));
    }
  }
  if (!answer) {
    // A device adds its own inspector to a visit's inspectors, and keeps the names it saw
    // there: it cannot put another inspector's name on a visit.
    const bool inspectors = op.field == "inspectors";
    if (inspectors) {
      if (Status st = load_stored(op.record, rec); !st.ok()) return st;
      for (const std::string& name : op.value.as_set()) {
        if (name != d.inspector_id && rec.inspectors.count(name) == 0) {
          return Status::rejected("inspectors names " + name +
                                  ", who has not worked on this visit");
        }
      }
    }
    // An earlier op of this batch may have started the visit.
    if (op.field == "template" && op.value.kind() == Value::Kind::kText) {
      rec.tmpl.first = op.value.as_text();
      rec.resolved.reset();
    }
    if (op.field == "template_version" && op.value.kind() == Value::Kind::kInteger) {
      rec.tmpl.second = static_cast<int>(op.value.as_integer());
      rec.resolved.reset();
    }
    // The op passed every check: later ops of the batch build on it.
    if (status) rec.status = std::max(rec.status.value_or(0), op.value.as_integer());
    if (inspectors) rec.inspectors.insert(op.value.as_set().begin(), op.value.as_set().end());
    return Status();
  }
  if (!rec.resolved) {
    Result<std::shared_ptr<const Template>> tmpl =
        in->find_template(rec.tmpl.first, rec.tmpl.second);
    if (!tmpl.ok()) {
      if (tmpl.status().code() != Code::kNotFound) return tmpl.status();
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
  if (item->merge != Policy::kCounter) {
    if (Status st = check_item_value(*item, op.value); !st.ok())
      return Status::rejected(st.message());
  }
  return Status();
}

Result<DeviceRecord> HubStore::enroll_device(std::string_view inspector_id) {
  Result<Inspector> who = impl_->in->inspector(inspector_id);
  if (!who.ok()) return who.status();
  DeviceRecord d;
  d.inspector_id = std::string(inspector_id);
  d.role = who->role;
  // A new id for the device; in the rare case it was drawn before, draw again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    d.device_id = "d-" + std::string(inspector_id) + "-" + random_suffix();
    Result<DeviceRecord> taken = impl_->load_device(d.device_id);
    if (taken.status().code() == Code::kNotFound) {
      impl_->insert_device.bind(1, d.device_id)
          .bind(2, d.inspector_id)
          .bind(3, impl_->clock->now_ms());
      if (Status s = impl_->insert_device.run(); !s.ok()) return s;
      return d;
    }
    if (!taken.ok()) return taken.status();
  }
  return Status::internal("no free device id for " + std::string(inspector_id));
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
    // The fingerprint of the op the acknowledgement will name (ops are moved out below).
    const std::uint64_t last_print =
        !ops.empty() && ops.back().id.seq >= expected ? fingerprint(ops.back()) : d->acked_print;
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
    const std::uint64_t handled = expected - 1;
    if (handled != d->acked_seq) {
      im.set_acked.bind(1, device_id).bind(2, handled).bind(3, last_print);
      if (Status st = im.set_acked.run(); !st.ok()) return st;
    }
    // The acknowledgement names the end of this push: a resend of ops handled already (a
    // session that replaced one whose acks were lost) is acknowledged as sent, not with the
    // device's whole count, which the device learns at its next hello.
    result.acked_seq = ops.empty() ? handled : std::min(handled, ops.back().id.seq);
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
  if (!d.ok()) {
    return d.status().code() == Code::kNotFound ? Status::rejected(d.status().message())
                                                : d.status();
  }
  if (d->revoked) return Status::rejected("device " + std::string(device_id) + " has been revoked");
  Result<CursorText> parsed = parse_cursor(cursor_text);
  if (!parsed.ok()) return parsed.status();
  Cursor c;
  c.pos = parsed->pos;
  // A digest the hub does not know (its table lost) reads as "nothing served": everything in
  // scope below the cursor is filled in again, which costs bytes but loses nothing.
  Result<std::optional<Scopes>> served = im.scopes_of_digest(device_id, parsed->served);
  if (!served.ok()) return served.status();
  if (served.value()) c.served = std::move(*served.value());
  if (parsed->filling && served.value()) {
    Result<std::optional<Scopes>> fill = im.scopes_of_digest(device_id, parsed->fill);
    if (!fill.ok()) return fill.status();
    if (fill.value()) {
      c.filling = true;
      c.fill = std::move(*fill.value());
      c.fill_end = parsed->fill_end;
      c.record = static_cast<std::int64_t>(parsed->record);
      c.record_pos = parsed->record_pos;
    }
  }
  Result<Scopes> current = im.scope_of(d.value());
  if (!current.ok()) return current.status();
  Result<bool> end_row = im.max_pos.step();
  if (!end_row.ok()) return end_row.status();
  const auto log_end = static_cast<std::uint64_t>(im.max_pos.int64(0));
  im.max_pos.reset();
  // A cursor this log cannot have made (a hub restored from an older copy: its positions end
  // sooner, or hold other ops now) starts over: everything in scope is filled again, which
  // costs bytes but skips nothing.
  const std::uint64_t mark = mark_of(parsed->pos, parsed->filling, parsed->fill_end);
  bool known = mark <= log_end;
  if (known && mark > 0 && parsed->print) {
    Result<std::optional<std::uint64_t>> print = im.print_at(mark);
    if (!print.ok()) return print.status();
    known = print.value() == parsed->print;
  }
  if (!known) c = Cursor();
  // Only what the device may see now: a scope removed since (an assignment ended) is neither
  // served nor filled, even from a cursor made before.
  auto within_current = [&](const Scopes& in_cursor) {
    Scopes out;
    std::set_intersection(in_cursor.begin(), in_cursor.end(), current->begin(), current->end(),
                          std::inserter(out, out.end()));
    return out;
  };
  c.served = within_current(c.served);
  if (c.filling) {
    c.fill = within_current(c.fill);
    if (c.fill.empty()) c.filling = false;
  }
  if (!c.filling) {
    Scopes grown;
    std::set_difference(current->begin(), current->end(), c.served.begin(), c.served.end(),
                        std::inserter(grown, grown.end()));
    // Scopes removed are out of `served` (above): if they come back, they are filled again.
    if (!grown.empty()) {
      // A first pull, or a new assignment: what the new part holds up to here comes first,
      // read record by record through hub_ops_by_record rather than by scanning the log.
      c.filling = true;
      c.fill = std::move(grown);
      c.fill_end = c.pos == 0 ? log_end : c.pos;
      c.record = 0;
      c.record_pos = 0;
    }
  }

  PullResult out;
  std::size_t bytes = 0;
  // Takes the current row's ops unless they would overflow the response: a run is taken whole,
  // so the first row is taken even if it holds more than max_ops. Full: nothing more fits.
  enum class Took { kRow, kRowAndFull, kFull };
  std::vector<Op> run;
  auto take = [&](store::Stmt& st) -> Result<Took> {
    if (!out.ops.empty() && out.ops.size() + changelog::OpLog::row_ops(st) > max_ops)
      return Took::kFull;
    run.clear();
    if (Status s = im.log->read_row(st, run); !s.ok()) return s;
    std::size_t size = changelog::OpLog::row_bytes(st);
    for (const Op& op : run) size += op.record.size() + op.field.size() + 32;
    if (!out.ops.empty() && bytes + size > kMaxPullBytes) return Took::kFull;
    bytes += size;
    std::move(run.begin(), run.end(), std::back_inserter(out.ops));
    return out.ops.size() >= max_ops || bytes >= kMaxPullBytes ? Took::kRowAndFull : Took::kRow;
  };
  if (c.filling) {
    Result<std::vector<std::int64_t>> records = im.records_in(c.fill, c.record);
    if (!records.ok()) return records.status();
    bool full = false;
    for (std::int64_t rec : records.value()) {
      const std::uint64_t after = rec == c.record ? c.record_pos : 0;
      im.record_ops.bind(1, rec).bind(2, after).bind(3, c.fill_end);
      c.record = rec;
      c.record_pos = after;
      for (;;) {
        Result<bool> row = im.record_ops.step();
        if (!row.ok()) return row.status();
        if (!row.value()) break;
        // Its own ops: the device has them.
        if (changelog::OpLog::row_device(im.record_ops) == device_id) {
          c.record_pos = changelog::OpLog::row_pos(im.record_ops);
          continue;
        }
        Result<Took> t = take(im.record_ops);
        if (!t.ok()) {
          im.record_ops.reset();
          return t.status();
        }
        if (t.value() != Took::kFull) c.record_pos = changelog::OpLog::row_pos(im.record_ops);
        if ((full = t.value() != Took::kRow)) break;
      }
      im.record_ops.reset();
      if (full) break;
      c.record_pos = c.fill_end;  // this record is done
    }
    if (!full) {
      c.filling = false;
      c.served.insert(c.fill.begin(), c.fill.end());
      c.fill.clear();
      c.pos = std::max(c.pos, c.fill_end);
    }
  } else {
    // New ops since the cursor, in log order, scanning at most kScanBudget positions.
    const std::uint64_t window_end = std::min(log_end, c.pos + kScanBudget);
    // The device's own ops are skipped by the query, before the joins: after a large push they
    // are most of the window.
    Result<std::optional<std::int64_t>> own = im.log->find_device(device_id);
    if (!own.ok()) return own.status();
    im.window.bind(1, c.pos).bind(2, window_end).bind(3, own.value().value_or(0));
    std::uint64_t reached = window_end;
    for (;;) {
      Result<bool> row = im.window.step();
      if (!row.ok()) return row.status();
      if (!row.value()) break;
      // An empty key is a damaged row: take() reports it.
      const std::string_view key = changelog::OpLog::row_record(im.window);
      if (!key.empty() && current->count(scope_of_record(key)) == 0) continue;
      Result<Took> t = take(im.window);
      if (!t.ok()) {
        im.window.reset();
        return t.status();
      }
      if (t.value() != Took::kRow) {
        // Up to this row if it was taken, else up to the one before.
        const std::uint64_t at = changelog::OpLog::row_pos(im.window);
        reached = t.value() == Took::kRowAndFull ? at : at - 1;
        break;
      }
    }
    im.window.reset();
    c.pos = reached;
  }
  out.more = c.filling || c.pos < log_end;
  CursorText t;
  t.pos = c.pos;
  Result<std::string> s_digest = im.remember_scopes(device_id, c.served);
  if (!s_digest.ok()) return s_digest.status();
  t.served = s_digest.value();
  if (c.filling) {
    Result<std::string> n_digest = im.remember_scopes(device_id, c.fill);
    if (!n_digest.ok()) return n_digest.status();
    t.filling = true;
    t.fill = n_digest.value();
    t.fill_end = c.fill_end;
    t.record = static_cast<std::uint64_t>(c.record);
    t.record_pos = c.record_pos;
  }
  if (const std::uint64_t at = mark_of(t.pos, t.filling, t.fill_end); at > 0) {
    Result<std::optional<std::uint64_t>> print = im.print_at(at);
    if (!print.ok()) return print.status();
    t.print = print.value();
  }
  out.next_cursor = encode_cursor(t);
  return out;
}

}  // namespace vs
