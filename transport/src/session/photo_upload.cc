#include "session/photo_upload.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <visitsync/transport/client.h>

#include "wire/messages.h"

namespace vs::session {
namespace {

constexpr std::size_t kOpsPerRead = 10'000;

}  // namespace

Status PhotoUploader::prepare() {
  if (photos_ == nullptr) return Status();
  Result<std::string> window = engine_.setting(kPhotoWindowSetting);
  if (!window.ok()) return window.status();
  std::uint64_t chunks = 0;
  const auto [end, ec] = std::from_chars(window->data(), window->data() + window->size(), chunks);
  if (ec == std::errc() && end == window->data() + window->size())
    start_chunks_ = std::clamp<std::uint64_t>(chunks, kMinWindowChunks, kMaxWindowChunks);
  Result<std::vector<std::pair<std::uint64_t, std::string>>> refused = refused_ops(engine_);
  if (!refused.ok()) return refused.status();
  std::set<std::uint64_t> refused_seqs;
  for (const auto& [seq, reason] : refused.value()) refused_seqs.insert(seq);
  std::set<std::string> seen;
  for (std::uint64_t after = 0;;) {
    Result<std::vector<Op>> ops = engine_.ops_after(after, kOpsPerRead);
    if (!ops.ok()) return ops.status();
    if (ops->empty()) break;
    after = ops->back().id.seq;
    for (const Op& op : ops.value()) {
      if (op.field.rfind("a.", 0) != 0 || op.value.kind() != Value::Kind::kSet ||
          refused_seqs.count(op.id.seq) > 0)
        continue;
      for (const std::string& id : op.value.as_set()) {
        if (!is_photo_id(id) || !seen.insert(id).second) continue;
        Result<std::string> up = engine_.setting(kPhotoUpPrefix + id);
        if (!up.ok()) return up.status();
        Result<std::string> no = engine_.setting(kPhotoRefusedPrefix + id);
        if (!no.ok()) return no.status();
        // A photo id typed in without its file is not here to send: the hub shows it missing.
        if (up->empty() && no->empty() && photos_->has(id)) queue_.emplace_back(id, op.record);
      }
    }
  }
  return Status();
}

Result<std::vector<wire::Frame>> PhotoUploader::next() {
  current_.reset();
  sent_at_.clear();
  if (queue_.empty()) return std::vector<wire::Frame>{};
  auto [id, record] = std::move(queue_.front());
  queue_.pop_front();
  Result<std::string> bytes = photos_->read_all(id);
  if (!bytes.ok()) return bytes.status();
  PhotoManifest manifest = manifest_of(bytes.value());
  wire::PhotoOffer offer;
  offer.id = id;
  offer.record = std::move(record);
  offer.size = manifest.size;
  offer.chunk_sha = std::move(manifest.chunk_sha);
  current_ = Current{std::move(id), std::move(bytes.value()), 0, 0, 0};
  return std::vector<wire::Frame>{wire::encode(offer)};
}

void PhotoUploader::measure(std::uint64_t received) {
  const auto sent = sent_at_.find(received);
  if (sent != sent_at_.end()) {
    const Clock::duration took = Clock::now() - sent->second;
    if (!quickest_ || took < *quickest_) quickest_ = took;
  }
  sent_at_.erase(sent_at_.begin(), sent_at_.upper_bound(received));
}

std::uint64_t PhotoUploader::window_bytes() const {
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

Result<std::vector<wire::Frame>> PhotoUploader::fill_window() {
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
    stats_.bytes += chunk.data.size();
    if (c.sent <= c.high) stats_.resent_bytes += chunk.data.size();
    c.high = std::max(c.high, c.sent);
    out.push_back(wire::encode(chunk));
  }
  return out;
}

Result<std::vector<wire::Frame>> PhotoUploader::finish_current(const char* prefix,
                                                               const std::string& value) {
  Status s = engine_.transaction([&]() -> Status {
    if (Status st = engine_.set_setting(prefix + current_->id, value); !st.ok()) return st;
    return engine_.set_setting(kPhotoWindowSetting,
                               std::to_string(window_bytes() / kPhotoChunkBytes));
  });
  if (!s.ok()) return s;
  return next();
}

Result<std::vector<wire::Frame>> PhotoUploader::on_frame(const wire::Frame& f) {
  if (!current_) {
    return Status::corrupt("a " + std::string(wire::msg_type_name(f.type)) +
                           " message with no photo offered");
  }
  Current& c = *current_;
  const auto same = [&](const std::string& id) -> Status {
    return id == c.id ? Status()
                      : Status::corrupt("the hub answered for photo " + id + " while " + c.id +
                                        " was offered");
  };
  switch (f.type) {
    case wire::MsgType::kPhotoWant: {
      Result<wire::PhotoWant> want = wire::decode<wire::PhotoWant>(f);
      if (!want.ok()) return want.status();
      if (Status s = same(want->id); !s.ok()) return s;
      if (want->offset > c.bytes.size() ||
          (want->offset % kPhotoChunkBytes != 0 && want->offset != c.bytes.size()))
        return Status::corrupt("the hub asked for photo " + c.id + " from offset " +
                               std::to_string(want->offset));
      if (want->offset == c.bytes.size()) return finish_current(kPhotoUpPrefix, "1");
      // From there (again, when a chunk failed its check): what was in flight is dropped.
      c.acked = want->offset;
      c.sent = want->offset;
      sent_at_.clear();
      return fill_window();
    }
    case wire::MsgType::kPhotoAck: {
      Result<wire::PhotoAck> ack = wire::decode<wire::PhotoAck>(f);
      if (!ack.ok()) return ack.status();
      if (Status s = same(ack->id); !s.ok()) return s;
      if (ack->received <= c.acked || ack->received > c.sent)
        return Status::corrupt("the hub acknowledged photo " + c.id + " up to " +
                               std::to_string(ack->received) + " of " + std::to_string(c.sent) +
                               " sent");
      acked_bytes_ += ack->received - c.acked;
      c.acked = ack->received;
      measure(c.acked);
      if (c.acked == c.bytes.size()) {
        ++stats_.photos;
        return finish_current(kPhotoUpPrefix, "1");
      }
      return fill_window();
    }
    case wire::MsgType::kPhotoRefused: {
      Result<wire::PhotoRefused> no = wire::decode<wire::PhotoRefused>(f);
      if (!no.ok()) return no.status();
      if (Status s = same(no->id); !s.ok()) return s;
      stats_.refused.emplace_back(c.id, no->reason);
      return finish_current(kPhotoRefusedPrefix, no->reason.empty() ? "refused" : no->reason);
    }
    default:
      return Status::corrupt("unexpected " + std::string(wire::msg_type_name(f.type)) +
                             " message during photo uploads");
  }
}

}  // namespace vs::session
