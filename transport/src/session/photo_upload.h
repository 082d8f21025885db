// The device's side of photo uploads in one session (schema/PROTOCOL.md, "Photos"), after the
// push: every photo that this device's accepted ops name, that it holds and has not yet seen
// the hub take (or refuse), in the order of the ops that first name them, so that a visit's
// photos go before the next visit's. A PhotoSender sends them, the next offered while the last
// is sent; an upload cut at any byte resumes where the hub's stored chunks end.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/photos.h>

#include "session/photo_link.h"
#include "wire/frame.h"

namespace vs::session {

// The window (in chunks) the last transfer ended with: the next session starts from it rather
// than from kMinWindowChunks, so that a link cut every minute is not always learning.
inline constexpr const char* kPhotoWindowSetting = "photo.window";
// That setting's value, kMinWindowChunks when unset or not a number.
Result<std::size_t> start_window(Engine& engine);

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
  // The first offer; empty (and done()) when nothing is to be sent.
  Result<std::vector<wire::Frame>> next();
  // kPhotoWant, kPhotoAck and kPhotoRefused frames: what to send next (chunks, the next
  // photo's offer once every photo offered is answered; nothing while the window is full).
  Result<std::vector<wire::Frame>> on_frame(const wire::Frame& f);
  PhotoUploadStats stats() const;
  // Nothing is left to upload, nor waiting for the hub's answer.
  bool done() const { return !sender_.busy() && queue_.empty(); }

 private:
  // Offers photos while the sender may take more.
  Status offer_more(std::vector<wire::Frame>& out);
  // Stores the hub's verdicts (settings) with the window they ended with.
  Status settle(const std::vector<std::pair<std::string, std::string>>& verdicts);

  Engine& engine_;
  PhotoStore* photos_;
  std::deque<std::pair<std::string, std::string>> queue_;  // id, record
  std::set<std::string> retried_;  // given up once in this session, offered again
  PhotoSender sender_;
  PhotoUploadStats stats_;
};

}  // namespace vs::session
