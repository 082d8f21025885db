// The hub's side of photos in one session (schema/PROTOCOL.md, "Photos"): the device's uploads
// (an offer is authorized by HubStore::may_upload_photo, then taken by a PhotoIntake) and the
// photos it asks for (authorized by HubStore::may_fetch_photo, then sent by a PhotoSender, one
// at a time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <visitsync/hub_store.h>

#include "session/photo_link.h"
#include "wire/frame.h"

namespace vs::session {

struct HubPhotoStats {
  std::uint64_t photos_in = 0;   // uploads completed in this session
  std::uint64_t bytes_in = 0;    // chunk bytes stored
  std::uint64_t bad_chunks = 0;  // chunks that failed their check
  std::uint64_t refused = 0;     // offers and requests refused
  std::uint64_t photos_out = 0;  // photos the device took whole
  std::uint64_t bytes_out = 0;   // chunk bytes sent
};

class HubPhotos {
 public:
  HubPhotos(HubStore& store, std::string device)
      : store_(store), device_(std::move(device)), intake_(store.photos()) {}
  // A photo frame from the device: the answers to send, or an error that ends the session
  // (kCorrupt for a protocol violation; the store's own failures).
  Result<std::vector<wire::Frame>> on_frame(const wire::Frame& f);
  HubPhotoStats stats() const;

 private:
  Result<std::vector<wire::Frame>> on_offer(const wire::Frame& f);
  Result<std::vector<wire::Frame>> on_chunk(const wire::Frame& f);
  Result<std::vector<wire::Frame>> on_get(const wire::Frame& f);
  // The sender's answer to a want or an acknowledgement of the photo being sent.
  Result<std::vector<wire::Frame>> sent(Result<std::vector<wire::Frame>> out);
  std::vector<wire::Frame> refuse(const std::string& id, const Status& why);

  HubStore& store_;
  std::string device_;
  PhotoIntake intake_;   // uploads
  std::string offered_;  // the upload's id
  std::uint64_t offered_size_ = 0;
  PhotoSender sender_;  // the photos the device asked for
  HubPhotoStats stats_;
};

}  // namespace vs::session
