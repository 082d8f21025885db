// The hub's side of photo uploads in one session (schema/PROTOCOL.md, "Photos"): an offer is
// authorized (HubStore::may_upload_photo) and answered with the offset to send from; each chunk
// is checked against the offer's manifest and synced before it is acknowledged; a chunk that
// fails its check is asked for again, at most kMaxChunkRetries times. One upload at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <visitsync/hub_store.h>
#include <visitsync/photos.h>

#include "wire/frame.h"

namespace vs::session {

inline constexpr int kMaxChunkRetries = 3;

struct PhotoReceiveStats {
  std::uint64_t photos = 0;      // uploads completed in this session
  std::uint64_t bytes = 0;       // chunk bytes stored
  std::uint64_t bad_chunks = 0;  // chunks that failed their check
  std::uint64_t refused = 0;     // offers refused
};

class PhotoReceiver {
 public:
  PhotoReceiver(HubStore& store, std::string device) : store_(store), device_(std::move(device)) {}
  // kPhotoOffer and kPhotoChunk frames: the answers to send, or an error that ends the session
  // (kCorrupt for a protocol violation; the store's own failures).
  Result<std::vector<wire::Frame>> on_offer(const wire::Frame& f);
  Result<std::vector<wire::Frame>> on_chunk(const wire::Frame& f);
  const PhotoReceiveStats& stats() const { return stats_; }

 private:
  std::vector<wire::Frame> refuse(std::string id, const std::string& reason);

  HubStore& store_;
  std::string device_;
  struct Upload {
    std::string id;
    PhotoManifest manifest;
    std::uint64_t received = 0;
    int retries = 0;  // of the chunk at `received`
  };
  std::optional<Upload> upload_;
  PhotoReceiveStats stats_;
};

}  // namespace vs::session
