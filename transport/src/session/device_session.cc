#include "session/device_session.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "wire/batch.h"
#include "wire/messages.h"

namespace vs::session {
namespace {

template <class M>
std::vector<wire::Frame> one(const M& m) {
  return {wire::encode(m)};
}

constexpr std::size_t kMaxPushBytes = 4u << 20;

// The records `ops` write, sorted, each once.
std::vector<std::string> records_of(const std::vector<Op>& ops) {
  std::vector<std::string> records;
  records.reserve(ops.size());
  for (const Op& op : ops) records.push_back(op.record);
  std::sort(records.begin(), records.end());
  records.erase(std::unique(records.begin(), records.end()), records.end());
  return records;
}

// rejected/<seq, 20 digits>: the settings sort by seq (refused_ops() reads them back).
std::string rejected_key(std::uint64_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%020llu", kRejectedPrefix,
                static_cast<unsigned long long>(seq));
  return buf;
}

}  // namespace

std::size_t ops_in_push(const std::vector<Op>& ops) {
  // Long notes make big ops: keep each push far below the wire's frame limit, and within the
  // set items and base entries the hub's decoder takes.
  std::size_t bytes = 0;
  std::size_t elements = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    std::string value;
    encode_value(ops[i].value, value);
    bytes += ops[i].record.size() + ops[i].field.size() + value.size() + 32;
    elements += batch_elements(ops[i]);
    if ((bytes > kMaxPushBytes || elements > kMaxBatchElements) && i > 0) return i;
  }
  return ops.size();
}

DeviceSession::DeviceSession(Engine& engine, const SyncOptions& options)
    : engine_(engine), options_(options) {
  // At most 10,000 ops a push, so that the acknowledgement's reasons always fit in one frame.
  options_.push_batch_ops = std::clamp<std::size_t>(options_.push_batch_ops, 1, wire::kMaxPushOps);
  options_.pull_batch_ops =
      std::clamp<std::uint32_t>(options_.pull_batch_ops, 1, wire::kMaxBatchOps);
}

Result<std::vector<wire::Frame>> DeviceSession::start() {
  Result<EngineStats> st = engine_.stats();
  if (!st.ok()) return st.status();
  Result<std::uint64_t> acked = engine_.counter(kAckedCounter);
  if (!acked.ok()) return acked.status();
  Result<std::string> cursor = engine_.setting(kCursorSetting);
  if (!cursor.ok()) return cursor.status();
  Result<std::string> refill = engine_.setting(kRefillSetting);
  if (!refill.ok()) return refill.status();
  refill_ = refill.value() == "1";
  acked_ = acked.value();
  last_own_seq_ = st->last_own_seq;
  cursor_ = cursor.value();
  if (!options_.photos_dir.empty()) {
    Result<std::unique_ptr<PhotoStore>> photos = PhotoStore::open(options_.photos_dir);
    if (!photos.ok()) return photos.status();
    photo_store_ = std::move(photos.value());
  }
  uploader_ = std::make_unique<PhotoUploader>(engine_, photo_store_.get());
  downloader_ = std::make_unique<PhotoDownloader>(engine_, photo_store_.get());
  wire::Hello h;
  h.device_id = engine_.device_id();
  h.schema_version = st->schema_version;
  // The wall clock, not the last stamp: the hub reports the skew from it.
  h.device_clock =
      make_hlc(static_cast<std::uint64_t>(std::max<std::int64_t>(engine_.wall_ms(), 0)), 0);
  h.last_seq = st->last_own_seq;
  h.acked_seq = acked_;
  state_ = State::kHello;
  return one(h);
}

