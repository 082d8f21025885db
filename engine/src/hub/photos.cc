// HubStore's photos (hub_store.h): the files in the hub's attachments/ folder; who may upload
// one (a device, a file that one of its own merged ops on the record names, within the size
// limits and its quota) and who may fetch one (a device, a file that a visit in its scope
// names); what each device's uploads hold; and garbage collection.
#include <algorithm>
#include <charconv>

#include <visitsync/engine.h>
#include <visitsync/photos.h>

#include "domain/model.h"
#include "hub/hub_impl.h"

namespace vs {
namespace {

// The hub's settings and counters for photos (in its engine's settings: not synced).
constexpr const char* kMaxKbSetting = "photo.max_kb";       // every file at most (KiB)
constexpr const char* kQuotaMbSetting = "photo.quota_mb";   // each device's uploads (MiB)
constexpr const char* kDeviceBytesPrefix = "photo.bytes/";  // + device: its uploads held
constexpr const char* kOwnerPrefix = "photo.owner/";        // + id: the device that sent it

// The op writes an answer whose value lists `id` (a photo item's value is a set of ids).
bool names_photo(const Op& op, std::string_view id) {
  if (op.field.rfind(domain::kAnswerPrefix, 0) != 0 || op.value.kind() != Value::Kind::kSet)
    return false;
  const std::vector<std::string>& items = op.value.as_set();
  return std::binary_search(items.begin(), items.end(), id);
}

Result<std::uint64_t> number_setting(Engine& e, const char* name, std::uint64_t fallback) {
  Result<std::string> text = e.setting(name);
  if (!text.ok()) return text.status();
  if (text->empty()) return fallback;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc() || end != text->data() + text->size())
    return Status::damaged("the hub's setting " + std::string(name) + " is '" + text.value() +
                           "', not a number");
  return n;
}

std::string kib(std::uint64_t bytes) { return std::to_string((bytes + 1023) / 1024) + " KiB"; }

}  // namespace

PhotoStore& HubStore::photos() { return *impl_->photos; }

Result<PhotoLimits> HubStore::photo_limits() {
  PhotoLimits l;
  Result<std::uint64_t> max_kb = number_setting(engine(), kMaxKbSetting, kMaxPhotoBytes / 1024);
  if (!max_kb.ok()) return max_kb.status();
  Result<std::uint64_t> quota = number_setting(engine(), kQuotaMbSetting, kDefaultPhotoQuotaMb);
  if (!quota.ok()) return quota.status();
  // Clamped before they are scaled: a setting edited by hand cannot wrap around.
  l.max_bytes = std::min<std::uint64_t>(max_kb.value(), kMaxPhotoBytes / 1024) * 1024;
  l.quota_bytes = std::min<std::uint64_t>(quota.value(), std::uint64_t{1} << 30) << 20;
  return l;
}

Status HubStore::set_photo_limits(const PhotoLimits& l) {
  if (l.max_bytes < 1024 || l.max_bytes > kMaxPhotoBytes)
    return Status::invalid_input("the photo size limit must be from 1 KiB to " +
                                 kib(kMaxPhotoBytes));
  if (l.quota_bytes < (std::uint64_t{1} << 20))
    return Status::invalid_input("the photo quota must be at least 1 MiB");
  return engine().transaction([&]() -> Status {
    if (Status s = engine().set_setting(kMaxKbSetting, std::to_string(l.max_bytes / 1024)); !s.ok())
      return s;
    return engine().set_setting(kQuotaMbSetting, std::to_string(l.quota_bytes >> 20));
  });
}

Result<std::uint64_t> HubStore::photo_bytes_of(std::string_view device_id) {
  return engine().counter(kDeviceBytesPrefix + std::string(device_id));
}

