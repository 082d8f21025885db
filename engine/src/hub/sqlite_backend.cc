// SqliteBackend (sqlite_backend.h): opening, the device registry, refusals, served scopes.
#include "hub/sqlite_backend.h"

#include "store/migrations.h"

namespace vs::hub {

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::open(const std::string& data_dir,
                                                           Clock* clock) {
  Result<std::unique_ptr<Inspection>> in = Inspection::open(data_dir, clock);
  if (!in.ok()) return in.status();
  if (in.value()->mode() != "hub")
    return Status::invalid_input(data_dir + " is a device's data folder, not a hub's");
  auto b = std::unique_ptr<SqliteBackend>(new SqliteBackend());
  b->in_ = std::move(in.value());
  b->db_ = b->in_->engine().impl().db.get();
  b->log_ = &b->in_->engine().impl().log;
  if (Status s = store::migrate_set(*b->db_, store::hub_migrations(), "hub_schema"); !s.ok())
    return s.annotate(data_dir);
  if (Status s = b->prepare(); !s.ok()) return s;
  return b;
}

Status SqliteBackend::prepare() {
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
      {&find_device_,
       "SELECT device_id, inspector_id, revoked_ms, acked_seq, acked_print FROM hub_devices "
       "WHERE device_id = ?1",
       "find device"},
      {&insert_device_,
       "INSERT INTO hub_devices(device_id, inspector_id, enrolled_ms) VALUES(?1, ?2, ?3)",
       "enroll device"},
      {&revoke_,
       "UPDATE hub_devices SET revoked_ms = ?2 WHERE device_id = ?1 AND revoked_ms IS NULL",
       "revoke device"},
      {&set_acked_, "UPDATE hub_devices SET acked_seq = ?2, acked_print = ?3 WHERE device_id = ?1",
       "acknowledge"},
      {&list_devices_, "SELECT device_id FROM hub_devices ORDER BY device_id", "list devices"},
      {&add_rejection_,
       "INSERT OR REPLACE INTO hub_rejections(device_id, seq, reason) VALUES(?1, ?2, ?3)",
       "record rejection"},
      {&rejections_,
       "SELECT seq, reason FROM hub_rejections WHERE device_id = ?1 AND seq >= ?2 AND seq <= ?3 "
       "ORDER BY seq LIMIT ?4",
       "rejections"},
      {&is_rejected_, "SELECT 1 FROM hub_rejections WHERE device_id = ?1 AND seq = ?2",
       "was refused"},
      {&window_, window.c_str(), "pull window"},
      {&max_pos_, "SELECT coalesce(max(pos), 0) FROM ops", "log end"},
      {&op_at_, op_at.c_str(), "op at a position"},
      {&data_version_, "PRAGMA data_version", "data version"},
      {&records_by_prefix_, "SELECT idx FROM records WHERE key >= ?1 AND key < ?2 AND idx >= ?3",
       "records of a scope"},
      {&record_by_key_, "SELECT idx FROM records WHERE key = ?1 AND idx >= ?2",
       "record of a scope"},
      {&record_ops_, record_ops.c_str(), "ops of a record"},
      {&find_served_, "SELECT scopes FROM hub_served_scopes WHERE device_id = ?1 AND digest = ?2",
       "read served scopes"},
      {&add_served_,
       "INSERT OR IGNORE INTO hub_served_scopes(device_id, digest, scopes) VALUES(?1, ?2, ?3)",
       "record served scopes"},
  };
  for (const Spec& s : specs) {
    Result<store::Stmt> st = db_->prepare(s.sql, s.name);
    if (!st.ok()) return st.status();
    *s.stmt = std::move(st.value());
  }
  return Status();
}

Status SqliteBackend::transaction(const std::function<Status()>& fn) {
  return in_->engine().transaction(fn);
}

Result<std::optional<DeviceRow>> SqliteBackend::find_device(std::string_view id) {
  find_device_.bind(1, id);
  Result<bool> row = find_device_.step();
  std::optional<DeviceRow> d;
  if (row.ok() && row.value()) {
    d.emplace();
    d->device_id = std::string(find_device_.text(0));
    d->inspector_id = std::string(find_device_.text(1));
    d->revoked = !find_device_.is_null(2);
    d->acked_seq = static_cast<std::uint64_t>(find_device_.int64(3));
    d->acked_print = static_cast<std::uint64_t>(find_device_.int64(4));
  }
  find_device_.reset();
  if (!row.ok()) return row.status();
  return d;
}

Status SqliteBackend::insert_device(const DeviceRow& d, std::int64_t enrolled_ms) {
  insert_device_.bind(1, d.device_id).bind(2, d.inspector_id).bind(3, enrolled_ms);
  return insert_device_.run();
}

Status SqliteBackend::revoke_device(std::string_view id, std::int64_t at_ms) {
  revoke_.bind(1, id).bind(2, at_ms);
  return revoke_.run();
}

Status SqliteBackend::each_row(store::Stmt& st,
                               const std::function<Result<bool>(const store::Stmt&)>& row) {
  Status out;
  for (;;) {
    Result<bool> more = st.step();
    if (more.ok() && more.value()) more = row(st);
    if (!more.ok() || !more.value()) {
      out = more.status();
      break;
    }
  }
  st.reset();
  return out;
}

Result<std::vector<std::string>> SqliteBackend::device_ids() {
  std::vector<std::string> ids;
  Status s = each_row(list_devices_, [&](const store::Stmt& st) -> Result<bool> {
    ids.emplace_back(st.text(0));
    return true;
  });
  if (!s.ok()) return s;
  return ids;
}

Status SqliteBackend::set_acked(std::string_view id, std::uint64_t seq, std::uint64_t print) {
  set_acked_.bind(1, id).bind(2, seq).bind(3, print);
  return set_acked_.run();
}

Status SqliteBackend::add_rejection(std::string_view device, std::uint64_t seq,
                                    const std::string& reason) {
  add_rejection_.bind(1, device).bind(2, seq).bind(3, reason);
  return add_rejection_.run();
}

Result<bool> SqliteBackend::is_rejected(std::string_view device, std::uint64_t seq) {
  is_rejected_.bind(1, device).bind(2, seq);
  Result<bool> row = is_rejected_.step();
  is_rejected_.reset();
  return row;
}

Result<std::vector<std::pair<std::uint64_t, std::string>>> SqliteBackend::reasons(
    std::string_view device, std::uint64_t lo, std::uint64_t hi, std::size_t limit) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  rejections_.bind(1, device).bind(2, lo).bind(3, hi).bind(4, static_cast<std::int64_t>(limit));
  Status s = each_row(rejections_, [&](const store::Stmt& st) -> Result<bool> {
    out.emplace_back(static_cast<std::uint64_t>(st.int64(0)), std::string(st.text(1)));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::optional<std::string>> SqliteBackend::served_scopes(std::string_view device,
                                                                std::string_view digest) {
  find_served_.bind(1, device).bind(2, digest);
  Result<bool> row = find_served_.step();
  std::optional<std::string> out;
  if (row.ok() && row.value()) out = std::string(find_served_.text(0));
  find_served_.reset();
  if (!row.ok()) return row.status();
  return out;
}

Status SqliteBackend::add_served_scopes(std::string_view device, std::string_view digest,
                                        const std::string& scopes) {
  add_served_.bind(1, device).bind(2, digest).bind(3, scopes);
  return add_served_.run();
}

}  // namespace vs::hub
