#include "session/photo_receive.h"

#include "wire/messages.h"

namespace vs::session {
namespace {

template <class M>
std::vector<wire::Frame> one(const M& m) {
  return {wire::encode(m)};
}

}  // namespace

std::vector<wire::Frame> PhotoReceiver::refuse(std::string id, const std::string& reason) {
  // `id` is a copy: it may be the upload's own, which the reset below destroys.
  ++stats_.refused;
  upload_.reset();
  wire::PhotoRefused r;
  r.id = std::move(id);
  r.reason = reason.substr(0, wire::kMaxReasonBytes);
  return one(r);
}

Result<std::vector<wire::Frame>> PhotoReceiver::on_offer(const wire::Frame& f) {
  Result<wire::PhotoOffer> offer = wire::decode<wire::PhotoOffer>(f);
  if (!offer.ok()) return offer.status();
  const std::string& id = offer->id;
  if (!is_photo_id(id)) return Status::corrupt("a photo offer for '" + id + "', not a photo id");
  if (offer->size == 0 || offer->size > kMaxPhotoBytes) {
    return refuse(id, "photo " + id + ": " + std::to_string(offer->size) + " bytes, at most " +
                          std::to_string(kMaxPhotoBytes) + " allowed");
  }
  if (offer->chunk_sha.size() != photo_chunk_count(offer->size)) {
    return Status::corrupt("a photo offer of " + std::to_string(offer->size) + " bytes in " +
                           std::to_string(offer->chunk_sha.size()) + " chunks");
  }
  Status may = store_.may_upload_photo(device_, offer->record, id);
  if (may.code() == Code::kRejected) return refuse(id, may.message());
  if (!may.ok()) return may;
  PhotoManifest manifest{offer->size, std::move(offer->chunk_sha)};
  Result<std::uint64_t> received = store_.photos().received(id, manifest);
  if (received.status().code() == Code::kInvalidInput)
    return refuse(id, received.status().message());
  if (!received.ok()) return received.status();
  if (received.value() == manifest.size) {
    upload_.reset();  // here already: from this device, another, or another visit
  } else {
    upload_ = Upload{id, std::move(manifest), received.value(), 0};
  }
  wire::PhotoWant want;
  want.id = id;
  want.offset = received.value();
  return one(want);
}

Result<std::vector<wire::Frame>> PhotoReceiver::on_chunk(const wire::Frame& f) {
  Result<wire::PhotoChunk> chunk = wire::decode<wire::PhotoChunk>(f);
  if (!chunk.ok()) return chunk.status();
  // Chunks of an upload that ended (refused, or whole) may still be on their way: dropped, as
  // are chunks sent before the hub asked again from an earlier offset.
  if (!upload_ || chunk->id != upload_->id || chunk->offset != upload_->received)
    return std::vector<wire::Frame>{};
  Upload& up = *upload_;
  if (chunk->offset == 0 && photo_media_type(chunk->data).empty())
    return refuse(up.id, "photo " + up.id + ": not a JPEG, PNG or HEIC image");
  Result<std::uint64_t> stored =
      store_.photos().append(up.id, up.manifest, up.received, chunk->data);
  if (stored.status().code() == Code::kInvalidInput) {
    // Another session may have moved the file on (the same photo, from another device): the
    // device is asked to go on from where it stands now (its size: whole already).
    Result<std::uint64_t> now = store_.photos().received(up.id, up.manifest);
    if (!now.ok()) return now.status();
    if (now.value() != up.received) {
      up.received = now.value();
      up.retries = 0;
      wire::PhotoWant from;
      from.id = up.id;
      from.offset = up.received;
      if (up.received == up.manifest.size) upload_.reset();
      return one(from);
    }
    // The chunk is not the manifest's: asked for again, a few times.
    ++stats_.bad_chunks;
    if (++up.retries > kMaxChunkRetries) return refuse(up.id, stored.status().message());
    wire::PhotoWant again;
    again.id = up.id;
    again.offset = up.received;
    return one(again);
  }
  if (stored.status().code() == Code::kRejected) return refuse(up.id, stored.status().message());
  if (!stored.ok()) return stored.status();
  stats_.bytes += chunk->data.size();
  up.received = stored.value();
  up.retries = 0;
  wire::PhotoAck ack;
  ack.id = up.id;
  ack.received = up.received;
  if (up.received == up.manifest.size) {
    ++stats_.photos;
    upload_.reset();
  }
  return one(ack);
}

}  // namespace vs::session