Result<std::vector<wire::Frame>> DeviceSession::on_frame(const wire::Frame& f) {
  if (f.type == wire::MsgType::kRefused) {
    Result<wire::Refused> r = wire::decode<wire::Refused>(f);
    if (!r.ok()) return r.status();
    state_ = State::kDone;
    // A refusal of the device itself, a failure worth retrying, or a protocol problem.
    switch (static_cast<Code>(r->code)) {
      case Code::kRejected:
        return Status::rejected("the hub refused this device: " + r->reason);
      case Code::kUnavailable:
        // A hub too loaded to go on says when to come back: its reason is the message.
        if (wire::busy_retry_s(r->reason)) return Status::unavailable("the hub is " + r->reason);
        return Status::unavailable("the hub ended the session: " + r->reason);
      case Code::kIo:  // its reason may say "free some space": the hub's, not this device's
        return Status::unavailable("the hub's store failed (on the hub, not here): " + r->reason);
      case Code::kInternal:
      case Code::kDamaged:  // the hub's own store: nothing this device can mend
        return Status::unavailable("the hub ended the session: " + r->reason);
      default:
        return Status::corrupt("the hub ended the session: " + r->reason);
    }
  }
  switch (state_) {
    case State::kHello:
      return on_welcome(f);
    case State::kPushing:
      return on_ack(f);
    case State::kPhotos:
      return on_photo(f);
    case State::kFetching:
      return on_fetched(f);
    case State::kPulling:
      return on_pull(f);
    default:
      return Status::corrupt("unexpected " + std::string(wire::msg_type_name(f.type)) +
                             " message from the hub");
  }
}

Result<std::vector<wire::Frame>> DeviceSession::on_welcome(const wire::Frame& f) {
  Result<wire::Welcome> w = wire::decode<wire::Welcome>(f);
  if (!w.ok()) return w.status();
  if (w->protocol != wire::kProtocolVersion) {
    return Status::corrupt("the hub chose protocol " + std::to_string(w->protocol));
  }
  report_.hub_id = w->hub_id;
  report_.skew_ms = w->skew_ms;
  if (Status s = engine_.observe(w->hub_clock); !s.ok()) return s;
  // The op the hub holds under our acknowledged seq must be ours: a store restored from a
  // backup has written new ops under seqs the hub already holds, and they would be skipped.
  // A repaired store may have lost that op (the refill brings it back), but it must still
  // hold a seq at least as high.
  if (refill_ && w->acked_seq > last_own_seq_) {
    state_ = State::kDone;
    return Status::rejected("the hub holds this device's ops up to " +
                            std::to_string(w->acked_seq) + ", and the repaired store only up to " +
                            std::to_string(last_own_seq_) +
                            ": new ops would reuse their seqs; enroll the device again");
  }
  if (!refill_ && w->acked_seq > 0 && w->acked_print != 0) {
    Result<std::vector<Op>> own = engine_.ops_after(w->acked_seq - 1, 1);
    if (!own.ok()) return own.status();
    if (own->empty() || own->front().id.seq != w->acked_seq ||
        fingerprint(own->front()) != w->acked_print) {
      state_ = State::kDone;
      return Status::rejected(
          "this device's op " + std::to_string(w->acked_seq) +
          " is not the one the hub holds: the store was restored from an older copy; "
          "enroll the device again (its data stays readable here)");
    }
  }
  // The hub's count is the truth: an ack lost on the way leaves ours behind it, and the reasons
  // it carried come with the welcome, stored with the count they belong to.
  if (w->acked_seq != acked_ || !w->rejected.empty()) {
    InFlight acked{w->acked_seq, {}};
    if (w->acked_seq > acked_) {  // the records of the ops whose ack was lost are sent too
      Result<std::vector<Op>> ops =
          engine_.ops_after(acked_, static_cast<std::size_t>(w->acked_seq - acked_));
      if (!ops.ok()) return ops.status();
      acked.records = records_of(ops.value());
    }
    if (Status s = store_verdicts(acked, w->rejected); !s.ok()) return s;
    for (auto& r : w->rejected) report_.rejected.push_back(std::move(r));
    acked_ = w->acked_seq;
  }
  to_push_ = last_own_seq_ > acked_ ? last_own_seq_ - acked_ : 0;
  state_ = State::kPushing;
  if (options_.progress) options_.progress(progress_now());
  return next_push();
}

