// The wire format: frames, messages and batches survive their encoding, and every malformed,
// truncated, oversized or random input is a clean kCorrupt, never a crash or a huge allocation.
#include <random>

#include <catch2/catch.hpp>
#include <zstd.h>

#include "support/test_support.h"
#include "wire/batch.h"
#include "wire/frame.h"
#include "wire/messages.h"

using namespace vs;
using namespace vs::wire;

namespace {

Hello hello_from(const std::string& device) {
  Hello h;
  h.device_id = device;
  return h;
}

std::vector<Op> sample_ops() {
  std::vector<Op> ops;
  Attachment photo;
  photo.sha256.fill(7);
  photo.size_bytes = 1234;
  photo.media_type = "image/jpeg";
  const std::vector<Value> values = {Value(),
                                     Value::boolean(true),
                                     Value::boolean(false),
                                     Value::integer(-7),
                                     Value::integer(412),
                                     Value::decimal(1642.9),
                                     Value::decimal(0.1 + 0.2),  // not a short decimal: sent raw
                                     Value::decimal(-3.5e-7),
                                     Value::text("消防通道畅通; fire exit OK"),
                                     Value::date(*parse_date("2026-11-23")),
                                     Value::set({"water", "canteen"}),
                                     Value::gps({39.108551, 112.908342, 8.0}),
                                     Value::gps({-0.0, 0.1 + 0.2, std::nullopt}),
                                     Value::attachment(photo),
                                     Value::choice({2, "d_grade"})};
  for (std::size_t i = 0; i < values.size(); ++i) {
    Op op;
    op.id = OpId{i % 2 == 0 ? "d-I0011-1" : "d-I0021-2", 10 + i};
    op.hlc = make_hlc(1'795'435'200'000 + i * 1000, static_cast<std::uint32_t>(i % 3));
    op.record = "visit/S00011/" + std::to_string(i / 4);
    op.field = "a.item_" + std::to_string(i);
    op.policy = i == 10 ? Policy::kUnion : Policy::kLww;
    op.value = values[i];
    op.context = static_cast<std::uint32_t>(i) | (i == 3 ? 0x80000000u : 0u);
    if (i > 0) op.base = {OpId{"d-I0011-1", 9 + i}, OpId{"hub-1", 3}};
    ops.push_back(op);
  }
  return ops;
}

bool same(const Op& a, const Op& b) {
  std::string va, vb;
  encode_value(a.value, va);
  encode_value(b.value, vb);
  return a.id == b.id && a.hlc == b.hlc && a.record == b.record && a.field == b.field &&
         a.policy == b.policy && va == vb && a.base == b.base && a.context == b.context;
}

}  // namespace

TEST_CASE("a batch of ops survives its encoding byte for byte", "[transport][wire]") {
  const std::vector<Op> ops = sample_ops();
  const std::string bytes = encode_batch(ops);
  Result<std::vector<Op>> back = decode_batch(bytes);
  REQUIRE(back.ok());
  REQUIRE(back->size() == ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    INFO("op " << i);
    CHECK(same(ops[i], back.value()[i]));
  }
  CHECK(decode_batch(encode_batch({}))->empty());
}

TEST_CASE("a batch of the smallest ops there are decodes: nine bytes an op are enough",
          "[transport][wire]") {
  std::vector<Op> ops(20'000);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ops[i].id = OpId{"d-1", 1 + i};
    ops[i].hlc = make_hlc(1'795'435'200'000, 0);
    ops[i].record = "visit/S1/v";
    ops[i].field = "a.f";
  }
  Result<std::vector<Op>> back = decode_batch(encode_batch(ops));
  INFO(back.status().to_string());
  REQUIRE(back.ok());
  REQUIRE(back->size() == ops.size());
  CHECK(same(back->back(), ops.back()));
}

