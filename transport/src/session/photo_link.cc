#include "session/photo_link.h"

#include <algorithm>
#include <cmath>

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
  PhotoManifest manifest = manifest_of(bytes);
  wire::PhotoOffer offer;
  offer.id = id;
  offer.record = record;
  offer.size = manifest.size;
  offer.chunk_sha = std::move(manifest.chunk_sha);
  Flight f;
  f.id = std::move(id);
  f.record = std::move(record);
  f.bytes = std::move(bytes);
  flights_.push_back(std::move(f));
  return wire::encode(offer);
}

bool PhotoSender::may_offer() const {
  return flights_.size() < kMaxPhotosInFlight &&
         std::all_of(flights_.begin(), flights_.end(), [](const Flight& f) { return f.answered; });
}

PhotoSender::Flight* PhotoSender::find(const std::string& id) {
  for (Flight& f : flights_)
    if (f.id == id) return &f;
  return nullptr;
}

const PhotoSender::Flight* PhotoSender::find(const std::string& id) const {
  return const_cast<PhotoSender*>(this)->find(id);
}

Status PhotoSender::unknown(const char* what, const std::string& id) const {
  return Status::corrupt(std::string(what) + " of photo " + id + ", which is not being sent");
}

void PhotoSender::finish(const std::string& id, bool by_chunks) {
  finished_.emplace_back(id, by_chunks);
  end(id);
}

void PhotoSender::end(const std::string& id) {
  flights_.erase(
      std::remove_if(flights_.begin(), flights_.end(), [&](const Flight& f) { return f.id == id; }),
      flights_.end());
}

std::vector<std::pair<std::string, bool>> PhotoSender::take_finished() {
  return std::exchange(finished_, {});
}

std::vector<std::pair<std::string, std::string>> PhotoSender::take_given_up() {
  return std::exchange(given_up_, {});
}

void PhotoSender::measure(Flight& f, std::uint64_t received) {
  const Clock::time_point now = Clock::now();
  const auto sent = f.sent_at.find(received);
  if (sent != f.sent_at.end()) {
    const Clock::duration took = now - sent->second;
    if (!quickest_ || took < *quickest_) quickest_ = took;
  }
  f.sent_at.erase(f.sent_at.begin(), f.sent_at.upper_bound(received));
  // The rate acknowledgements arrive at over the last kTrain of them: chunks sent together
  // leave the link's narrowest point one after another, so their acknowledgements come spaced
  // by what it carries, even while the window is small.
  acks_.emplace_back(now, acked_bytes_);
  if (acks_.size() > kTrain + 1) acks_.pop_front();
  if (acks_.size() == kTrain + 1) {
    const double span = std::chrono::duration<double>(now - acks_.front().first).count();
    if (span > 0) {
      rates_.push_back(static_cast<double>(acked_bytes_ - acks_.front().second) / span);
      if (rates_.size() > kRateSamples) rates_.pop_front();
    }
  }
}

std::uint64_t PhotoSender::window_bytes() const {
  std::uint64_t chunks = start_chunks_;
  if (quickest_ && !rates_.empty()) {
    // What the link holds (its rate, the best of the recent samples, times the quickest
    // acknowledgement), and one chunk more to keep it busy while an acknowledgement travels.
    const double rate = *std::max_element(rates_.begin(), rates_.end());
    const double in_link = rate * std::chrono::duration<double>(*quickest_).count();
    chunks = static_cast<std::uint64_t>(std::ceil(in_link / kPhotoChunkBytes)) + 1;
  } else if (quickest_ && first_send_ && acked_bytes_ > 0) {
    // Too few acknowledgements in a row to measure yet: grow, twice what the link was seen
    // to hold on average (the window limits that rate, so the window must outgrow it).
    const double elapsed = std::chrono::duration<double>(Clock::now() - *first_send_).count();
    const double rate = static_cast<double>(acked_bytes_) / std::max(elapsed, 1e-3);
    const double in_link = rate * std::chrono::duration<double>(*quickest_).count();
    chunks = std::max<std::uint64_t>(
        start_chunks_, static_cast<std::uint64_t>(2 * in_link / kPhotoChunkBytes) + 1);
  }
  return std::clamp<std::uint64_t>(chunks, kMinWindowChunks, kMaxWindowChunks) * kPhotoChunkBytes;
}

std::vector<wire::Frame> PhotoSender::fill_window() {
  std::vector<wire::Frame> out;
  const std::uint64_t window = window_bytes();
  std::uint64_t in_flight = 0;
  for (const Flight& f : flights_) in_flight += f.sent - f.acked;
  for (Flight& f : flights_) {
    if (!f.answered) break;  // the photos after it wait for its answer
    while (f.sent < f.bytes.size() && in_flight < window) {
      wire::PhotoChunk chunk;
      chunk.id = f.id;
      chunk.offset = f.sent;
      chunk.data = f.bytes.substr(f.sent, kPhotoChunkBytes);
      f.sent += chunk.data.size();
      in_flight += chunk.data.size();
      const Clock::time_point now = Clock::now();
      if (!first_send_) first_send_ = now;
      f.sent_at[f.sent] = now;
      bytes_ += chunk.data.size();
      if (f.sent <= f.high) resent_ += chunk.data.size();
      f.high = std::max(f.high, f.sent);
      out.push_back(wire::encode(chunk));
    }
  }
  return out;
}