Result<std::vector<wire::Frame>> DeviceSession::next_push() {
  // Up to kPushWindow batches in flight: the device prepares the next while the hub stores the
  // last, and a slow link's round trips overlap.
  std::vector<wire::Frame> out;
  while (in_flight_.size() < kPushWindow) {
    const std::uint64_t from = in_flight_.empty() ? acked_ : in_flight_.back().last_seq;
    Result<std::vector<Op>> ops = engine_.ops_after(from, options_.push_batch_ops);
    if (!ops.ok()) return ops.status();
    if (ops->empty()) break;
    ops->resize(ops_in_push(ops.value()));
    in_flight_.push_back(InFlight{ops->back().id.seq, records_of(ops.value())});
    wire::Push p;
    p.batch = wire::encode_batch(ops.value());
    out.push_back(wire::encode(p));
  }
  if (in_flight_.empty()) return after_push();
  return out;
}

SyncProgress DeviceSession::progress_now() const {
  SyncProgress p{report_.pushed, to_push_, report_.pulled};
  p.photos_sent = report_.photos_sent;
  p.photo_bytes_sent = report_.photo_bytes_sent;
  p.photos_received = report_.photos_received;
  p.photo_bytes_received = report_.photo_bytes_received;
  p.photos_to_fetch = photos_to_fetch_;
  return p;
}

void DeviceSession::count_photos() {
  const PhotoUploadStats up = uploader_->stats();
  report_.photos_sent = up.photos;
  report_.photo_bytes_sent = up.bytes;
  report_.photo_bytes_resent = up.resent_bytes;
  report_.photos_refused = up.refused;
  const PhotoDownloadStats down = downloader_->stats();
  report_.photos_received = down.photos;
  report_.photo_bytes_received = down.bytes;
  report_.photos_not_yet = down.unavailable;
  report_.fetch_refused = down.refused;
}

Result<std::vector<wire::Frame>> DeviceSession::after_push() {
  state_ = State::kPhotos;
  if (Status s = uploader_->prepare(); !s.ok()) return s;
  Result<std::vector<wire::Frame>> offer = uploader_->next();
  if (!offer.ok() || !uploader_->done()) return offer;
  state_ = State::kPulling;
  return pull_request();
}

Result<std::vector<wire::Frame>> DeviceSession::on_photo(const wire::Frame& f) {
  Result<std::vector<wire::Frame>> out = uploader_->on_frame(f);
  if (!out.ok()) return out;
  count_photos();
  if (options_.progress) options_.progress(progress_now());
  if (!uploader_->done()) return out;
  state_ = State::kPulling;
  return pull_request();
}

Result<std::vector<wire::Frame>> DeviceSession::on_ack(const wire::Frame& f) {
  Result<wire::PushAck> ack = wire::decode<wire::PushAck>(f);
  if (!ack.ok()) return ack.status();
  // The hub answers each push with the seq that ends it (rejected ops are acknowledged too).
  if (in_flight_.empty() || ack->acked_seq != in_flight_.front().last_seq) {
    return Status::corrupt("the hub acknowledged seq " + std::to_string(ack->acked_seq) +
                           " where " +
                           (in_flight_.empty() ? std::string("no push")
                                               : std::to_string(in_flight_.front().last_seq)) +
                           " was due");
  }
  if (Status s = store_verdicts(in_flight_.front(), ack->rejected); !s.ok()) return s;
  in_flight_.pop_front();
  report_.pushed += ack->acked_seq - acked_;
  for (auto& r : ack->rejected) report_.rejected.push_back(std::move(r));
  acked_ = ack->acked_seq;
  if (options_.progress) options_.progress(progress_now());
  return next_push();
}

