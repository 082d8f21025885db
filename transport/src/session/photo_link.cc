#include "session/photo_link.h"

#include <algorithm>

#include "wire/messages.h"

namespace vs::session {
namespace {

template <class M>
std::vector<wire::Frame> one(const M& m) {
  return {wire::encode(m)};
}

}  // namespace

PhotoSender::PhotoSender(std::size_t start_chunks)
    : start_chunks_(std::clamp<std::size_t>(start_chunks, kMinWindowChunks, kMaxWindowChunks)) {}

wire::Frame PhotoSender::offer(std::string id, std::string record, std::string bytes) {
  sent_at_.clear();
  PhotoManifest manifest = manifest_of(bytes);
  wire::PhotoOffer offer;
  offer.id = id;
  offer.record = std::move(record);
  offer.size = manifest.size;
  offer.chunk_sha = std::move(manifest.chunk_sha);
  current_ = Current{std::move(id), std::move(bytes), 0, 0, 0};
  return wire::encode(offer);
}

void PhotoSender::measure(std::uint64_t received) {
  const auto sent = sent_at_.find(received);
  if (sent != sent_at_.end()) {
    const Clock::duration took = Clock::now() - sent->second;
    if (!quickest_ || took < *quickest_) quickest_ = took;
  }
  sent_at_.erase(sent_at_.begin(), sent_at_.upper_bound(received));
}

std::uint64_t PhotoSender::window_bytes() const {
  std::uint64_t chunks = start_chunks_;
  if (quickest_ && first_send_ && acked_bytes_ > 0) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - *first_send_).count();
    const double rate = static_cast<double>(acked_bytes_) / std::max(elapsed, 1e-3);
    const double in_link = rate * std::chrono::duration<double>(*quickest_).count();
    // Twice what the link was seen to hold: the rate measured is what the window let through,
    // so the window must outgrow it for the rate to rise to what the link can carry.
    chunks = static_cast<std::uint64_t>(2 * in_link / kPhotoChunkBytes) + 1;
  }
  return std::clamp<std::uint64_t>(chunks, kMinWindowChunks, kMaxWindowChunks) * kPhotoChunkBytes;
}

std::vector<wire::Frame> PhotoSender::fill_window() {
  Current& c = *current_;
  std::vector<wire::Frame> out;
  const std::uint64_t window = window_bytes();
  while (c.sent < c.bytes.size() && c.sent - c.acked < window) {
    wire::PhotoChunk chunk;
    chunk.id = c.id;
    chunk.offset = c.sent;
    chunk.data = c.bytes.substr(c.sent, kPhotoChunkBytes);
    c.sent += chunk.data.size();
    const Clock::time_point now = Clock::now();
    if (!first_send_) first_send_ = now;
    sent_at_[c.sent] = now;
    bytes_ += chunk.data.size();
    if (c.sent <= c.high) resent_ += chunk.data.size();
    c.high = std::max(c.high, c.sent);
    out.push_back(wire::encode(chunk));
  }
  return out;
}

Result<std::vector<wire::Frame>> PhotoSender::on_want(std::uint64_t offset) {
  if (!current_) return Status::corrupt("a photo want with no photo offered");
  Current& c = *current_;
  if (offset > c.bytes.size() || (offset % kPhotoChunkBytes != 0 && offset != c.bytes.size()))
    return Status::corrupt("photo " + c.id + " asked for from offset " + std::to_string(offset));
  // From there (again, when a chunk failed its check): what was in flight is dropped.
  c.acked = offset;
  c.sent = offset;
  sent_at_.clear();
  return fill_window();
}

Result<std::vector<wire::Frame>> PhotoSender::on_ack(std::uint64_t received) {
  if (!current_) return Status::corrupt("a photo acknowledgement with no photo offered");
  Current& c = *current_;
  if (received <= c.acked || received > c.sent)
    return Status::corrupt("photo " + c.id + " acknowledged up to " + std::to_string(received) +
                           " of " + std::to_string(c.sent) + " sent");
  acked_bytes_ += received - c.acked;
  c.acked = received;
  measure(c.acked);
  return fill_window();
}

PhotoIntake::Step PhotoIntake::want(std::uint64_t offset) {
  wire::PhotoWant w;
  w.id = current_->id;
  w.offset = offset;
  Step step{one(w), offset == current_->manifest.size, false, std::nullopt};
  if (step.whole) current_.reset();
  return step;
}

PhotoIntake::Step PhotoIntake::refuse(std::string id, const Status& why) {
  // `id` is a copy: it may be the current photo's own, which the reset below destroys.
  current_.reset();
  return Step{one(refusal(std::move(id), why)), false, false, why.message()};
}

wire::PhotoRefused refusal(std::string id, const Status& why) {
  wire::PhotoRefused r;
  r.id = std::move(id);
  r.code = static_cast<std::int32_t>(why.code());
  r.reason = why.message().substr(0, wire::kMaxReasonBytes);
  return r;
}

Result<PhotoIntake::Step> PhotoIntake::on_offer(const std::string& id, PhotoManifest manifest) {
  Result<std::uint64_t> received = store_.received(id, manifest);
  if (received.status().code() == Code::kInvalidInput)
    return refuse(id, Status::rejected(received.status().message()));
  if (!received.ok()) return received.status();
  current_ = Current{id, std::move(manifest), received.value(), 0};
  return want(received.value());
}

Result<PhotoIntake::Step> PhotoIntake::on_chunk(const wire::Frame& f) {
  Result<wire::PhotoChunk> chunk = wire::decode<wire::PhotoChunk>(f);
  if (!chunk.ok()) return chunk.status();
  // Chunks of a photo that ended (refused, or whole) may still be on their way: dropped, as
  // are chunks sent before an earlier offset was asked for again.
  if (!current_ || chunk->id != current_->id || chunk->offset != current_->received) return Step{};
  Current& c = *current_;
  if (chunk->offset == 0 && photo_media_type(chunk->data).empty())
    return refuse(c.id, Status::rejected("photo " + c.id + ": not a JPEG, PNG or HEIC image"));
  Result<std::uint64_t> stored = store_.append(c.id, c.manifest, c.received, chunk->data);
  if (stored.status().code() == Code::kInvalidInput) {
    // Another session may have moved the file on (the same photo, from another device): the
    // sender is asked to go on from where it stands now (its size: whole already).
    Result<std::uint64_t> now = store_.received(c.id, c.manifest);
    if (!now.ok()) return now.status();
    if (now.value() != c.received) {
      c.received = now.value();
      c.retries = 0;
      return want(c.received);
    }
    // The chunk is not the manifest's: asked for again, a few times.
    ++bad_chunks_;
    if (++c.retries > kMaxChunkRetries)
      return refuse(c.id, Status::rejected(stored.status().message()));
    return want(c.received);
  }
  if (stored.status().code() == Code::kRejected) return refuse(c.id, stored.status());
  if (!stored.ok()) return stored.status();
  bytes_ += chunk->data.size();
  c.received = stored.value();
  c.retries = 0;
  wire::PhotoAck ack;
  ack.id = c.id;
  ack.received = c.received;
  const bool whole = c.received == c.manifest.size;
  Step step{one(ack), whole, whole, std::nullopt};
  if (step.whole) current_.reset();
  return step;
}

}  // namespace vs::session
