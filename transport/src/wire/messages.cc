#include "wire/messages.h"

#include <algorithm>
#include <charconv>
#include <istream>
#include <sstream>
#include <streambuf>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/cereal.hpp>

namespace vs::wire {
namespace {

// A string whose decoded size is checked against `max` before any allocation.
struct Bounded {
  std::string* s;
  std::size_t max;
};

template <class Archive>
void save(Archive& ar, const Bounded& b) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(b.s->size())));
  ar(cereal::binary_data(b.s->data(), b.s->size()));
}

template <class Archive>
void load(Archive& ar, Bounded& b) {
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  if (n > b.max) {
    throw cereal::Exception("a string of " + std::to_string(n) + " bytes, at most " +
                            std::to_string(b.max));
  }
  // Read a piece at a time: a length that claims more than the message holds fails at the end
  // of the input, having allocated only what was there.
  constexpr std::size_t kPiece = 64u << 10;
  b.s->clear();
  for (std::size_t at = 0; at < n; at += kPiece) {
    const std::size_t piece = std::min<std::size_t>(kPiece, static_cast<std::size_t>(n) - at);
    b.s->resize(at + piece);
    ar(cereal::binary_data(b.s->data() + at, piece));
  }
}

// The rejections of an ack, with their count checked before the vector grows.
struct BoundedRejections {
  std::vector<std::pair<std::uint64_t, std::string>>* v;
};

template <class Archive>
void save(Archive& ar, const BoundedRejections& b) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(b.v->size())));
  for (auto& [seq, reason] : *b.v) ar(seq, Bounded{&reason, kMaxReasonBytes});
}

template <class Archive>
void load(Archive& ar, BoundedRejections& b) {
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  if (n > kMaxRejections) throw cereal::Exception("too many rejections: " + std::to_string(n));
  b.v->clear();
  for (cereal::size_type i = 0; i < n; ++i) {
    std::pair<std::uint64_t, std::string> r;
    ar(r.first, Bounded{&r.second, kMaxReasonBytes});
    b.v->push_back(std::move(r));
  }
}

}  // namespace

// Found by cereal through argument-dependent lookup: in the messages' own namespace.
template <class Archive>
void serialize(Archive& ar, Hello& m) {
  ar(m.protocol_min, m.protocol_max, Bounded{&m.device_id, kMaxIdBytes}, m.schema_version,
     m.device_clock, m.last_seq);
  // A device of protocol 1 ends here; the hub then refuses it by version, not as malformed.
  if (m.protocol_max >= 2) ar(m.acked_seq);
}
template <class Archive>
void serialize(Archive& ar, Welcome& m) {
  ar(m.protocol, Bounded{&m.hub_id, kMaxIdBytes}, m.hub_clock, m.skew_ms, m.acked_seq,
     m.acked_print, BoundedRejections{&m.rejected});
}
template <class Archive>
void serialize(Archive& ar, Refused& m) {
  ar(m.code, Bounded{&m.reason, kMaxReasonBytes});
}
template <class Archive>
void serialize(Archive& ar, Push& m) {
  ar(Bounded{&m.batch, kMaxFrameBytes});
}
template <class Archive>
void serialize(Archive& ar, PushAck& m) {
  ar(m.acked_seq, BoundedRejections{&m.rejected});
}
template <class Archive>
void serialize(Archive& ar, PullRequest& m) {
  ar(Bounded{&m.cursor, kMaxCursorBytes}, m.max_ops);
}
template <class Archive>
void serialize(Archive& ar, PullBatch& m) {
  // A bool travels as a byte that must be 0 or 1 (reading any byte into a bool is undefined).
  std::uint8_t more = m.more ? 1 : 0;
  ar(Bounded{&m.batch, kMaxFrameBytes}, Bounded{&m.next_cursor, kMaxCursorBytes}, more);
  if constexpr (Archive::is_loading::value) {
    if (more > 1) throw cereal::Exception("'more' is neither 0 nor 1");
    m.more = more == 1;
  }
}
template <class Archive>
void serialize(Archive&, Bye&) {}
template <class Archive>
void serialize(Archive& ar, PhotoOffer& m) {
  ar(Bounded{&m.id, kMaxIdBytes}, Bounded{&m.record, kMaxRecordKeyBytes}, m.size);
  cereal::size_type n = m.chunk_sha.size();
  ar(cereal::make_size_tag(n));
  if (n > photo_chunk_count(kMaxPhotoBytes))
    throw cereal::Exception("a manifest of " + std::to_string(n) + " chunks");
  m.chunk_sha.resize(static_cast<std::size_t>(n));
  for (std::string& sha : m.chunk_sha) {
    ar(Bounded{&sha, 32});
    if (sha.size() != 32)
      throw cereal::Exception("a chunk SHA-256 of " + std::to_string(sha.size()) + " bytes");
  }
}
template <class Archive>
void serialize(Archive& ar, PhotoWant& m) {
  ar(Bounded{&m.id, kMaxIdBytes}, m.offset);
}
template <class Archive>
void serialize(Archive& ar, PhotoChunk& m) {
  ar(Bounded{&m.id, kMaxIdBytes}, m.offset, Bounded{&m.data, kPhotoChunkBytes});
}
template <class Archive>
void serialize(Archive& ar, PhotoAck& m) {
  ar(Bounded{&m.id, kMaxIdBytes}, m.received);
}
template <class Archive>
void serialize(Archive& ar, PhotoRefused& m) {
  ar(Bounded{&m.id, kMaxIdBytes}, m.code, Bounded{&m.reason, kMaxReasonBytes});
}
template <class Archive>
void serialize(Archive& ar, PhotoGet& m) {
  ar(Bounded{&m.id, kMaxIdBytes}, Bounded{&m.record, kMaxRecordKeyBytes});
}

