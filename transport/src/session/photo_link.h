// The two ends of photo transfers (schema/PROTOCOL.md, "Photos"), the same whichever way they
// go: a device uploading to the hub, or the hub sending a device a photo it asked for.
//
// PhotoSender offers files and sends their chunks over one window: what the link holds (the
// rate acknowledgements arrive at in a train, times the quickest one seen) and one chunk more,
// between kMinWindowChunks and kMaxWindowChunks: enough to keep a link busy, little more to
// lose when it is cut (what is queued beyond it would be). The next photo is offered as soon as
// every photo offered has been answered, so its chunks follow the last one's with no round
// trip between them: at most kMaxPhotosInFlight are offered and not yet taken.
//
// PhotoIntake answers each offer with the offset to send from (the verified chunks already
// stored, across sessions and restarts) and checks each chunk against the offer's manifest
// before it is synced and acknowledged; a chunk that fails is asked for again, at most
// kMaxChunkRetries times.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/photos.h>

#include "wire/frame.h"
#include "wire/messages.h"

namespace vs::session {

inline constexpr std::size_t kMinWindowChunks = 2;
inline constexpr std::size_t kMaxWindowChunks = 64;
inline constexpr int kMaxChunkRetries = 3;
inline constexpr std::size_t kMaxPhotosInFlight = 2;

class PhotoSender {
 public:
  explicit PhotoSender(std::size_t start_chunks = kMinWindowChunks);

  // Offers `id` (its whole `bytes`, named by `record`): the offer to send.
  wire::Frame offer(std::string id, std::string record, std::string bytes);
  // Another photo may be offered now: every one offered has been answered, and fewer than
  // kMaxPhotosInFlight are under way.
  bool may_offer() const;
  // Some photo is offered and not yet taken or given up.
  bool busy() const { return !flights_.empty(); }
  bool sending(const std::string& id) const { return find(id) != nullptr; }

  // A kPhotoWant or kPhotoAck for photo `id`: the chunks to send next. kCorrupt when the
  // answer is not one the offers allow.
  Result<std::vector<wire::Frame>> on_want(const std::string& id, std::uint64_t offset);
  Result<std::vector<wire::Frame>> on_ack(const std::string& id, std::uint64_t received);
  // Ends photo `id` (the receiver refused it).
  void end(const std::string& id);

  // What became of photos since the last call: taken whole (true: by this session's chunks;
  // false: the receiver had it), and given up for this session (id, record: the receiver went
  // back to an earlier chunk of a photo after the next one was offered; offer it again).
  std::vector<std::pair<std::string, bool>> take_finished();
  std::vector<std::pair<std::string, std::string>> take_given_up();

  std::size_t window_chunks() const { return window_bytes() / kPhotoChunkBytes; }
  std::uint64_t bytes_sent() const { return bytes_; }     // resent ones included
  std::uint64_t bytes_resent() const { return resent_; }  // sent again after a want

 private:
  using Clock = std::chrono::steady_clock;
  struct Flight {
    std::string id;
    std::string record;
    std::string bytes;
    bool answered = false;    // the receiver said where to start
    std::uint64_t acked = 0;  // what the receiver holds
    std::uint64_t sent = 0;   // what has been sent
    std::uint64_t high = 0;   // the most ever sent (resends are sends below it)
    std::map<std::uint64_t, Clock::time_point> sent_at;  // a chunk's end offset -> when it went
  };
  Flight* find(const std::string& id);
  const Flight* find(const std::string& id) const;
  Status unknown(const char* what, const std::string& id) const;
  void finish(const std::string& id, bool by_chunks);
  std::vector<wire::Frame> fill_window();
  void measure(Flight& f, std::uint64_t received);
  std::uint64_t window_bytes() const;

  std::deque<Flight> flights_;  // in the order offered
  std::vector<std::pair<std::string, bool>> finished_;
  std::vector<std::pair<std::string, std::string>> given_up_;
  std::uint64_t bytes_ = 0;
  std::uint64_t resent_ = 0;
  // The link, as the acknowledgements show it (over the session, across photos).
  static constexpr std::size_t kTrain = 4;         // acknowledgements a rate sample spans
  static constexpr std::size_t kRateSamples = 16;  // the recent samples whose best counts
  std::optional<Clock::time_point> first_send_;
  std::uint64_t acked_bytes_ = 0;            // acknowledged in this session
  std::optional<Clock::duration> quickest_;  // from a chunk's send to its acknowledgement
  std::deque<std::pair<Clock::time_point, std::uint64_t>> acks_;  // the last few: when, total
  std::deque<double> rates_;                                      // bytes a second
  std::uint64_t start_chunks_;                                    // until this session has measured
};

// The refusal of photo `id`: its code and reason.
wire::PhotoRefused refusal(std::string id, const Status& why);

class PhotoIntake {
 public:
  explicit PhotoIntake(PhotoStore& store) : store_(store) {}

  // What an answer to a frame is: frames to send, and what became of photo `id`: whole here
  // (`arrived` when this chunk made it so) or given up (`refused`, with the reason the frames
  // carry to the sender).
  struct Step {
    std::vector<wire::Frame> out;
    std::string id;
    bool whole = false;
    bool arrived = false;
    std::optional<std::string> refused;
  };
  // An offer whose id, size and manifest the caller has checked and authorized: the offset to
  // send from (the whole size when the file is here). At most kMaxPhotosInFlight photos are
  // received at once: an offer beyond them drops the oldest (its chunks so far stay stored).
  Result<Step> on_offer(const std::string& id, PhotoManifest manifest);
  // A chunk: acknowledged once stored; one that is not the manifest's is asked for again.
  // Chunks of no photo under way (or before the offset asked) are dropped.
  Result<Step> on_chunk(const wire::Frame& f);
  // Refuses photo `id` (under way or not): the frame that tells the sender.
  Step refuse(std::string id, const Status& why);
  bool busy() const { return !uploads_.empty(); }

  std::uint64_t bytes() const { return bytes_; }            // chunk bytes stored
  std::uint64_t bad_chunks() const { return bad_chunks_; }  // that failed their check

 private:
  struct Upload {
    std::string id;
    PhotoManifest manifest;
    std::uint64_t received = 0;
    int retries = 0;  // of the chunk at `received`
  };
  Step want(std::deque<Upload>::iterator u, std::uint64_t offset);

  PhotoStore& store_;
  std::deque<Upload> uploads_;  // in the order offered
  std::uint64_t bytes_ = 0;
  std::uint64_t bad_chunks_ = 0;
};

}  // namespace vs::session
