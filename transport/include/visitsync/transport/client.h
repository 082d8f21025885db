// The device's side of sync: enrollment material and one sync with the hub over mutually
// authenticated TLS 1.3 (schema/PROTOCOL.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/inspection.h>
#include <visitsync/status.h>

namespace vs {

// What visitsync-admin enroll-device writes, and what a device keeps in its data folder.
struct Enrollment {
  std::string device_id;
  std::string inspector_id;
  std::string role;      // "inspector" or "supervisor"
  std::string hub_host;  // checked against the hub's certificate
  std::uint16_t hub_port = 0;
  std::string ca_pem;    // the deployment's CA
  std::string cert_pem;  // this device's certificate
  std::string key_pem;   // this device's private key
};

// Where a device's data folder keeps its enrollment.
inline constexpr const char* kEnrollmentFile = "enrollment.json";

// Makes a new data folder for an enrolled device (Inspection::create in mode "enrolled", acting
// as the enrollment's inspector or supervisor) and keeps the enrollment in it, mode 0600. The
// enrollment should come from load_enrollment() or read_enrollment_file() (deployment.h),
// which check it. On failure nothing is left behind (discard_data_folder).
Result<std::unique_ptr<Inspection>> create_enrolled_folder(const std::string& data_dir,
                                                           const Enrollment& enrollment);
// Undoes a half-made data folder so that the next init starts clean: the folder itself when it
// did not exist before (`existed` false), else only what an init puts in it (the store and its
// WAL, the enrollment, attachments).
void discard_data_folder(const std::string& data_dir, bool existed);

// The JSON form of an enrollment file; parse refuses (kInvalidInput) anything incomplete.
std::string enrollment_json(const Enrollment& e);
Result<Enrollment> parse_enrollment(std::string_view json);
// "HOST:PORT" (IPv6 as [::1]:PORT) into host and port.
Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text);

struct SyncProgress {
  std::uint64_t pushed = 0;      // ops acknowledged by the hub so far
  std::uint64_t to_push = 0;     // ops this session set out to push
  std::uint64_t pulled = 0;      // ops received so far
  std::uint64_t bytes_sent = 0;  // on the connection so far (TLS records and TCP payload)
  std::uint64_t bytes_received = 0;
  std::uint64_t photos_sent = 0;           // photos the hub took whole so far
  std::uint64_t photo_bytes_sent = 0;      // photo chunk bytes sent so far (resent ones included)
  std::uint64_t photos_received = 0;       // photos fetched whole so far
  std::uint64_t photo_bytes_received = 0;  // photo chunk bytes stored so far
  std::uint64_t photos_to_fetch = 0;       // photos this session set out to fetch
};

