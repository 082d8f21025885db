#include "wire/frame.h"

namespace vs::wire {

std::string_view msg_type_name(MsgType t) {
  switch (t) {
    case MsgType::kHello:
      return "hello";
    case MsgType::kWelcome:
      return "welcome";
    case MsgType::kRefused:
      return "refused";
    case MsgType::kPush:
      return "push";
    case MsgType::kPushAck:
      return "push-ack";
    case MsgType::kPullRequest:
      return "pull-request";
    case MsgType::kPullBatch:
      return "pull-batch";
    case MsgType::kBye:
      return "bye";
    case MsgType::kPhotoOffer:
      return "photo-offer";
    case MsgType::kPhotoWant:
      return "photo-want";
    case MsgType::kPhotoChunk:
      return "photo-chunk";
    case MsgType::kPhotoAck:
      return "photo-ack";
    case MsgType::kPhotoRefused:
      return "photo-refused";
    case MsgType::kPhotoGet:
      return "photo-get";
  }
  return "unknown";
}

void append_frame(std::string& out, const Frame& f) {
  const auto n = static_cast<std::uint32_t>(f.payload.size() + 1);
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.push_back(static_cast<char>(f.type));
  out.append(f.payload);
}

Result<std::size_t> body_length(std::string_view header) {
  if (header.size() != kFrameHeaderBytes) return Status::corrupt("frame header is not 4 bytes");
  std::uint32_t n = 0;
  for (char c : header) n = (n << 8) | static_cast<unsigned char>(c);
  if (n == 0) return Status::corrupt("empty frame");
  if (n > kMaxFrameBytes) {
    return Status::corrupt("frame of " + std::to_string(n) + " bytes, at most " +
                           std::to_string(kMaxFrameBytes));
  }
  return static_cast<std::size_t>(n);
}

Result<Frame> frame_from_body(std::string_view body) {
  if (body.empty()) return Status::corrupt("empty frame");
  const auto type = static_cast<std::uint8_t>(body[0]);
  if (type < static_cast<std::uint8_t>(MsgType::kHello) ||
      type > static_cast<std::uint8_t>(MsgType::kPhotoGet)) {
    return Status::corrupt("unknown message type " + std::to_string(type));
  }
  return Frame{static_cast<MsgType>(type), std::string(body.substr(1))};
}

Status FrameDecoder::feed(std::string_view bytes) {
  if (!error_.ok()) return error_;
  buf_.append(bytes);
  // Check the next header at once, so that an oversized frame is refused before buffering it.
  if (buf_.size() >= kFrameHeaderBytes) {
    Result<std::size_t> n = body_length(std::string_view(buf_).substr(0, kFrameHeaderBytes));
    if (!n.ok()) error_ = n.status();
  }
  return error_;
}

Result<std::optional<Frame>> FrameDecoder::next() {
  if (!error_.ok()) return error_;
  if (buf_.size() < kFrameHeaderBytes) return std::optional<Frame>();
  Result<std::size_t> n = body_length(std::string_view(buf_).substr(0, kFrameHeaderBytes));
  if (!n.ok()) {
    error_ = n.status();
    return error_;
  }
  if (buf_.size() < kFrameHeaderBytes + n.value()) return std::optional<Frame>();
  Result<Frame> f = frame_from_body(std::string_view(buf_).substr(kFrameHeaderBytes, n.value()));
  buf_.erase(0, kFrameHeaderBytes + n.value());
  if (!f.ok()) {
    error_ = f.status();
    return error_;
  }
  return std::optional<Frame>(std::move(f.value()));
}

}  // namespace vs::wire
