// Frames: how messages travel on a byte stream. A frame is a 4-byte big-endian length, then
// that many bytes: one type byte and the message's payload. Limits are checked from the
// header alone, before anything is buffered: a peer can never make us allocate more than
// kMaxFrameBytes for one frame.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <visitsync/status.h>

namespace vs::wire {

inline constexpr std::size_t kFrameHeaderBytes = 4;
inline constexpr std::size_t kMaxFrameBytes = 8u << 20;  // type byte + payload

// Message types. Values are on the wire: only ever append.
enum class MsgType : std::uint8_t {
  kHello = 1,
  kWelcome = 2,
  kRefused = 3,
  kPush = 4,
  kPushAck = 5,
  kPullRequest = 6,
  kPullBatch = 7,
  kBye = 8,
  kPhotoOffer = 9,
  kPhotoWant = 10,
  kPhotoChunk = 11,
  kPhotoAck = 12,
  kPhotoRefused = 13,
  kPhotoGet = 14,
};
std::string_view msg_type_name(MsgType t);

struct Frame {
  MsgType type = MsgType::kBye;
  std::string payload;
};

// Appends the frame's bytes. Requires: payload.size() + 1 <= kMaxFrameBytes.
void append_frame(std::string& out, const Frame& f);

// The body length a header announces, checked: kCorrupt for zero or above kMaxFrameBytes.
Result<std::size_t> body_length(std::string_view header);
// A frame from its body (type byte + payload): kCorrupt for an unknown type.
Result<Frame> frame_from_body(std::string_view body);

// Splits a byte stream into frames, for callers that receive arbitrary chunks (tests, proxies).
class FrameDecoder {
 public:
  // Takes more bytes. After an error the decoder stays failed.
  Status feed(std::string_view bytes);
  // The next complete frame, if any.
  Result<std::optional<Frame>> next();

 private:
  std::string buf_;
  Status error_;
};

}  // namespace vs::wire