struct SyncOptions {
  std::size_t push_batch_ops = 10000;  // at most 10,000
  std::uint32_t pull_batch_ops = 5000;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds io_timeout{30'000};  // no progress for this long ends the session
  // Called on the syncing thread once the hub has welcomed the device, then after each batch
  // and each photo chunk the hub acknowledged.
  std::function<void(const SyncProgress&)> progress;
  // When set (from any thread) while the sync runs, the session ends within 100 ms with
  // kCancelled. What the hub acknowledged and what was pulled before stay; nothing is lost, and
  // the next sync resumes. Borrowed: must outlive the call.
  const std::atomic<bool>* cancel = nullptr;
  // The device's photo folder (`<data folder>/attachments`): after the push, the photos its
  // accepted ops name go to the hub; after the pull, the photos asked for (kPhotoFetchPrefix)
  // and, on an eager device (kPhotoDownloadSetting), every photo its visits name that it lacks
  // come from the hub (schema/PROTOCOL.md, "Photos"). Empty: no photos travel.
  std::string photos_dir;
};

struct SyncReport {
  std::string hub_id;
  std::uint64_t pushed = 0;         // ops the hub acknowledged in this session
  std::uint64_t pulled = 0;         // ops received in this session
  std::uint64_t applied = 0;        // of those, new to this device
  std::uint64_t pull_rejected = 0;  // received ops this device refused (kept with the reason)
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::int64_t skew_ms = 0;  // this device's clock minus the hub's
  std::vector<std::pair<std::uint64_t, std::string>> rejected;  // seq, reason
  // The records the pulled ops changed (new ops merged), sorted, for change observers; each
  // change was committed before the sync returned.
  std::vector<std::string> changed;
  std::uint64_t photos_sent = 0;         // photos the hub took whole in this session
  std::uint64_t photo_bytes_sent = 0;    // chunk bytes sent, resent ones included
  std::uint64_t photo_bytes_resent = 0;  // chunk bytes sent again (a chunk the hub asked again)
  std::vector<std::pair<std::string, std::string>> photos_refused;  // id, reason
  std::uint64_t photos_received = 0;       // photos fetched whole in this session
  std::uint64_t photo_bytes_received = 0;  // their chunk bytes stored
  std::uint64_t photos_not_yet = 0;        // asked for, not on the hub yet (asked again next sync)
  std::vector<std::pair<std::string, std::string>> fetch_refused;  // id, reason
};

// One sync of the device's engine with its hub: connect, TLS 1.3 with both certificates
// checked, hello, push every unacknowledged op, pull everything new in scope, bye. Returns
// kUnavailable when the hub cannot be reached or the link fails (retry: nothing is lost, the
// next sync resumes), kRejected when the hub refuses the device, kCancelled when
// SyncOptions::cancel was set. Local data stays intact.
Result<SyncReport> sync_with_hub(Engine& engine, const Enrollment& enrollment,
                                 const SyncOptions& options);

// When `s` (from sync_with_hub) is the hub's answer that it is too busy to serve the session
// ("the hub is busy, retry in N s", kUnavailable): the N seconds it asked the device to wait.
// nullopt for any other status. Nothing was lost: the next sync resumes.
std::optional<std::chrono::seconds> hub_busy_retry(const Status& s);

// Own ops the hub refused (seq, its reason), as the syncs that pushed them kept them: they are
// acknowledged, so never pushed again, and stay on the device with the rest of its data.
Result<std::vector<std::pair<std::uint64_t, std::string>>> refused_ops(Engine& engine);

// Where one visit stands with the hub on this device (as DHIS2 shows it beside each record).
struct VisitSync {
  std::uint64_t unacked = 0;  // this device's changes to it the hub has not acknowledged yet
  std::vector<std::pair<std::uint64_t, std::string>> refused;  // its own ops refused: seq, reason
  std::int64_t last_sent_ms = 0;      // when the hub last acknowledged its changes (0: never)
  std::int64_t last_received_ms = 0;  // when a pull last brought changes to it (0: never)
};
// The sync state of every visit this device holds that has one (changes sent, refused, waiting
// or received), by visit id. A visit that is not named has nothing of the kind.
Result<std::map<std::string, VisitSync>> visit_sync_states(Engine& engine);

// What repair_store() did.
struct RepairReport {
  std::string moved_to;                         // the damaged store, kept under this name
  std::uint64_t rows_kept = 0;                  // op log rows carried over
  std::uint64_t ops_kept = 0;                   // their ops
  std::uint64_t own_ops_kept = 0;               // of those, this device's
  std::uint64_t own_acked_lost = 0;             // this device's ops lost here that the hub holds
  std::vector<std::uint64_t> own_unacked_lost;  // seqs of its ops lost before the hub had them
  std::vector<std::string> lost;                // the report of each row that could not be read
  bool refill = false;                          // the next sync fetches the whole scope again
};

// Rebuilds a damaged store from what of it can still be read: its settings, counters and
// every sound op log row go into a new store, which takes the old one's place; the old one is
// kept as `<store_path>.damaged-<UTC time>` (with its WAL and damage marker). With `refill` (an
// enrolled device) the next sync fetches everything in scope again, this device's own
// acknowledged ops included (wire::kRefillCursor). Each own op lost before the hub had it is
// replaced by a placeholder op, which the hub refuses, so that the seqs it pushes stay
// unbroken. Fails, changing nothing, when the store does not open at all.
Result<RepairReport> repair_store(const std::string& store_path, bool refill);

}  // namespace vs
