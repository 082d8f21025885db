#include "session/hub_session.h"

#include <algorithm>

#include "wire/batch.h"
#include "wire/messages.h"

namespace vs::session {

HubSession::HubSession(HubStore& store, std::string peer, std::string hub_id)
    : store_(store), peer_(std::move(peer)), hub_id_(std::move(hub_id)) {
  stats_.device_id = peer_;
}

const HubSessionStats& HubSession::stats() const {
  if (photos_) stats_.photos = photos_->stats();
  return stats_;
}

std::vector<wire::Frame> HubSession::refuse(const Status& why) {
  finished_ = true;
  refusal_ = why;
  wire::Refused r;
  r.code = static_cast<std::int32_t>(why.code());
  r.reason = why.message().substr(0, wire::kMaxReasonBytes);
  return {wire::encode(r)};
}

Result<std::vector<wire::Frame>> HubSession::on_hello(const wire::Frame& f) {
  Result<wire::Hello> h = wire::decode<wire::Hello>(f);
  if (!h.ok()) return h.status();
  if (h->protocol_min > wire::kProtocolVersion || h->protocol_max < wire::kProtocolVersion) {
    // The device's software cannot sync with this hub: a refusal (exit 4), not a fault.
    return refuse(Status::rejected("protocol versions " + std::to_string(h->protocol_min) + " to " +
                                   std::to_string(h->protocol_max) +
                                   " are not supported (this hub speaks " +
                                   std::to_string(wire::kProtocolVersion) + ")"));
  }
  if (h->device_id != peer_) {
    return refuse(Status::rejected("the hello names device " + h->device_id +
                                   " but the certificate is " + peer_ + "'s"));
  }
  Result<HelloResult> hello =
      store_.hello(h->device_id, h->device_clock, h->last_seq, h->acked_seq);
  if (!hello.ok()) {
    if (hello.status().code() == Code::kRejected) return refuse(hello.status());
    return hello.status();
  }
  device_ = h->device_id;
  photos_.emplace(store_, device_);
  wire::Welcome w;
  w.hub_id = hub_id_;
  w.hub_clock = hello->hub_clock;
  w.skew_ms = hello->skew_ms;
  stats_.skew_ms = hello->skew_ms;
  w.acked_seq = hello->acked_seq;
  w.acked_print = hello->acked_print;
  w.rejected = std::move(hello->rejected);
  for (auto& [seq, reason] : w.rejected) {
    if (reason.size() > kMaxReasonInAck) reason.resize(kMaxReasonInAck);
  }
  return std::vector<wire::Frame>{wire::encode(w)};
}

Result<std::vector<wire::Frame>> HubSession::on_frame(const wire::Frame& f) {
  if (finished_) return Status::corrupt("a message after the session ended");
  if (device_.empty()) {
    if (f.type != wire::MsgType::kHello) {
      finished_ = true;
      return Status::corrupt("expected hello, got " + std::string(wire::msg_type_name(f.type)));
    }
    Result<std::vector<wire::Frame>> out = on_hello(f);
    if (!out.ok()) finished_ = true;
    return out;
  }
  switch (f.type) {
    case wire::MsgType::kPush: {
      Result<wire::Push> p = wire::decode<wire::Push>(f);
      if (!p.ok()) return p.status();
      // At most kMaxPushOps, told by the batch's count before any op is made.
      Result<std::vector<Op>> ops = wire::decode_batch(p->batch, wire::kMaxPushOps);
      if (!ops.ok()) return ops.status().annotate("push");
      Result<PushResult> r = store_.push(device_, std::move(ops.value()));
      if (!r.ok()) {
        if (r.status().code() == Code::kRejected) return refuse(r.status());
        return r.status();
      }
      stats_.ops_in += r->applied;
      stats_.rejected += r->rejected.size();
      for (const auto& [kind, n] : r->kinds) stats_.rejections[kind] += n;
      wire::PushAck ack;
      ack.acked_seq = r->acked_seq;
      ack.rejected = std::move(r->rejected);
      for (auto& [seq, reason] : ack.rejected) {
        if (reason.size() > kMaxReasonInAck) reason.resize(kMaxReasonInAck);
      }
      return std::vector<wire::Frame>{wire::encode(ack)};
    }
    case wire::MsgType::kPullRequest: {
      Result<wire::PullRequest> req = wire::decode<wire::PullRequest>(f);
      if (!req.ok()) return req.status();
      const std::uint32_t n = std::clamp<std::uint32_t>(req->max_ops, 1, kMaxPullOps);
      Result<PullResult> r = store_.pull(device_, req->cursor, n);
      if (!r.ok()) {
        if (r.status().code() == Code::kRejected) return refuse(r.status());
        return r.status();
      }
      stats_.ops_out += r->ops.size();
      wire::PullBatch b;
      b.batch = wire::encode_batch(r->ops);
      b.next_cursor = std::move(r->next_cursor);
      b.more = r->more;
      return std::vector<wire::Frame>{wire::encode(b)};
    }
    case wire::MsgType::kPhotoOffer:
    case wire::MsgType::kPhotoChunk:
    case wire::MsgType::kPhotoGet:
    case wire::MsgType::kPhotoWant:
    case wire::MsgType::kPhotoAck:
    case wire::MsgType::kPhotoRefused:
      return photos_->on_frame(f);
    case wire::MsgType::kBye:
      finished_ = true;
      return std::vector<wire::Frame>{};
    default:
      finished_ = true;
      return Status::corrupt("unexpected " + std::string(wire::msg_type_name(f.type)) + " message");
  }
}

}  // namespace vs::session