TEST_CASE("a batch holding more ops than its reader takes is refused before they are made",
          "[transport][wire][input]") {
  std::vector<Op> ops(kMaxPushOps + 1);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ops[i].id = OpId{"d-1", 1 + i};
    ops[i].hlc = make_hlc(1'795'435'200'000, 0);
    ops[i].record = "visit/S1/v";
    ops[i].field = "a.f";
  }
  const std::string bytes = encode_batch(ops);
  Result<std::vector<Op>> r = decode_batch(bytes, kMaxPushOps);
  CHECK(r.status().code() == Code::kCorrupt);
  CHECK_THAT(r.status().message(), Catch::Contains("10001 ops, at most 10000"));
  CHECK(decode_batch(bytes).ok());
}

TEST_CASE("every message survives its encoding", "[transport][wire]") {
  Hello h;
  h.device_id = "d-I0011-1";
  h.schema_version = 2;
  h.device_clock = 123;
  h.last_seq = 99;
  h.acked_seq = 97;
  Result<Hello> h2 = decode<Hello>(encode(h));
  REQUIRE(h2.ok());
  CHECK(h2->device_id == "d-I0011-1");
  CHECK(h2->last_seq == 99);
  CHECK(h2->acked_seq == 97);
  // A device of protocol 1 sends no count: its hello decodes, and the hub refuses its version.
  Hello old = h;
  old.protocol_min = old.protocol_max = 1;
  Result<Hello> old2 = decode<Hello>(encode(old));
  REQUIRE(old2.ok());
  CHECK(old2->acked_seq == 0);
  Welcome w;
  w.acked_seq = 97;
  w.rejected = {{98, "not assigned"}};
  Result<Welcome> w2 = decode<Welcome>(encode(w));
  REQUIRE(w2.ok());
  CHECK(w2->rejected == w.rejected);
  PushAck ack;
  ack.acked_seq = 42;
  ack.rejected = {{40, "not assigned"}, {41, "900 is outside 0..150"}};
  Result<PushAck> ack2 = decode<PushAck>(encode(ack));
  REQUIRE(ack2.ok());
  CHECK(ack2->rejected == ack.rejected);
  PullBatch pb;
  pb.batch = encode_batch(sample_ops());
  pb.next_cursor = "p=5;s=g";
  pb.more = true;
  Result<PullBatch> pb2 = decode<PullBatch>(encode(pb));
  REQUIRE(pb2.ok());
  CHECK(pb2->batch == pb.batch);
  CHECK(pb2->more);
  CHECK(decode<Welcome>(encode(Hello{})).status().code() == Code::kCorrupt);  // wrong type
}

TEST_CASE("truncated and oversized frames are refused before anything is buffered",
          "[transport][wire][input]") {
  std::string bytes;
  append_frame(bytes, encode(Hello{}));
  SECTION("a frame header announcing more than the limit") {
    CHECK(body_length(std::string("\x7f\xff\xff\xff", 4)).status().code() == Code::kCorrupt);
    CHECK_THAT(body_length(std::string("\x7f\xff\xff\xff", 4)).status().message(),
               Catch::Contains("at most"));
    CHECK(body_length(std::string("\0\0\0\0", 4)).status().code() == Code::kCorrupt);
    FrameDecoder d;
    CHECK_FALSE(
        d.feed(std::string("\x01\x00\x00\x00", 4)).ok());  // 16 MiB: refused from the header
  }
  SECTION("a message cut anywhere is refused") {
    const Frame f = encode(hello_from("d-I0011-1"));
    for (std::size_t cut = 0; cut < f.payload.size(); ++cut) {
      Frame t{f.type, f.payload.substr(0, cut)};
      INFO("cut at " << cut);
      CHECK(decode<Hello>(t).status().code() == Code::kCorrupt);
    }
    Frame longer{f.type, f.payload + "x"};
    CHECK_THAT(decode<Hello>(longer).status().message(), Catch::Contains("too many"));
  }
  SECTION("a string claiming a huge length allocates nothing of that size") {
    Frame f = encode(Refused{3, "no"});
    // The reason's size tag (8 bytes, little-endian) follows the endianness byte and the code.
    for (int i = 5; i < 13; ++i) f.payload[static_cast<std::size_t>(i)] = '\xff';
    Result<Refused> r = decode<Refused>(f);
    CHECK(r.status().code() == Code::kCorrupt);
    CHECK_THAT(r.status().message(), Catch::Contains("at most"));
  }
  SECTION("the stream decoder splits frames fed byte by byte") {
    std::string two = bytes;
    append_frame(two, encode(Bye{}));
    FrameDecoder d;
    std::vector<Frame> got;
    for (char c : two) {
      REQUIRE(d.feed(std::string(1, c)).ok());
      for (;;) {
        Result<std::optional<Frame>> f = d.next();
        REQUIRE(f.ok());
        if (!f.value()) break;
        got.push_back(*f.value());
      }
    }
    REQUIRE(got.size() == 2);
    CHECK(got[1].type == MsgType::kBye);
  }
  SECTION("an unknown message type") {
    CHECK(frame_from_body(std::string("\x63payload")).status().code() == Code::kCorrupt);
  }
}

