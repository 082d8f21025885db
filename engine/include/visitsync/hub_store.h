// HubStore: the hub's side of sync on its store (schema/PROTOCOL.md): enrolled devices, hello,
// push with authorization, and pulls by scope with resumable cursors. No sockets: transport/
// drives it; one thread at a time.
//
// Scopes: every record belongs to one scope, told by its key: "g" (templates: every device),
// "s:<school>" (the school and its visits), "i:<inspector>" (the person's record and
// assignments), "h" (the hub's own). An inspector's device sees "g", its own "i:" and the
// schools assigned to it today; a supervisor's device sees "g", its own "i:" and the schools of
// its county.
// A device may write only visits of schools in its scope.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/inspection.h>
#include <visitsync/photos.h>

namespace vs {

class PhotoStore;

std::string scope_of_record(std::string_view key);

struct DeviceRecord {
  std::string device_id;
  std::string inspector_id;
  Role role = Role::kInspector;
  bool revoked = false;
  std::uint64_t acked_seq = 0;    // highest origin seq of the device the hub has handled
  std::uint64_t acked_print = 0;  // fingerprint() of that op (0 if none)
};

// Reasons for refused ops one hello carries at most.
inline constexpr std::size_t kMaxHelloReasons = 1000;

struct HelloResult {
  DeviceRecord device;
  Hlc hub_clock = 0;
  std::int64_t skew_ms = 0;  // the device's clock minus the hub's
  // The count the device takes as acknowledged, and the fingerprint of that op (0: unchecked):
  // the device's acked_seq, or lower when more reasons are owed than one hello carries.
  std::uint64_t acked_seq = 0;
  std::uint64_t acked_print = 0;
  // The reasons for the device's refused ops after the count it had stored, by seq.
  std::vector<std::pair<std::uint64_t, std::string>> rejected;
};

struct PushResult {
  std::uint64_t acked_seq = 0;
  std::size_t applied = 0;
  std::vector<std::pair<std::uint64_t, std::string>> rejected;  // seq, reason
  // How many ops this push refused, by the kind of rule that refused them ("scope", "forged",
  // "malformed", "role", "base", "answer", "start", "lifecycle"); reasons given again for
  // seqs handled before are not counted.
  std::map<std::string, std::size_t> kinds;
};

struct PullResult {
  std::vector<Op> ops;
  std::string next_cursor;  // opaque; the device stores it with the ops it applies
  bool more = false;        // ask again
};

// Limits on the photos devices upload (HubStore::photo_limits).
inline constexpr std::uint64_t kDefaultPhotoQuotaMb = 4096;
struct PhotoLimits {
  std::uint64_t max_bytes = kMaxPhotoBytes;                // each file
  std::uint64_t quota_bytes = kDefaultPhotoQuotaMb << 20;  // each device's files on the hub
};

class HubStore {
 public:
  // Opens the hub's data folder (made by Inspection::create in "hub" mode) and applies the
  // hub's migrations.
  static Result<std::unique_ptr<HubStore>> open(const std::string& data_dir,
                                                Clock* clock = nullptr);
  ~HubStore();
  HubStore(const HubStore&) = delete;
  HubStore& operator=(const HubStore&) = delete;
  HubStore(HubStore&&) = delete;
  HubStore& operator=(HubStore&&) = delete;

  Inspection& inspection();
  Engine& engine();

  // Enrolls a new device for an imported inspector or supervisor; returns it with its new id.
  Result<DeviceRecord> enroll_device(std::string_view inspector_id);
  // Refuses the device from now on (kNotFound if unknown). Its ops already merged stay.
  Status revoke_device(std::string_view device_id);
  Result<DeviceRecord> device(std::string_view device_id);
  Result<std::vector<DeviceRecord>> devices();
  // The device's refused ops (seq, reason), by seq, at most `limit`.
  Result<std::vector<std::pair<std::uint64_t, std::string>>> refused_ops(std::string_view device_id,
                                                                         std::size_t limit);
  // The schools a person's device would see today, by the sync scope's rule: an inspector's
  // assigned schools, a supervisor's county's schools (sorted). The console uses it for
  // supervisors; kNotFound for a person not imported.
  Result<std::vector<std::string>> schools_of(std::string_view inspector_id);

  // A device's hello: `device_acked_seq` is the count of acknowledged ops it has stored, so the
  // hub gives it every reason it lacks (a lost acknowledgement loses none). kRejected: unknown
  // or revoked device, or a device whose store is older than what the hub holds of it
  // (restored from a backup: its next seqs would collide).
  Result<HelloResult> hello(std::string_view device_id, Hlc device_clock,
                            std::uint64_t device_last_seq, std::uint64_t device_acked_seq);

  // A pushed batch: the device's own ops, in seq order, continuing after the acknowledged seq
  // (seqs at or below it are skipped: a resend after a lost ack). Anything else is a protocol
  // error (kInvalidInput). Each op is authorized (hub/authorize.h: the device's scope, the
  // visit's lifecycle and template); refused ops are recorded with their reason and
  // acknowledged, not merged. A store or internal error fails the whole push (the device
  // retries) and never becomes a rejection. Everything happens in one transaction, so the
  // acknowledgement covers only what is durably stored.
  Result<PushResult> push(std::string_view device_id, std::vector<Op> ops);

  // What the device's scope holds after `cursor` ("" = from the start), at most `max_ops` (or,
  // when fewer are asked for, the run of ops one device pushed for one record, at most 256),
  // without the device's own ops. When the scope has grown since the cursor was made, the new
  // part is back-filled first. Scans at most a bounded stretch of the log per call.
  Result<PullResult> pull(std::string_view device_id, std::string_view cursor, std::size_t max_ops);

  // Photos: the files in the data folder's attachments/ (visitsync/photos.h).
  PhotoStore& photos();
  // The size limit of every file and each device's quota, hub settings an administrator sets
  // (visitsync-admin photo limits); defaults kMaxPhotoBytes and kDefaultPhotoQuotaMb.
  Result<PhotoLimits> photo_limits();
  Status set_photo_limits(const PhotoLimits& limits);
  // The bytes of the photos this hub holds that the device sent first (its quota's use).
  Result<std::uint64_t> photo_bytes_of(std::string_view device_id);
  // May the device upload photo `id` of `size` bytes for `record`? OK when one of its own
  // merged ops on that record names it in an answer (an op the hub refused names nothing), the
  // size is within the hub's limit and the item's max_kb, and a file the hub lacks fits in the
  // device's quota. kRejected, with the reason, otherwise; and for an unknown or revoked device.
  Status may_upload_photo(std::string_view device_id, std::string_view record, std::string_view id,
                          std::uint64_t size);
  // Counts a photo the device's upload completed against its quota (once per file).
  Status photo_arrived(std::string_view device_id, std::string_view id, std::uint64_t size);
  // May the device fetch photo `id` for `record`? OK when the record is a visit in the
  // device's scope whose answers name it now and the file is here; kUnavailable when it has
  // not arrived yet; kRejected, with the reason, otherwise.
  Status may_fetch_photo(std::string_view device_id, std::string_view record, std::string_view id);
  // Removes the photos nothing names (collect_photo_garbage), and takes them off their
  // senders' quotas.
  Result<PhotoGarbage> collect_photo_garbage(std::int64_t grace_s);
  // The same with kPhotoGraceS when a day has passed since the last one (photo_gc_due), as the
  // hub's server runs it; nullopt when it was not due.
  Result<std::optional<PhotoGarbage>> collect_photo_garbage_daily();

  struct Impl;

 private:
  explicit HubStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vs
