// The sync protocol's messages (schema/PROTOCOL.md). Plain structs; cereal appears only in
// messages.cc. decode() checks every size against a limit before it allocates, and turns any
// malformed, truncated or oversized payload into kCorrupt, never a crash.
//
// Layouts change only with a new protocol version (negotiated in Hello) or a new message type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/photos.h>
#include <visitsync/status.h>

#include "wire/frame.h"

namespace vs::wire {

// 2: the hello carries the device's stored count of acknowledged ops and the welcome the
// reasons for refused ops after it (a lost acknowledgement loses no reason).
// 3: photos travel (PhotoOffer .. PhotoRefused), between the push and the pull.
// 4: devices fetch photos (PhotoGet) after the pull; a photo refusal carries a code.
inline constexpr std::uint32_t kProtocolVersion = 4;
inline constexpr std::size_t kMaxIdBytes = 64;
inline constexpr std::size_t kMaxReasonBytes = 1024;
inline constexpr std::size_t kMaxCursorBytes = std::size_t{64} * 1024;
// The pull cursor of a device that rebuilt a damaged store: its whole scope again, its own ops
// included (schema/PROTOCOL.md, "Cursors").
inline constexpr const char* kRefillCursor = "p=0;s=-;o=1";
inline constexpr std::size_t kMaxRejections = 100'000;
// Ops in one push: with reasons cut to a few hundred bytes, its acknowledgement fits a frame.
inline constexpr std::size_t kMaxPushOps = 10'000;
inline constexpr std::size_t kMaxRecordKeyBytes = 1024;

struct Hello {
  static constexpr MsgType kType = MsgType::kHello;
  std::uint32_t protocol_min = kProtocolVersion;
  std::uint32_t protocol_max = kProtocolVersion;
  std::string device_id;
  std::int32_t schema_version = 0;
  std::uint64_t device_clock = 0;  // the device's wall clock now, as an HLC reading
  std::uint64_t last_seq = 0;      // the highest seq the device has written
  std::uint64_t acked_seq = 0;     // the count of acknowledged ops the device has stored
};

struct Welcome {
  static constexpr MsgType kType = MsgType::kWelcome;
  std::uint32_t protocol = kProtocolVersion;
  std::string hub_id;
  std::uint64_t hub_clock = 0;
  std::int64_t skew_ms = 0;       // the device's clock minus the hub's
  std::uint64_t acked_seq = 0;    // the device's highest seq the hub has handled
  std::uint64_t acked_print = 0;  // the fingerprint of that op, for the device to check (0: none)
  // Reasons for the device's refused ops after the Hello's acked_seq, by seq.
  std::vector<std::pair<std::uint64_t, std::string>> rejected;
};

// The hub's refusal, before it closes the session. code is a vs::Code value.
struct Refused {
  static constexpr MsgType kType = MsgType::kRefused;
  std::int32_t code = 0;
  std::string reason;
};

struct Push {
  static constexpr MsgType kType = MsgType::kPush;
  std::string batch;  // encode_batch()
};

struct PushAck {
  static constexpr MsgType kType = MsgType::kPushAck;
  std::uint64_t acked_seq = 0;
  std::vector<std::pair<std::uint64_t, std::string>> rejected;  // seq, reason
};

struct PullRequest {
  static constexpr MsgType kType = MsgType::kPullRequest;
  std::string cursor;
  std::uint32_t max_ops = 0;
};

struct PullBatch {
  static constexpr MsgType kType = MsgType::kPullBatch;
  std::string batch;  // encode_batch()
  std::string next_cursor;
  bool more = false;
};

struct Bye {
  static constexpr MsgType kType = MsgType::kBye;
};

// Photos (schema/PROTOCOL.md, "Photos"). The sender offers a file that `record` names, with
// the SHA-256 of each of its chunks; the receiver answers with the offset to send from (the
// file's size: it has it all), acknowledges each stored chunk with the bytes it holds, asks
// again from an offset when a chunk fails its check, and refuses a file it will not take. A
// device uploads what its own ops name; it asks for (PhotoGet) what the hub should send it.
struct PhotoOffer {
  static constexpr MsgType kType = MsgType::kPhotoOffer;
  std::string id;
  std::string record;
  std::uint64_t size = 0;
  std::vector<std::string> chunk_sha;  // raw, 32 bytes each; photo_chunk_count(size) of them
};

struct PhotoWant {
  static constexpr MsgType kType = MsgType::kPhotoWant;
  std::string id;
  std::uint64_t offset = 0;
};

struct PhotoChunk {
  static constexpr MsgType kType = MsgType::kPhotoChunk;
  std::string id;
  std::uint64_t offset = 0;
  std::string data;  // at most kPhotoChunkBytes
};

struct PhotoAck {
  static constexpr MsgType kType = MsgType::kPhotoAck;
  std::string id;
  std::uint64_t received = 0;
};

struct PhotoRefused {
  static constexpr MsgType kType = MsgType::kPhotoRefused;
  std::string id;
  std::int32_t code = 0;  // a vs::Code: kUnavailable when it may come later
  std::string reason;
};

struct PhotoGet {
  static constexpr MsgType kType = MsgType::kPhotoGet;
  std::string id;
  std::string record;  // a visit that names it
};

// The reason of a refusal (code kUnavailable) from a hub too loaded to take a session's next
// step: "busy, retry in N s", N whole seconds, at least 1 (schema/PROTOCOL.md).
std::string busy_reason(std::uint32_t retry_s);
// N from such a reason anywhere in `text` (a device's message quotes the hub's reason after its
// own words); nullopt when there is none.
std::optional<std::uint32_t> busy_retry_s(std::string_view text);

template <class M>
Frame encode(const M& m);
template <class M>
Result<M> decode(const Frame& f);

}  // namespace vs::wire
