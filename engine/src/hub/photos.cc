// HubStore's photos (hub_store.h): the files in the hub's attachments/ folder, and who may
// upload one: a device, a file that one of its own merged ops on the record names.
#include <algorithm>

#include <visitsync/photos.h>

#include "hub/hub_impl.h"

namespace vs {
namespace {

// The op writes an answer whose value lists `id` (a photo item's value is a set of ids).
bool names_photo(const Op& op, std::string_view id) {
  if (op.field.rfind("a.", 0) != 0 || op.value.kind() != Value::Kind::kSet) return false;
  const std::vector<std::string>& items = op.value.as_set();
  return std::binary_search(items.begin(), items.end(), id);
}

}  // namespace

PhotoStore& HubStore::photos() { return *impl_->photos; }

Status HubStore::may_upload_photo(std::string_view device_id, std::string_view record,
                                  std::string_view id) {
  Result<DeviceRecord> d = impl_->active_device(device_id);
  if (!d.ok()) return d.status();
  const Status refused =
      Status::rejected("photo " + std::string(id) + ": no op of this device on '" +
                       std::string(record) + "' names it");
  if (!is_photo_id(id) || !visit_of_record(record)) return refused;
  Result<std::vector<std::int64_t>> ids = impl_->store->record_id(record, 0);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return refused;
  Result<std::uint64_t> end = impl_->store->log_end();
  if (!end.ok()) return end.status();
  bool named = false;
  Status scanned = impl_->store->scan_record(
      ids->front(), 0, end.value(), [&](const hub::LogRow& row) -> Result<hub::Scan> {
        if (row.device() != device_id) return hub::Scan::kNext;
        std::vector<Op> ops;
        if (Status s = row.read(ops); !s.ok()) return s;
        named =
            std::any_of(ops.begin(), ops.end(), [&](const Op& op) { return names_photo(op, id); });
        return named ? hub::Scan::kStop : hub::Scan::kNext;
      });
  if (!scanned.ok()) return scanned;
  return named ? Status() : refused;
}

}  // namespace vs