TEST_CASE("malformed batches are refused with a reason", "[transport][wire][input]") {
  const std::string good = encode_batch(sample_ops());
  SECTION("every truncation") {
    for (std::size_t cut = 0; cut < good.size(); ++cut) {
      INFO("cut at " << cut);
      CHECK(decode_batch(std::string_view(good).substr(0, cut)).status().code() == Code::kCorrupt);
    }
  }
  SECTION("a declared size above the limit is refused before decompressing") {
    std::string huge = "\x01";
    huge += std::string("\xff\xff\xff\xff\x7f", 5);  // varint: ~34 GB
    huge += good.substr(2);
    Result<std::vector<Op>> r = decode_batch(huge);
    CHECK(r.status().code() == Code::kCorrupt);
    CHECK_THAT(r.status().message(), Catch::Contains("at most"));
  }
  SECTION("a count of ops its bytes cannot hold is refused before any op is made") {
    // Format 1, 500 ops, no names, then 1,000 bytes: an op takes at least 9.
    std::string raw = "\x01";
    raw += std::string("\xf4\x03", 2);
    raw += std::string(3, '\0') + std::string(1000, '\0');
    std::string packed(ZSTD_compressBound(raw.size()), '\0');
    packed.resize(ZSTD_compress(packed.data(), packed.size(), raw.data(), raw.size(), 3));
    const std::string batch = std::string("\x01") + static_cast<char>(0x80 | (raw.size() & 0x7f)) +
                              static_cast<char>(raw.size() >> 7) + packed;
    REQUIRE(raw.size() >> 7 < 0x80);
    Result<std::vector<Op>> r = decode_batch(batch);
    CHECK(r.status().code() == Code::kCorrupt);
    CHECK_THAT(r.status().message(), Catch::Contains("500 ops cannot fit in 1000 bytes"));
  }
  SECTION("a batch whose sets and bases would take far more memory than its bytes") {
    std::vector<Op> ops;
    std::vector<std::string> items;
    for (int i = 0; i < 1000; ++i) items.push_back("o" + std::to_string(i));
    for (std::uint64_t seq = 1; seq <= 500; ++seq) {
      Op op;
      op.id = OpId{"d-1", seq};
      op.hlc = make_hlc(1'795'435'200'000 + seq, 0);
      op.record = "visit/S1/v";
      op.field = "a.f" + std::to_string(seq);
      op.policy = Policy::kUnion;
      op.value = Value::set(items);
      ops.push_back(op);
    }
    Result<std::vector<Op>> r = decode_batch(encode_batch(ops));
    CHECK(r.status().code() == Code::kCorrupt);
    ops.resize(300);  // 300,000 items: within the budget
    CHECK(decode_batch(encode_batch(ops)).ok());
  }
  SECTION("an empty set item") {
    std::vector<Op> one = {sample_ops()[10]};
    one[0].value = Value::set({""});
    CHECK(decode_batch(encode_batch(one)).status().code() == Code::kCorrupt);
  }
  SECTION("an unknown compression") {
    std::string other = good;
    other[0] = '\x09';
    CHECK_THAT(decode_batch(other).status().message(), Catch::Contains("unknown compression"));
  }
}

