// HubStore: open, the device registry, hello (hub_store.h). Push and pull are in push.cc and
// pull.cc, scopes in scope.cc.
#include <random>

#include "domain/model.h"
#include "hub/hub_impl.h"
#include "store/migrations.h"

namespace vs {
namespace {

std::string random_suffix() {
  std::random_device rd;
  char buf[16];
  // Six hex digits: "d-I0011-3fa2c1" stays within a string's small-buffer size, which every
  // op that names the device (stamps, bases, frontiers) benefits from.
  std::snprintf(buf, sizeof buf, "%06x", rd() & 0xFFFFFFu);
  return buf;
}

}  // namespace

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
       "ORDER BY seq LIMIT ?4",
       "rejections"},
      {&impl->is_rejected, "SELECT 1 FROM hub_rejections WHERE device_id = ?1 AND seq = ?2",
       "was refused"},
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

Result<DeviceRecord> HubStore::Impl::active_device(std::string_view id) {
  Result<DeviceRecord> d = load_device(id);
  if (!d.ok()) {
    if (d.status().code() == Code::kNotFound)
      return Status::rejected("device " + std::string(id) + " is not enrolled at this hub");
    return d.status();
  }
  if (d->revoked) return Status::rejected("device " + std::string(id) + " has been revoked");
  return d;
}

Result<HelloResult> HubStore::hello(std::string_view device_id, Hlc device_clock,
                                    std::uint64_t device_last_seq, std::uint64_t device_acked_seq) {
  Result<DeviceRecord> d = impl_->active_device(device_id);
  if (!d.ok()) return d.status();
  if (d->acked_seq > device_last_seq) {
    return Status::rejected(
        "device " + std::string(device_id) + " has written up to seq " +
        std::to_string(device_last_seq) + " but the hub holds its seq " +
        std::to_string(d->acked_seq) +
        ": its store is older than the hub's copy (restored from a backup?); enroll it again");
  }
  HelloResult h;
  h.device = d.value();
  h.acked_seq = d->acked_seq;
  h.acked_print = d->acked_print;
  // The reasons for refused ops the device has not stored: its own count is behind ours when an
  // acknowledgement was lost. When more are owed than one hello carries, the device is told a
  // lower count: it pushes those ops again and each acknowledgement repeats their reasons.
  if (device_acked_seq < d->acked_seq) {
    Result<std::vector<std::pair<std::uint64_t, std::string>>> owed =
        impl_->reasons(device_id, device_acked_seq + 1, d->acked_seq, kMaxHelloReasons + 1);
    if (!owed.ok()) return owed.status();
    h.rejected = std::move(owed.value());
    if (h.rejected.size() > kMaxHelloReasons) {
      h.acked_seq = h.rejected[kMaxHelloReasons].first - 1;
      h.acked_print = 0;  // the device checks the print of the hub's own count only
      h.rejected.resize(kMaxHelloReasons);
    }
  }
  h.hub_clock = impl_->in->engine().now_hlc();
  const std::int64_t hub_ms = impl_->clock->now_ms();
  h.hub_clock = std::max(h.hub_clock, make_hlc(static_cast<std::uint64_t>(hub_ms), 0));
  h.skew_ms = device_clock == 0 ? 0 : static_cast<std::int64_t>(hlc_millis(device_clock)) - hub_ms;
  return h;
}

Result<std::vector<std::pair<std::uint64_t, std::string>>> HubStore::Impl::reasons(
    std::string_view device, std::uint64_t lo, std::uint64_t hi, std::size_t limit) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  rejections.bind(1, device).bind(2, lo).bind(3, hi).bind(4, static_cast<std::int64_t>(limit));
  for (;;) {
    Result<bool> row = rejections.step();
    if (!row.ok()) {
      rejections.reset();
      return row.status();
    }
    if (!row.value()) break;
    out.emplace_back(static_cast<std::uint64_t>(rejections.int64(0)),
                     std::string(rejections.text(1)));
  }
  rejections.reset();
  return out;
}

}  // namespace vs