Result<std::vector<wire::Frame>> PhotoSender::on_want(const std::string& id, std::uint64_t offset) {
  Flight* f = find(id);
  if (f == nullptr) return unknown("a want", id);
  if (offset > f->bytes.size() || (offset % kPhotoChunkBytes != 0 && offset != f->bytes.size()))
    return Status::corrupt("photo " + id + " asked for from offset " + std::to_string(offset));
  if (offset == f->bytes.size()) {
    finish(id, false);  // the receiver has it whole
    return fill_window();
  }
  if (f->answered && f != &flights_.back()) {
    // Asked again (a chunk failed its check) after the next photo was offered: the receiver
    // has moved on to that one; this one is offered again later in the session.
    given_up_.emplace_back(f->id, f->record);
    end(id);
    return fill_window();
  }
  // From there (again, when a chunk failed its check): what was in flight is dropped.
  f->answered = true;
  f->acked = offset;
  f->sent = offset;
  f->sent_at.clear();
  return fill_window();
}

Result<std::vector<wire::Frame>> PhotoSender::on_ack(const std::string& id,
                                                     std::uint64_t received) {
  Flight* f = find(id);
  if (f == nullptr) return unknown("an acknowledgement", id);
  if (!f->answered || received <= f->acked || received > f->sent)
    return Status::corrupt("photo " + id + " acknowledged up to " + std::to_string(received) +
                           " of " + std::to_string(f->sent) + " sent");
  acked_bytes_ += received - f->acked;
  f->acked = received;
  measure(*f, received);
  if (received == f->bytes.size()) finish(id, true);
  return fill_window();
}

wire::PhotoRefused refusal(std::string id, const Status& why) {
  wire::PhotoRefused r;
  r.id = std::move(id);
  r.code = static_cast<std::int32_t>(why.code());
  r.reason = why.message().substr(0, wire::kMaxReasonBytes);
  return r;
}

PhotoIntake::Step PhotoIntake::want(std::deque<Upload>::iterator u, std::uint64_t offset) {
  wire::PhotoWant w;
  w.id = u->id;
  w.offset = offset;
  Step step{one(w), u->id, offset == u->manifest.size, false, std::nullopt};
  if (step.whole) uploads_.erase(u);
  return step;
}

PhotoIntake::Step PhotoIntake::refuse(std::string id, const Status& why) {
  uploads_.erase(
      std::remove_if(uploads_.begin(), uploads_.end(), [&](const Upload& u) { return u.id == id; }),
      uploads_.end());
  Step step{one(refusal(id, why)), id, false, false, why.message()};
  return step;
}

Result<PhotoIntake::Step> PhotoIntake::on_offer(const std::string& id, PhotoManifest manifest) {
  Result<std::uint64_t> received = store_.received(id, manifest);
  if (received.status().code() == Code::kInvalidInput)
    return refuse(id, Status::rejected(received.status().message()));
  if (!received.ok()) return received.status();
  uploads_.erase(
      std::remove_if(uploads_.begin(), uploads_.end(), [&](const Upload& u) { return u.id == id; }),
      uploads_.end());
  if (uploads_.size() >= kMaxPhotosInFlight) uploads_.pop_front();
  uploads_.push_back(Upload{id, std::move(manifest), received.value(), 0});
  return want(std::prev(uploads_.end()), received.value());
}

Result<PhotoIntake::Step> PhotoIntake::on_chunk(const wire::Frame& f) {
  Result<wire::PhotoChunk> chunk = wire::decode<wire::PhotoChunk>(f);
  if (!chunk.ok()) return chunk.status();
  // Chunks of a photo that ended (refused, or whole) may still be on their way: dropped, as
  // are chunks sent before an earlier offset was asked for again.
  const auto u = std::find_if(uploads_.begin(), uploads_.end(),
                              [&](const Upload& x) { return x.id == chunk->id; });
  if (u == uploads_.end() || chunk->offset != u->received) return Step{};
  if (chunk->offset == 0 && photo_media_type(chunk->data).empty())
    return refuse(u->id, Status::rejected("photo " + u->id + ": not a JPEG, PNG or HEIC image"));
  Result<std::uint64_t> stored = store_.append(u->id, u->manifest, u->received, chunk->data);
  if (stored.status().code() == Code::kInvalidInput) {
    // Another session may have moved the file on (the same photo, from another device): the
    // sender is asked to go on from where it stands now (its size: whole already).
    Result<std::uint64_t> now = store_.received(u->id, u->manifest);
    if (!now.ok()) return now.status();
    if (now.value() != u->received) {
      u->received = now.value();
      u->retries = 0;
      return want(u, u->received);
    }
    // The chunk is not the manifest's: asked for again, a few times.
    ++bad_chunks_;
    if (++u->retries > kMaxChunkRetries)
      return refuse(u->id, Status::rejected(stored.status().message()));
    return want(u, u->received);
  }
  if (stored.status().code() == Code::kRejected) return refuse(u->id, stored.status());
  if (!stored.ok()) return stored.status();
  bytes_ += chunk->data.size();
  u->received = stored.value();
  u->retries = 0;
  wire::PhotoAck ack;
  ack.id = u->id;
  ack.received = u->received;
  const bool whole = u->received == u->manifest.size;
  Step step{one(ack), u->id, whole, whole, std::nullopt};
  if (whole) uploads_.erase(u);
  return step;
}

}  // namespace vs::session
