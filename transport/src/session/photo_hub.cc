#include "session/photo_hub.h"

#include "wire/messages.h"

namespace vs::session {

HubPhotoStats HubPhotos::stats() const {
  HubPhotoStats s = stats_;
  s.bytes_in = intake_.bytes();
  s.bad_chunks = intake_.bad_chunks();
  s.bytes_out = sender_.bytes_sent();
  return s;
}

std::vector<wire::Frame> HubPhotos::refuse(const std::string& id, const Status& why) {
  ++stats_.refused;
  return {wire::encode(refusal(id, why))};
}

Result<std::vector<wire::Frame>> HubPhotos::on_frame(const wire::Frame& f) {
  switch (f.type) {
    case wire::MsgType::kPhotoOffer:
      return on_offer(f);
    case wire::MsgType::kPhotoChunk:
      return on_chunk(f);
    case wire::MsgType::kPhotoGet:
      return on_get(f);
    case wire::MsgType::kPhotoWant: {
      Result<wire::PhotoWant> w = wire::decode<wire::PhotoWant>(f);
      if (!w.ok()) return w.status();
      return sent(sender_.on_want(w->id, w->offset));
    }
    case wire::MsgType::kPhotoAck: {
      Result<wire::PhotoAck> a = wire::decode<wire::PhotoAck>(f);
      if (!a.ok()) return a.status();
      return sent(sender_.on_ack(a->id, a->received));
    }
    case wire::MsgType::kPhotoRefused: {
      // The device gave up on the photo it was sent (it failed its checks there).
      Result<wire::PhotoRefused> r = wire::decode<wire::PhotoRefused>(f);
      if (!r.ok()) return r.status();
      sender_.end(r->id);
      return std::vector<wire::Frame>{};
    }
    default:
      return Status::corrupt("unexpected " + std::string(wire::msg_type_name(f.type)) + " message");
  }
}

Result<std::vector<wire::Frame>> HubPhotos::on_offer(const wire::Frame& f) {
  Result<wire::PhotoOffer> offer = wire::decode<wire::PhotoOffer>(f);
  if (!offer.ok()) return offer.status();
  const std::string& id = offer->id;
  if (!is_photo_id(id)) return Status::corrupt("a photo offer for '" + id + "', not a photo id");
  if (offer->size == 0 || offer->size > kMaxPhotoBytes) {
    return refuse(
        id, Status::rejected("photo " + id + ": " + std::to_string(offer->size) +
                             " bytes, at most " + std::to_string(kMaxPhotoBytes) + " allowed"));
  }
  if (offer->chunk_sha.size() != photo_chunk_count(offer->size)) {
    return Status::corrupt("a photo offer of " + std::to_string(offer->size) + " bytes in " +
                           std::to_string(offer->chunk_sha.size()) + " chunks");
  }
  Status may = store_.may_upload_photo(device_, offer->record, id, offer->size);
  if (may.code() == Code::kRejected) return refuse(id, may);
  if (!may.ok()) return may;
  Result<PhotoIntake::Step> step =
      intake_.on_offer(id, PhotoManifest{offer->size, std::move(offer->chunk_sha)});
  if (!step.ok()) return step.status();
  if (step->refused) ++stats_.refused;
  return std::move(step->out);
}

Result<std::vector<wire::Frame>> HubPhotos::on_chunk(const wire::Frame& f) {
  Result<PhotoIntake::Step> step = intake_.on_chunk(f);
  if (!step.ok()) return step.status();
  if (step->refused) ++stats_.refused;
  if (step->arrived) {
    Result<std::uint64_t> size = store_.photos().size(step->id);
    if (!size.ok()) return size.status();
    if (Status s = store_.photo_arrived(device_, step->id, size.value()); !s.ok()) return s;
    ++stats_.photos_in;
  }
  return std::move(step->out);
}

Result<std::vector<wire::Frame>> HubPhotos::on_get(const wire::Frame& f) {
  Result<wire::PhotoGet> get = wire::decode<wire::PhotoGet>(f);
  if (!get.ok()) return get.status();
  if (sender_.busy())
    return Status::corrupt("a request for photo " + get->id + " while another is being sent");
  Status may = store_.may_fetch_photo(device_, get->record, get->id);
  if (may.code() == Code::kRejected || may.code() == Code::kUnavailable)
    return refuse(get->id, may);
  if (!may.ok()) return may;
  Result<std::string> bytes = store_.photos().read_all(get->id);
  if (!bytes.ok()) return bytes.status();
  return std::vector<wire::Frame>{
      sender_.offer(std::move(get->id), std::move(get->record), std::move(bytes.value()))};
}

Result<std::vector<wire::Frame>> HubPhotos::sent(Result<std::vector<wire::Frame>> out) {
  stats_.photos_out += sender_.take_finished().size();
  sender_.take_given_up();  // one photo at a time: never given up
  return out;
}

}  // namespace vs::session
