// The device's side of one sync session (schema/PROTOCOL.md): hello, push until the hub has
// acknowledged every op, pull until it has nothing more, bye. Protocol logic only: frames in,
// frames out, no sockets. It reads and writes the device's engine directly, one transaction per
// acknowledged batch or applied pull, so a link cut at any byte resumes from the last ack and
// cursor on the next session.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/transport/client.h>

#include "session/photo_download.h"
#include "session/photo_upload.h"
#include "wire/frame.h"

namespace vs::session {

// Settings and counters the device keeps for sync in its store.
inline constexpr const char* kAckedCounter = "push.acked";
inline constexpr const char* kCursorSetting = "pull.cursor";
inline constexpr const char* kRejectedPrefix = "rejected/";
inline constexpr const char* kPullRejectedPrefix = "pull-rejected/";
// When (ms since the epoch, decimal) the hub last acknowledged ops of a record this device
// wrote, and when a pull last changed the record: "sent/<record>", "received/<record>".
inline constexpr const char* kSentPrefix = "sent/";
inline constexpr const char* kReceivedPrefix = "received/";
// "1" from a repair until the refill's last pull (schema/PROTOCOL.md, "Cursors").
inline constexpr const char* kRefillSetting = "pull.refill";
// Push batches a device keeps in flight before it waits for an acknowledgement.
inline constexpr std::size_t kPushWindow = 4;

// How many of `ops` (the next ones to push, in seq order) one push takes: all, or fewer when
// their bytes would pass about 4 MiB or their set items and base entries kMaxBatchElements;
// at least one.
std::size_t ops_in_push(const std::vector<Op>& ops);

class DeviceSession {
 public:
  DeviceSession(Engine& engine, const SyncOptions& options);

  // The first frame to send.
  Result<std::vector<wire::Frame>> start();
  // Handles one frame from the hub; returns the frames to send. kRejected when the hub refused
  // the device; kCorrupt on a protocol violation.
  Result<std::vector<wire::Frame>> on_frame(const wire::Frame& f);
  bool done() const { return state_ == State::kDone; }
  const SyncReport& report() const { return report_; }

 private:
  enum class State { kStart, kHello, kPushing, kPhotos, kPulling, kFetching, kDone };
  Result<std::vector<wire::Frame>> next_push();
  // After the push: the photo uploads, then the pull.
  Result<std::vector<wire::Frame>> after_push();
  Result<std::vector<wire::Frame>> on_photo(const wire::Frame& f);
  // After the pull: the photo downloads, then bye.
  Result<std::vector<wire::Frame>> after_pull();
  Result<std::vector<wire::Frame>> on_fetched(const wire::Frame& f);
  void count_photos();
  SyncProgress progress_now() const;
  std::vector<wire::Frame> pull_request();
  Result<std::vector<wire::Frame>> on_welcome(const wire::Frame& f);
  Result<std::vector<wire::Frame>> on_ack(const wire::Frame& f);
  Result<std::vector<wire::Frame>> on_pull(const wire::Frame& f);
  struct InFlight {
    std::uint64_t last_seq = 0;        // the seq that ends the push
    std::vector<std::string> records;  // the records its ops write, sorted
  };
  Status store_verdicts(const InFlight& push,
                        const std::vector<std::pair<std::uint64_t, std::string>>& rejected);
  Status stamp(const char* prefix, const std::vector<std::string>& records);

  Engine& engine_;
  SyncOptions options_;
  State state_ = State::kStart;
  SyncReport report_;
  std::uint64_t acked_ = 0;
  std::uint64_t last_own_seq_ = 0;  // at start(): the newest op there is to push
  bool refill_ = false;             // a repaired store's first pulls (kRefillSetting)
  std::uint64_t to_push_ = 0;       // ops this session sets out to push (after the welcome)
  std::deque<InFlight> in_flight_;  // the pushes not yet acknowledged
  std::string cursor_;
  std::uint64_t photos_to_fetch_ = 0;
  std::unique_ptr<PhotoStore> photo_store_;  // SyncOptions::photos_dir, when set
  std::unique_ptr<PhotoUploader> uploader_;
  std::unique_ptr<PhotoDownloader> downloader_;
};

}  // namespace vs::session
