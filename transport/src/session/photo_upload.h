// The device's side of photo uploads in one session (schema/PROTOCOL.md, "Photos"), after the
// push: every photo that this device's accepted ops name, that it holds and has not yet seen
// the hub take (or refuse), in the order of the ops that first name them, so that a visit's
// photos go before the next visit's. The chunks in flight are twice what the link holds (the
// rate the hub acknowledges at, times the quickest acknowledgement seen) and one more, between
// kMinWindowChunks and kMaxWindowChunks: enough to keep a fast link busy, little to lose when a
// slow one is cut. An upload cut at any byte resumes where the hub's stored chunks end.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/photos.h>

#include "wire/frame.h"

namespace vs::session {

// Settings the device keeps: "photo.up/<id>" once the hub holds the file whole,
// "photo.refused/<id>" with the hub's reason.
inline constexpr const char* kPhotoUpPrefix = "photo.up/";
inline constexpr const char* kPhotoRefusedPrefix = "photo.refused/";
// The window (in chunks) the last upload ended with: the next session starts from it rather
// than from kMinWindowChunks, so that a link cut every minute is not always learning.
inline constexpr const char* kPhotoWindowSetting = "photo.window";
inline constexpr std::size_t kMinWindowChunks = 2;
inline constexpr std::size_t kMaxWindowChunks = 64;

struct PhotoUploadStats {
  std::uint64_t photos = 0;        // the hub took them whole in this session
  std::uint64_t bytes = 0;         // chunk bytes sent (resent ones included)
  std::uint64_t resent_bytes = 0;  // of those, sent again after the hub asked
  std::vector<std::pair<std::string, std::string>> refused;  // id, reason
};

class PhotoUploader {
 public:
  // `photos` null: this device has no photo folder, and nothing is uploaded.
  PhotoUploader(Engine& engine, PhotoStore* photos) : engine_(engine), photos_(photos) {}
  // Lists what to upload (reads this device's own ops).
  Status prepare();
  // The offer of the next photo; empty (and done()) when none is left.
  Result<std::vector<wire::Frame>> next();
  // kPhotoWant, kPhotoAck and kPhotoRefused frames: what to send next (the next photo's offer
  // when one is done; nothing while the window is full).
  Result<std::vector<wire::Frame>> on_frame(const wire::Frame& f);
  const PhotoUploadStats& stats() const { return stats_; }
  // Nothing is left to upload, nor waiting for the hub's answer.
  bool done() const { return !current_ && queue_.empty(); }

 private:
  Result<std::vector<wire::Frame>> fill_window();
  // Learns from an acknowledgement of the bytes up to `received`.
  void measure(std::uint64_t received);
  std::uint64_t window_bytes() const;
  Result<std::vector<wire::Frame>> finish_current(const char* prefix, const std::string& value);

  Engine& engine_;
  PhotoStore* photos_;
  std::deque<std::pair<std::string, std::string>> queue_;  // id, record
  struct Current {
    std::string id;
    std::string bytes;
    std::uint64_t acked = 0;  // what the hub holds
    std::uint64_t sent = 0;   // what has been sent
    std::uint64_t high = 0;   // the most ever sent (resends are sends below it)
  };
  std::optional<Current> current_;
  PhotoUploadStats stats_;
  // The link, as the acknowledgements show it (over the session, across photos).
  using Clock = std::chrono::steady_clock;
  std::map<std::uint64_t, Clock::time_point> sent_at_;  // a chunk's end offset -> when it went
  std::optional<Clock::time_point> first_send_;
  std::uint64_t acked_bytes_ = 0;                  // acknowledged in this session
  std::optional<Clock::duration> quickest_;        // from a chunk's send to its acknowledgement
  std::uint64_t start_chunks_ = kMinWindowChunks;  // until this session has measured
};

}  // namespace vs::session
