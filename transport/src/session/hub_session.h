// The hub's side of one sync session: checks the hello against the device's certificate and
// enrollment, then answers pushes and pulls from the HubStore until the device says bye.
// Protocol logic only: frames in, frames out, no sockets.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <visitsync/hub_store.h>

#include "session/photo_hub.h"
#include "wire/frame.h"

namespace vs::session {

inline constexpr std::uint32_t kMaxPullOps = 20'000;
// Each reason in a push's acknowledgement holds at most this many bytes: with at most
// kMaxPushOps ops a push, the acknowledgement always fits in one frame.
inline constexpr std::size_t kMaxReasonInAck = 300;

struct HubSessionStats {
  std::string device_id;
  std::uint64_t ops_in = 0;
  std::uint64_t ops_out = 0;
  std::uint64_t rejected = 0;
  std::map<std::string, std::uint64_t> rejections;  // by kind (PushResult::kinds)
  std::int64_t skew_ms = 0;                         // the device's clock minus the hub's
  HubPhotoStats photos;
};

class HubSession {
 public:
  // `peer` is the device id of the client certificate the TLS handshake verified.
  HubSession(HubStore& store, std::string peer, std::string hub_id);

  // Handles one frame from the device; returns the frames to send. After a refusal, a bye or
  // an error the session is finished. Errors: kCorrupt for a protocol violation, kRejected
  // for a refused device (a Refused frame is returned first), others from the store.
  Result<std::vector<wire::Frame>> on_frame(const wire::Frame& f);
  bool finished() const { return finished_; }
  const HubSessionStats& stats() const;
  // The device id once the hello was accepted.
  const std::string& device() const { return device_; }
  // Why the device was refused (OK if it was not).
  const Status& refusal() const { return refusal_; }

 private:
  Result<std::vector<wire::Frame>> on_hello(const wire::Frame& f);
  std::vector<wire::Frame> refuse(const Status& why);

  HubStore& store_;
  std::string peer_;
  std::string hub_id_;
  std::string device_;
  bool finished_ = false;
  Status refusal_;
  mutable HubSessionStats stats_;
  std::optional<HubPhotos> photos_;  // once the hello is accepted
};

}  // namespace vs::session
