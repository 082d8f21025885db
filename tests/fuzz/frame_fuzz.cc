// libFuzzer target: a byte stream from a peer, split into frames by wire::FrameDecoder (fed in
// chunks whose sizes the input's first byte picks) and each frame decoded as every message
// type, as both sides of a session would; a push's or pull's batch goes on to the batch
// decoder. Nothing may crash, and every refusal must be a Status with a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "wire/batch.h"
#include "wire/frame.h"
#include "wire/messages.h"

namespace {

using namespace vs;

template <class M>
void try_decode(const wire::Frame& f) {
  Result<M> m = wire::decode<M>(f);
  vs::fuzz::refused_with_reason(m.status());
}

void decode_all(const wire::Frame& f) {
  try_decode<wire::Hello>(f);
  try_decode<wire::Welcome>(f);
  try_decode<wire::Refused>(f);
  try_decode<wire::PushAck>(f);
  try_decode<wire::PullRequest>(f);
  try_decode<wire::Bye>(f);
  try_decode<wire::PhotoOffer>(f);
  try_decode<wire::PhotoWant>(f);
  try_decode<wire::PhotoChunk>(f);
  try_decode<wire::PhotoAck>(f);
  try_decode<wire::PhotoRefused>(f);
  try_decode<wire::PhotoGet>(f);
  if (Result<wire::Push> p = wire::decode<wire::Push>(f); p.ok())
    vs::fuzz::refused_with_reason(wire::decode_batch(p->batch).status());
  if (Result<wire::PullBatch> b = wire::decode<wire::PullBatch>(f); b.ok())
    vs::fuzz::refused_with_reason(wire::decode_batch(b->batch).status());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  wire::FrameDecoder decoder;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    if (!decoder.feed(bytes.substr(at, chunk)).ok()) return 0;
    for (;;) {
      Result<std::optional<wire::Frame>> f = decoder.next();
      if (!f.ok()) {
        vs::fuzz::refused_with_reason(f.status());
        return 0;
      }
      if (!f.value()) break;
      decode_all(*f.value());
    }
  }
  return 0;
}
