// The device's side of photo downloads in one session (schema/PROTOCOL.md, "Photos"), after the
// pull: the photos asked for (kPhotoFetchPrefix settings: `visitsync photo fetch`, the C API)
// and, on a device set to "eager" (kPhotoDownloadSetting), every photo its visits name that it
// lacks. One at a time, each asked for with the visit that names it; a PhotoIntake takes it,
// and a download cut at any byte resumes from the chunks stored here.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/photos.h>

#include "session/photo_link.h"
#include "wire/frame.h"

namespace vs::session {

struct PhotoDownloadStats {
  std::uint64_t photos = 0;       // whole here in this session
  std::uint64_t bytes = 0;        // chunk bytes stored
  std::uint64_t unavailable = 0;  // asked for, not on the hub yet (asked again next time)
  std::vector<std::pair<std::string, std::string>> refused;  // id, reason (no longer asked)
};

class PhotoDownloader {
 public:
  // `photos` null: this device has no photo folder, and nothing is fetched.
  PhotoDownloader(Engine& engine, PhotoStore* photos) : engine_(engine), photos_(photos) {}
  // Lists what to fetch.
  Status prepare();
  // The request for the next photo; empty (and done()) when none is left.
  Result<std::vector<wire::Frame>> next();
  // kPhotoOffer, kPhotoChunk and kPhotoRefused frames from the hub: what to send next.
  Result<std::vector<wire::Frame>> on_frame(const wire::Frame& f);
  PhotoDownloadStats stats() const;
  bool done() const { return !current_ && queue_.empty(); }
  std::size_t queued() const { return queue_.size(); }

 private:
  Result<std::vector<wire::Frame>> on_offer(const wire::Frame& f);
  // The current photo is whole here, or given up (`refused`): the request ends; the next.
  Result<std::vector<wire::Frame>> finish(std::vector<wire::Frame> out,
                                          const std::optional<std::string>& refused);

  Engine& engine_;
  PhotoStore* photos_;
  std::deque<std::pair<std::string, std::string>> queue_;  // id, record
  std::optional<std::string> current_;                     // asked for, not yet here
  std::optional<PhotoIntake> intake_;
  PhotoDownloadStats stats_;
};

}  // namespace vs::session
