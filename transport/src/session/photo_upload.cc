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
  std::vector<wire::Frame> out;
  if (Status s = offer_more(out); !s.ok()) return s;
  return out;
}

Status PhotoUploader::offer_more(std::vector<wire::Frame>& out) {
  while (sender_.may_offer() && !queue_.empty()) {
    auto [id, record] = std::move(queue_.front());
    queue_.pop_front();
    Result<std::string> bytes = photos_->read_all(id);
    if (!bytes.ok()) return bytes.status();
    out.push_back(sender_.offer(std::move(id), std::move(record), std::move(bytes.value())));
  }
  return Status();
}

PhotoUploadStats PhotoUploader::stats() const {
  PhotoUploadStats s = stats_;
  s.bytes = sender_.bytes_sent();
  s.resent_bytes = sender_.bytes_resent();
  return s;
}

Status PhotoUploader::settle(const std::vector<std::pair<std::string, std::string>>& verdicts) {
  if (verdicts.empty()) return Status();
  return engine_.transaction([&]() -> Status {
    for (const auto& [name, value] : verdicts)
      if (Status st = engine_.set_setting(name, value); !st.ok()) return st;
    return engine_.set_setting(kPhotoWindowSetting, std::to_string(sender_.window_chunks()));
  });
}

Result<std::vector<wire::Frame>> PhotoUploader::on_frame(const wire::Frame& f) {
  Result<std::vector<wire::Frame>> out = Status::internal("no answer");
  std::vector<std::pair<std::string, std::string>> verdicts;  // settings to store
  switch (f.type) {
    case wire::MsgType::kPhotoWant: {
      Result<wire::PhotoWant> want = wire::decode<wire::PhotoWant>(f);
      if (!want.ok()) return want.status();
      out = sender_.on_want(want->id, want->offset);
      break;
    }
    case wire::MsgType::kPhotoAck: {
      Result<wire::PhotoAck> ack = wire::decode<wire::PhotoAck>(f);
      if (!ack.ok()) return ack.status();
      out = sender_.on_ack(ack->id, ack->received);
      break;
    }
    case wire::MsgType::kPhotoRefused: {
      Result<wire::PhotoRefused> no = wire::decode<wire::PhotoRefused>(f);
      if (!no.ok()) return no.status();
      if (!sender_.sending(no->id))
        return Status::corrupt("the hub refused photo " + no->id + ", which is not being sent");
      sender_.end(no->id);
      stats_.refused.emplace_back(no->id, no->reason);
      verdicts.emplace_back(kPhotoRefusedPrefix + no->id,
                            no->reason.empty() ? "refused" : no->reason);
      out = std::vector<wire::Frame>{};
      break;
    }
    default:
      return Status::corrupt("unexpected " + std::string(wire::msg_type_name(f.type)) +
                             " message during photo uploads");
  }
  if (!out.ok()) return out;
  for (const auto& [id, by_chunks] : sender_.take_finished()) {
    if (by_chunks) ++stats_.photos;
    verdicts.emplace_back(kPhotoUpPrefix + id, "1");
  }
  // Offered again once in the session; a photo the hub keeps going back on waits for the next.
  for (auto& again : sender_.take_given_up())
    if (retried_.insert(again.first).second) queue_.push_back(std::move(again));
  if (Status s = settle(verdicts); !s.ok()) return s;
  if (Status s = offer_more(out.value()); !s.ok()) return s;
  return out;
}

}  // namespace vs::session