TEST_CASE("a string longer than the message that holds it is refused", "[transport][wire][input]") {
  PullRequest p;
  p.cursor = std::string(5000, 'c');
  p.max_ops = 7;
  Frame f = encode(p);
  for (std::size_t keep : {f.payload.size() - 1, f.payload.size() / 2, std::size_t{12}}) {
    Frame cut = f;
    cut.payload.resize(keep);
    Result<PullRequest> r = decode<PullRequest>(cut);
    INFO("payload cut to " << keep << " bytes");
    CHECK(r.status().code() == Code::kCorrupt);
  }
  CHECK(decode<PullRequest>(f).value().cursor == p.cursor);
}

TEST_CASE("random bytes never crash a decoder", "[transport][wire][input][property]") {
  std::mt19937_64 rng(test::seed());
  INFO("VS_SEED=" << test::seed());
  const std::string good = encode_batch(sample_ops());
  const Frame hello = encode(hello_from("d-I0011-1"));
  const int rounds = test::property_rounds(3000);
  for (int i = 0; i < rounds; ++i) {
    std::string noise(rng() % 200, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    (void)decode_batch(noise);
    for (auto t : {MsgType::kHello, MsgType::kWelcome, MsgType::kPush, MsgType::kPushAck,
                   MsgType::kPullRequest, MsgType::kPullBatch, MsgType::kRefused}) {
      Frame f{t, noise};
      (void)decode<Hello>(f);
      (void)decode<Welcome>(f);
      (void)decode<Push>(f);
      (void)decode<PushAck>(f);
      (void)decode<PullRequest>(f);
      (void)decode<PullBatch>(f);
      (void)decode<Refused>(f);
    }
    // Flipped bytes in valid input: decode or refuse, never crash.
    std::string flipped = good;
    flipped[rng() % flipped.size()] ^= static_cast<char>(1 + rng() % 255);
    Result<std::vector<Op>> r = decode_batch(flipped);
    if (!r.ok()) CHECK(r.status().code() == Code::kCorrupt);
    Frame h = hello;
    h.payload[rng() % h.payload.size()] ^= static_cast<char>(1 + rng() % 255);
    Result<Hello> hr = decode<Hello>(h);
    if (!hr.ok()) CHECK(hr.status().code() == Code::kCorrupt);
    FrameDecoder d;
    if (d.feed(noise).ok()) {
      for (int k = 0; k < 10; ++k) {
        Result<std::optional<Frame>> f = d.next();
        if (!f.ok() || !f.value()) break;
      }
    }
  }
}

TEST_CASE("a busy reason says when to retry, and only a well-formed one is read back",
          "[transport][wire][input]") {
  CHECK(wire::busy_reason(12) == "busy, retry in 12 s");
  CHECK(wire::busy_reason(0) == "busy, retry in 1 s");  // never "now"
  CHECK(wire::busy_retry_s("busy, retry in 12 s") == 12u);
  CHECK(wire::busy_retry_s("sync failed: the hub is busy, retry in 3 s (nothing is lost)") == 3u);
  for (const char* bad :
       {"", "busy", "busy, retry in ", "busy, retry in s", "busy, retry in 3", "busy, retry in 3s",
        "busy, retry in -3 s", "busy, retry in 99999999999 s"}) {
    INFO(bad);
    CHECK_FALSE(wire::busy_retry_s(bad));
  }
}
