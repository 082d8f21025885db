#include "session/photo_download.h"

#include <set>

#include "wire/messages.h"

namespace vs::session {

Status PhotoDownloader::prepare() {
  if (photos_ == nullptr) return Status();
  intake_.emplace(*photos_);
  std::set<std::string> listed;
  const auto add = [&](std::string id, std::string record) {
    if (!photos_->has(id) && listed.insert(id).second)
      queue_.emplace_back(std::move(id), std::move(record));
  };
  Result<std::vector<std::pair<std::string, std::string>>> asked =
      engine_.settings_with_prefix(kPhotoFetchPrefix);
  if (!asked.ok()) return asked.status();
  for (auto& [name, record] : asked.value())
    if (!record.empty()) add(name.substr(std::string_view(kPhotoFetchPrefix).size()), record);
  Result<std::string> mode = engine_.setting(kPhotoDownloadSetting);
  if (!mode.ok()) return mode.status();
  if (mode.value() != "eager") return Status();
  Result<std::vector<NamedPhoto>> named = named_photos(engine_);
  if (!named.ok()) return named.status();
  for (NamedPhoto& p : named.value()) add(std::move(p.id), std::move(p.record));
  return Status();
}

Result<std::vector<wire::Frame>> PhotoDownloader::next() {
  current_.reset();
  if (queue_.empty()) return std::vector<wire::Frame>{};
  wire::PhotoGet get;
  get.id = std::move(queue_.front().first);
  get.record = std::move(queue_.front().second);
  queue_.pop_front();
  current_ = get.id;
  return std::vector<wire::Frame>{wire::encode(get)};
}

PhotoDownloadStats PhotoDownloader::stats() const {
  PhotoDownloadStats s = stats_;
  if (intake_) s.bytes = intake_->bytes();
  return s;
}

Result<std::vector<wire::Frame>> PhotoDownloader::finish(
    std::vector<wire::Frame> out, const std::optional<std::string>& refused) {
  if (refused) {
    stats_.refused.emplace_back(*current_, *refused);
  } else {
    ++stats_.photos;
  }
  // Whole, or refused for good: no longer asked for.
  if (Status s = engine_.set_setting(kPhotoFetchPrefix + *current_, ""); !s.ok()) return s;
  Result<std::vector<wire::Frame>> more = next();
  if (!more.ok()) return more;
  out.insert(out.end(), more->begin(), more->end());
  return out;
}

Result<std::vector<wire::Frame>> PhotoDownloader::on_offer(const wire::Frame& f) {
  Result<wire::PhotoOffer> offer = wire::decode<wire::PhotoOffer>(f);
  if (!offer.ok()) return offer.status();
  if (offer->id != *current_)
    return Status::corrupt("the hub offered photo " + offer->id + " where " + *current_ +
                           " was asked for");
  if (offer->size == 0 || offer->size > kMaxPhotoBytes ||
      offer->chunk_sha.size() != photo_chunk_count(offer->size))
    return Status::corrupt("the hub offered photo " + offer->id + " of " +
                           std::to_string(offer->size) + " bytes in " +
                           std::to_string(offer->chunk_sha.size()) + " chunks");
  Result<PhotoIntake::Step> step =
      intake_->on_offer(offer->id, PhotoManifest{offer->size, std::move(offer->chunk_sha)});
  if (!step.ok()) return step.status();
  if (step->whole || step->refused) return finish(std::move(step->out), step->refused);
  return std::move(step->out);
}

Result<std::vector<wire::Frame>> PhotoDownloader::on_frame(const wire::Frame& f) {
  if (!current_) {
    return Status::corrupt("a " + std::string(wire::msg_type_name(f.type)) +
                           " message with no photo asked for");
  }
  switch (f.type) {
    case wire::MsgType::kPhotoOffer:
      return on_offer(f);
    case wire::MsgType::kPhotoChunk: {
      Result<PhotoIntake::Step> step = intake_->on_chunk(f);
      if (!step.ok()) return step.status();
      if (step->whole || step->refused) return finish(std::move(step->out), step->refused);
      return std::move(step->out);
    }
    case wire::MsgType::kPhotoRefused: {
      Result<wire::PhotoRefused> no = wire::decode<wire::PhotoRefused>(f);
      if (!no.ok()) return no.status();
      if (no->id != *current_)
        return Status::corrupt("the hub refused photo " + no->id + " where " + *current_ +
                               " was asked for");
      if (no->code == static_cast<std::int32_t>(Code::kUnavailable)) {
        ++stats_.unavailable;  // not there yet: still asked for
        return next();
      }
      return finish({}, no->reason.empty() ? std::string("refused") : no->reason);
    }
    default:
      return Status::corrupt("unexpected " + std::string(wire::msg_type_name(f.type)) +
                             " message during photo downloads");
  }
}

}  // namespace vs::session