Status DeviceSession::store_verdicts(
    const InFlight& push, const std::vector<std::pair<std::uint64_t, std::string>>& rejected) {
  // The count and the reasons for the ops it covers are stored together: the next hello tells
  // the hub which reasons this device still lacks.
  return engine_.transaction([&]() -> Status {
    for (const auto& [seq, reason] : rejected) {
      if (Status st = engine_.set_setting(rejected_key(seq), reason); !st.ok()) return st;
    }
    if (Status st = stamp(kSentPrefix, push.records); !st.ok()) return st;
    return engine_.set_counter(kAckedCounter, push.last_seq);
  });
}

Status DeviceSession::stamp(const char* prefix, const std::vector<std::string>& records) {
  const std::string now = std::to_string(engine_.wall_ms());
  for (const std::string& record : records) {
    if (Status s = engine_.set_setting(prefix + record, now); !s.ok()) return s;
  }
  return Status();
}

std::vector<wire::Frame> DeviceSession::pull_request() {
  wire::PullRequest r;
  r.cursor = cursor_;
  r.max_ops = options_.pull_batch_ops;
  return one(r);
}

Result<std::vector<wire::Frame>> DeviceSession::on_pull(const wire::Frame& f) {
  Result<wire::PullBatch> b = wire::decode<wire::PullBatch>(f);
  if (!b.ok()) return b.status();
  Result<std::vector<Op>> ops = wire::decode_batch(b->batch);
  if (!ops.ok()) return ops.status().annotate("pull batch from the hub");
  // The ops and the cursor after them commit together: a cut link resumes right here. An op
  // the engine refuses is recorded with its reason, not silently passed by.
  Result<ApplyReport> r = Status::internal("not applied");
  Status s = engine_.transaction([&]() -> Status {
    r = engine_.apply_remote(ops.value(),
                             std::make_pair(std::string(kCursorSetting), b->next_cursor));
    if (!r.ok()) return r.status();
    for (const ApplyReport::Rejection& rej : r->rejected) {
      Status st =
          engine_.set_setting(kPullRejectedPrefix + rej.op.to_string(), rej.reason.message());
      if (!st.ok()) return st;
    }
    return stamp(kReceivedPrefix, r->changed);
  });
  if (!s.ok()) return s;
  std::vector<std::string>& changed = report_.changed;
  const std::size_t before = changed.size();
  changed.insert(changed.end(), r->changed.begin(), r->changed.end());
  std::inplace_merge(changed.begin(), changed.begin() + static_cast<std::ptrdiff_t>(before),
                     changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  report_.pull_rejected += r->rejected.size();
  report_.pulled += ops->size();
  report_.applied += r->applied;
  cursor_ = b->next_cursor;
  if (options_.progress) options_.progress(progress_now());
  if (b->more) return pull_request();
  if (refill_) {
    if (Status st = engine_.set_setting(kRefillSetting, ""); !st.ok()) return st;
    refill_ = false;
  }
  return after_pull();
}

Result<std::vector<wire::Frame>> DeviceSession::after_pull() {
  state_ = State::kFetching;
  if (Status s = downloader_->prepare(); !s.ok()) return s;
  photos_to_fetch_ = downloader_->queued();
  Result<std::vector<wire::Frame>> get = downloader_->next();
  if (!get.ok() || !downloader_->done()) return get;
  state_ = State::kDone;
  return one(wire::Bye{});
}

Result<std::vector<wire::Frame>> DeviceSession::on_fetched(const wire::Frame& f) {
  Result<std::vector<wire::Frame>> out = downloader_->on_frame(f);
  if (!out.ok()) return out;
  count_photos();
  if (options_.progress) options_.progress(progress_now());
  if (!downloader_->done()) return out;
  state_ = State::kDone;
  out->push_back(wire::encode(wire::Bye{}));
  return out;
}

}  // namespace vs::session
