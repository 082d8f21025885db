// HubStore: open, the device registry, hello (hub_store.h). Push and pull are in push.cc and
// pull.cc, scopes in scope.cc; the storage behind them is a hub::Backend (backend.h).
#include <cstdint>
#include <random>

#include "domain/model.h"
#include "hub/hub_impl.h"
#include "hub/sqlite_backend.h"

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
  Result<std::unique_ptr<hub::SqliteBackend>> backend = hub::SqliteBackend::open(data_dir, clock);
  if (!backend.ok()) return backend.status();
  auto impl = std::make_unique<Impl>();
  impl->in = &backend.value()->inspection();
  impl->store = std::move(backend.value());
  impl->clock = clock != nullptr ? clock : &system_clock();
  Result<std::unique_ptr<PhotoStore>> photos = PhotoStore::open(photo_folder(data_dir));
  if (!photos.ok()) return photos.status();
  impl->photos = std::move(photos.value());
  impl->data_dir = data_dir;
  return std::unique_ptr<HubStore>(new HubStore(std::move(impl)));
}

Result<std::optional<std::uint64_t>> HubStore::Impl::print_at(std::uint64_t pos) {
  Result<std::optional<std::vector<Op>>> ops = store->row_at(pos);
  if (!ops.ok()) return ops.status();
  if (!ops.value()) return std::optional<std::uint64_t>();
  std::uint64_t p = 0;
  for (const Op& op : *ops.value()) p = p * 1099511628211ull ^ fingerprint(op);
  return std::optional<std::uint64_t>(p == 0 ? 1 : p);
}

Result<DeviceRecord> HubStore::Impl::load_device(std::string_view id) {
  Result<std::optional<hub::DeviceRow>> row = store->find_device(id);
  if (!row.ok()) return row.status();
  if (!row.value()) return Status::not_found("unknown device '" + std::string(id) + "'");
  const hub::DeviceRow& r = *row.value();
  DeviceRecord d{r.device_id, r.inspector_id, Role::kInspector,
                 r.revoked,   r.acked_seq,    r.acked_print};
  Result<Inspector> who = store->inspector(d.inspector_id);
  if (!who.ok()) return who.status().annotate("device " + d.device_id);
  d.role = who->role;
  return d;
}

Result<DeviceRecord> HubStore::enroll_device(std::string_view inspector_id) {
  Result<Inspector> who = impl_->store->inspector(inspector_id);
  if (!who.ok()) return who.status();
  DeviceRecord d;
  d.inspector_id = std::string(inspector_id);
  d.role = who->role;
  // A new id for the device; in the rare case it was drawn before, draw again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    d.device_id = "d-" + std::string(inspector_id) + "-" + random_suffix();
    Result<DeviceRecord> taken = impl_->load_device(d.device_id);
    if (taken.status().code() == Code::kNotFound) {
      if (Status s = impl_->store->insert_device({d.device_id, d.inspector_id, false, 0, 0},
                                                 impl_->clock->now_ms());
          !s.ok())
        return s;
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
  return impl_->store->revoke_device(device_id, impl_->clock->now_ms());
}

Result<DeviceRecord> HubStore::device(std::string_view device_id) {
  return impl_->load_device(device_id);
}

Result<std::vector<std::pair<std::uint64_t, std::string>>> HubStore::refused_ops(
    std::string_view device_id, std::size_t limit) {
  return impl_->store->reasons(device_id, 1, UINT64_MAX, limit);
}

Result<std::vector<std::string>> HubStore::schools_of(std::string_view inspector_id) {
  Result<Inspector> who = inspection().inspector(inspector_id);
  if (!who.ok()) return who.status();
  DeviceRecord d;
  d.inspector_id = who->id;
  d.role = who->role;
  Result<hub::Scopes> scopes = impl_->compute_scope(d);
  if (!scopes.ok()) return scopes.status();
  std::vector<std::string> out;
  for (const std::string& s : scopes.value()) {
    if (s.rfind("s:", 0) == 0) out.push_back(s.substr(2));
  }
  return out;
}

Result<std::vector<DeviceRecord>> HubStore::devices() {
  Result<std::vector<std::string>> ids = impl_->store->device_ids();
  if (!ids.ok()) return ids.status();
  std::vector<DeviceRecord> out;
  for (const std::string& id : ids.value()) {
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
        impl_->store->reasons(device_id, device_acked_seq + 1, d->acked_seq, kMaxHelloReasons + 1);
    if (!owed.ok()) return owed.status();
    h.rejected = std::move(owed.value());
    if (h.rejected.size() > kMaxHelloReasons) {
      h.acked_seq = h.rejected[kMaxHelloReasons].first - 1;
      h.acked_print = 0;  // the device checks the print of the hub's own count only
      h.rejected.resize(kMaxHelloReasons);
    }
  }
  h.hub_clock = impl_->store->now_hlc();
  const std::int64_t hub_ms = impl_->clock->now_ms();
  h.hub_clock = std::max(h.hub_clock, make_hlc(static_cast<std::uint64_t>(hub_ms), 0));
  h.skew_ms = device_clock == 0 ? 0 : static_cast<std::int64_t>(hlc_millis(device_clock)) - hub_ms;
  return h;
}

}  // namespace vs
