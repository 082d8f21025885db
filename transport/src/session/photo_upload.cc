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

Result<std::size_t> start_window(Engine& engine) {
  Result<std::string> window = engine.setting(kPhotoWindowSetting);
  if (!window.ok()) return window.status();
  std::size_t chunks = 0;
  const auto [end, ec] = std::from_chars(window->data(), window->data() + window->size(), chunks);
  if (ec != std::errc() || end != window->data() + window->size()) return kMinWindowChunks;
  return chunks;
}

Status PhotoUploader::prepare() {
  if (photos_ == nullptr) return Status();
  Result<std::size_t> window = start_window(engine_);
  if (!window.ok()) return window.status();
  sender_ = PhotoSender(window.value());
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
  if (queue_.empty()) return std::vector<wire::Frame>{};
  auto [id, record] = std::move(queue_.front());
  queue_.pop_front();
  Result<std::string> bytes = photos_->read_all(id);
  if (!bytes.ok()) return bytes.status();
  return std::vector<wire::Frame>{
      sender_.offer(std::move(id), std::move(record), std::move(bytes.value()))};
}

PhotoUploadStats PhotoUploader::stats() const {
  PhotoUploadStats s = stats_;
  s.bytes = sender_.bytes_sent();
  s.resent_bytes = sender_.bytes_resent();
  return s;
}

Result<std::vector<wire::Frame>> PhotoUploader::finish_current(const char* prefix,
                                                               const std::string& value) {
  const std::string id = sender_.id();
  sender_.end();
  Status s = engine_.transaction([&]() -> Status {
    if (Status st = engine_.set_setting(prefix + id, value); !st.ok()) return st;
    return engine_.set_setting(kPhotoWindowSetting, std::to_string(sender_.window_chunks()));
  });
  if (!s.ok()) return s;
  return next();
}

Result<std::vector<wire::Frame>> PhotoUploader::on_frame(const wire::Frame& f) {
  if (!sender_.busy()) {
    return Status::corrupt("a " + std::string(wire::msg_type_name(f.type)) +
                           " message with no photo offered");
  }
  const auto same = [&](const std::string& id) -> Status {
    return id == sender_.id() ? Status()
                              : Status::corrupt("the hub answered for photo " + id + " while " +
                                                sender_.id() + " was offered");
  };
  switch (f.type) {
    case wire::MsgType::kPhotoWant: {
      Result<wire::PhotoWant> want = wire::decode<wire::PhotoWant>(f);
      if (!want.ok()) return want.status();
      if (Status s = same(want->id); !s.ok()) return s;
      Result<std::vector<wire::Frame>> out = sender_.on_want(want->offset);
      if (!out.ok() || !sender_.whole()) return out;
      return finish_current(kPhotoUpPrefix, "1");  // the hub has it already
    }
    case wire::MsgType::kPhotoAck: {
      Result<wire::PhotoAck> ack = wire::decode<wire::PhotoAck>(f);
      if (!ack.ok()) return ack.status();
      if (Status s = same(ack->id); !s.ok()) return s;
      Result<std::vector<wire::Frame>> out = sender_.on_ack(ack->received);
      if (!out.ok() || !sender_.whole()) return out;
      ++stats_.photos;
      return finish_current(kPhotoUpPrefix, "1");
    }
    case wire::MsgType::kPhotoRefused: {
      Result<wire::PhotoRefused> no = wire::decode<wire::PhotoRefused>(f);
      if (!no.ok()) return no.status();
      if (Status s = same(no->id); !s.ok()) return s;
      stats_.refused.emplace_back(no->id, no->reason);
      return finish_current(kPhotoRefusedPrefix, no->reason.empty() ? "refused" : no->reason);
    }
    default:
      return Status::corrupt("unexpected " + std::string(wire::msg_type_name(f.type)) +
                             " message during photo uploads");
  }
}

}  // namespace vs::session
