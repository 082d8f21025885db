// The two ends of one photo's transfer (schema/PROTOCOL.md, "Photos"), the same whichever way
// it goes: a device uploading to the hub, or the hub sending a device a photo it asked for.
//
// PhotoSender offers a file and sends its chunks over a window: twice what the link holds (the
// rate acknowledgements arrive at, times the quickest one seen) and one more, between
// kMinWindowChunks and kMaxWindowChunks: enough to keep a fast link busy, little to lose when a
// slow one is cut. PhotoIntake answers the offer with the offset to send from (the verified
// chunks already stored, across sessions and restarts) and checks each chunk against the
// offer's manifest before it is synced and acknowledged; a chunk that fails is asked for again,
// at most kMaxChunkRetries times.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <visitsync/photos.h>

#include "wire/frame.h"
#include "wire/messages.h"

namespace vs::session {

inline constexpr std::size_t kMinWindowChunks = 2;
inline constexpr std::size_t kMaxWindowChunks = 64;
inline constexpr int kMaxChunkRetries = 3;

class PhotoSender {
 public:
  explicit PhotoSender(std::size_t start_chunks = kMinWindowChunks);

  // Starts on `id` (its whole `bytes`): the offer to send.
  wire::Frame offer(std::string id, std::string record, std::string bytes);
  // A photo is offered and not yet taken or refused.
  bool busy() const { return current_.has_value(); }
  const std::string& id() const { return current_->id; }

  // A kPhotoWant or kPhotoAck for the photo offered: the chunks to send next. kCorrupt when
  // the answer is not one the offer allows.
  Result<std::vector<wire::Frame>> on_want(std::uint64_t offset);
  Result<std::vector<wire::Frame>> on_ack(std::uint64_t received);
  // The receiver holds the whole file (after on_want or on_ack).
  bool whole() const { return current_ && current_->acked == current_->bytes.size(); }
  // Ends the current photo (taken or refused).
  void end() { current_.reset(); }

  std::size_t window_chunks() const { return window_bytes() / kPhotoChunkBytes; }
  std::uint64_t bytes_sent() const { return bytes_; }     // resent ones included
  std::uint64_t bytes_resent() const { return resent_; }  // sent again after a want

 private:
  std::vector<wire::Frame> fill_window();
  void measure(std::uint64_t received);
  std::uint64_t window_bytes() const;

  struct Current {
    std::string id;
    std::string bytes;
    std::uint64_t acked = 0;  // what the receiver holds
    std::uint64_t sent = 0;   // what has been sent
    std::uint64_t high = 0;   // the most ever sent (resends are sends below it)
  };
  std::optional<Current> current_;
  std::uint64_t bytes_ = 0;
  std::uint64_t resent_ = 0;
  // The link, as the acknowledgements show it (over the session, across photos).
  using Clock = std::chrono::steady_clock;
  std::map<std::uint64_t, Clock::time_point> sent_at_;  // a chunk's end offset -> when it went
  std::optional<Clock::time_point> first_send_;
  std::uint64_t acked_bytes_ = 0;            // acknowledged in this session
  std::optional<Clock::duration> quickest_;  // from a chunk's send to its acknowledgement
  std::uint64_t start_chunks_;               // until this session has measured
};

// The refusal of photo `id`: its code and reason.
wire::PhotoRefused refusal(std::string id, const Status& why);

class PhotoIntake {
 public:
  explicit PhotoIntake(PhotoStore& store) : store_(store) {}

  // What an answer to a frame is: frames to send, and whether the photo is now whole here or
  // was given up (`refused`, with the reason the frames carry to the sender).
  struct Step {
    std::vector<wire::Frame> out;
    bool whole = false;    // the file is whole here
    bool arrived = false;  // and this chunk made it so
    std::optional<std::string> refused;
  };
  // An offer whose id, size and manifest the caller has checked and authorized: the offset to
  // send from (the whole size when the file is here).
  Result<Step> on_offer(const std::string& id, PhotoManifest manifest);
  // A chunk: acknowledged once stored; one that is not the manifest's is asked for again.
  // Chunks of no photo under way (or before the offset asked) are dropped.
  Result<Step> on_chunk(const wire::Frame& f);
  // Refuses the photo under way (or `id`): the frame that tells the sender.
  Step refuse(std::string id, const Status& why);
  bool busy() const { return current_.has_value(); }

  std::uint64_t bytes() const { return bytes_; }            // chunk bytes stored
  std::uint64_t bad_chunks() const { return bad_chunks_; }  // that failed their check

 private:
  Step want(std::uint64_t offset);

  PhotoStore& store_;
  struct Current {
    std::string id;
    PhotoManifest manifest;
    std::uint64_t received = 0;
    int retries = 0;  // of the chunk at `received`
  };
  std::optional<Current> current_;
  std::uint64_t bytes_ = 0;
  std::uint64_t bad_chunks_ = 0;
};

}  // namespace vs::session