Status HubStore::may_upload_photo(std::string_view device_id, std::string_view record,
                                  std::string_view id, std::uint64_t size) {
  Result<DeviceRecord> d = impl_->active_device(device_id);
  if (!d.ok()) return d.status();
  const std::string what = "photo " + std::string(id);
  const Status refused =
      Status::rejected(what + ": no op of this device on '" + std::string(record) + "' names it");
  const std::optional<std::string> school = hub::visit_school(record);
  if (!is_photo_id(id) || !school) return refused;
  Result<std::vector<std::int64_t>> ids = impl_->store->record_id(record, 0);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return refused;
  Result<std::uint64_t> end = impl_->store->log_end();
  if (!end.ok()) return end.status();
  std::optional<std::string> field;  // the answer field the device's op names it in
  Status scanned = impl_->store->scan_record(
      ids->front(), 0, end.value(), [&](const hub::LogRow& row) -> Result<hub::Scan> {
        if (row.device() != device_id) return hub::Scan::kNext;
        std::vector<Op> ops;
        if (Status s = row.read(ops); !s.ok()) return s;
        const auto op =
            std::find_if(ops.begin(), ops.end(), [&](const Op& o) { return names_photo(o, id); });
        if (op == ops.end()) return hub::Scan::kNext;
        field = op->field;
        return hub::Scan::kStop;
      });
  if (!scanned.ok()) return scanned;
  if (!field) return refused;
  Result<PhotoLimits> limits = photo_limits();
  if (!limits.ok()) return limits.status();
  std::uint64_t max = limits->max_bytes;
  std::string whose = "this hub's";
  Result<hub::VisitState> v = impl_->load_visit(std::string(record), *school);
  if (!v.ok()) return v.status();
  const std::string item = field->substr(domain::kAnswerPrefix.size());
  if (const Item* it = v->tmpl ? v->tmpl->find(item) : nullptr; it != nullptr && it->max_kb) {
    if (static_cast<std::uint64_t>(*it->max_kb) * 1024 < max) {
      max = static_cast<std::uint64_t>(*it->max_kb) * 1024;
      whose = "item " + item + "'s";
    }
  }
  if (size > max)
    return Status::rejected(what + " is " + kib(size) + ", over " + whose + " limit of " +
                            kib(max));
  if (photos().has(id)) return Status();  // here already: it costs the device nothing
  Result<std::uint64_t> used = photo_bytes_of(device_id);
  if (!used.ok()) return used.status();
  if (used.value() + size > limits->quota_bytes)
    return Status::rejected(
        what + " (" + kib(size) + ") would pass device " + std::string(device_id) +
        "'s photo quota on the hub: " + kib(used.value()) + " of " + kib(limits->quota_bytes) +
        " used (the administrator can raise it: visitsync-admin photo limits)");
  return Status();
}

Status HubStore::photo_arrived(std::string_view device_id, std::string_view id,
                               std::uint64_t size) {
  Engine& e = engine();
  return e.transaction([&]() -> Status {
    const std::string owner = kOwnerPrefix + std::string(id);
    Result<std::string> had = e.setting(owner);
    if (!had.ok()) return had.status();
    if (!had->empty()) return Status();  // counted once, for the device that sent it first
    const std::string counter = kDeviceBytesPrefix + std::string(device_id);
    Result<std::uint64_t> used = e.counter(counter);
    if (!used.ok()) return used.status();
    if (Status s = e.set_setting(owner, std::string(device_id) + " " + std::to_string(size));
        !s.ok())
      return s;
    return e.set_counter(counter, used.value() + size);
  });
}

Status HubStore::may_fetch_photo(std::string_view device_id, std::string_view record,
                                 std::string_view id) {
  Result<DeviceRecord> d = impl_->active_device(device_id);
  if (!d.ok()) return d.status();
  const Status refused =
      Status::rejected("photo " + std::string(id) + ": no visit in this " +
                       "device's scope named '" + std::string(record) + "' names it");
  if (!is_photo_id(id) || !hub::visit_school(record)) return refused;
  Result<hub::Scopes> scopes = impl_->scope_of(d.value());
  if (!scopes.ok()) return scopes.status();
  if (scopes->count(scope_of_record(record)) == 0) return refused;
  Result<RecordView> r = engine().read(record);
  if (!r.ok()) return r.status();
  const std::vector<std::string> named = photos_named_by(r.value());
  if (!std::binary_search(named.begin(), named.end(), id)) return refused;
  if (!photos().has(id))
    return Status::unavailable("photo " + std::string(id) + " has not reached the hub yet");
  return Status();
}

Result<PhotoGarbage> HubStore::collect_photo_garbage(std::int64_t grace_s) {
  Result<PhotoGarbage> g = vs::collect_photo_garbage(engine(), impl_->data_dir, grace_s);
  if (!g.ok()) return g;
  Engine& e = engine();
  Status s = e.transaction([&]() -> Status {
    for (const auto& [id, size] : g->removed) {
      const std::string owner = kOwnerPrefix + id;
      Result<std::string> who = e.setting(owner);
      if (!who.ok()) return who.status();
      if (who->empty()) continue;
      const std::string counter = kDeviceBytesPrefix + who->substr(0, who->find(' '));
      Result<std::uint64_t> used = e.counter(counter);
      if (!used.ok()) return used.status();
      if (Status st = e.set_counter(counter, used.value() - std::min(used.value(), size)); !st.ok())
        return st;
      if (Status st = e.set_setting(owner, ""); !st.ok()) return st;
    }
    return Status();
  });
  if (!s.ok()) return s;
  return g;
}

Result<std::optional<PhotoGarbage>> HubStore::collect_photo_garbage_daily() {
  Result<bool> due = photo_gc_due(engine());
  if (!due.ok()) return due.status();
  if (!due.value()) return std::optional<PhotoGarbage>();
  Result<PhotoGarbage> g = collect_photo_garbage(kPhotoGraceS);
  if (!g.ok()) return g.status();
  if (Status s = photo_gc_done(engine()); !s.ok()) return s;
  return std::optional<PhotoGarbage>(std::move(g.value()));
}

}  // namespace vs