namespace {

// Reads from bytes in place.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view v) {
    char* p = const_cast<char*>(v.data());
    setg(p, p, p + v.size());
  }
  std::size_t left() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

}  // namespace

template <class M>
Frame encode(const M& m) {
  std::ostringstream os(std::ios::binary);
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(const_cast<M&>(m));
  }
  return Frame{M::kType, std::move(os).str()};
}

template <class M>
Result<M> decode(const Frame& f) {
  const std::string what(msg_type_name(M::kType));
  if (f.type != M::kType) {
    return Status::corrupt("expected a " + what + " message, got " +
                           std::string(msg_type_name(f.type)));
  }
  ViewBuf buf(f.payload);
  std::istream is(&buf);
  M m;
  try {
    cereal::PortableBinaryInputArchive ar(is);
    ar(m);
  } catch (const std::exception& e) {
    return Status::corrupt("malformed " + what + " message: " + e.what());
  }
  if (buf.left() != 0)
    return Status::corrupt("malformed " + what + " message: " + std::to_string(buf.left()) +
                           " bytes too many");
  return m;
}

#define VS_WIRE_MESSAGE(M)            \
  template Frame encode<M>(const M&); \
  template Result<M> decode<M>(const Frame&);
VS_WIRE_MESSAGE(Hello)
VS_WIRE_MESSAGE(Welcome)
VS_WIRE_MESSAGE(Refused)
VS_WIRE_MESSAGE(Push)
VS_WIRE_MESSAGE(PushAck)
VS_WIRE_MESSAGE(PullRequest)
VS_WIRE_MESSAGE(PullBatch)
VS_WIRE_MESSAGE(Bye)
VS_WIRE_MESSAGE(PhotoOffer)
VS_WIRE_MESSAGE(PhotoWant)
VS_WIRE_MESSAGE(PhotoChunk)
VS_WIRE_MESSAGE(PhotoAck)
VS_WIRE_MESSAGE(PhotoRefused)
VS_WIRE_MESSAGE(PhotoGet)
#undef VS_WIRE_MESSAGE

namespace {
constexpr std::string_view kBusyPrefix = "busy, retry in ";
}  // namespace

std::string busy_reason(std::uint32_t retry_s) {
  return std::string(kBusyPrefix) + std::to_string(std::max<std::uint32_t>(retry_s, 1)) + " s";
}

std::optional<std::uint32_t> busy_retry_s(std::string_view text) {
  const std::size_t at = text.find(kBusyPrefix);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = text.substr(at + kBusyPrefix.size());
  std::uint32_t n = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  const std::size_t digits = static_cast<std::size_t>(end - rest.data());
  if (ec != std::errc() || digits == 0 || rest.substr(digits, 2) != " s") return std::nullopt;
  return n;
}

}  // namespace vs::wire
