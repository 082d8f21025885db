// Photos over real TLS on 127.0.0.1 (schema/PROTOCOL.md, "Photos"): the files a device's ops
// name reach the hub whole and once (the same photo in two visits, and on two devices, is sent
// once); an upload cut at 50 random byte offsets completes with identical bytes; and, by hand,
// the hub refuses a photo no op names, a file that is no image, one over the size limit, and
// asks again for a chunk that fails its check.
#include <map>
#include <random>

#include <catch2/catch.hpp>

#include <visitsync/photos.h>

#include "hub_fixture.h"
#include "live_hub.h"
#include "support/fault_proxy.h"

using namespace vs;

namespace {

// A device in the field that has pulled its reference data, with a visit of the shared school.
struct Field {
  test::TestDevice d;
  std::string visit;
};

Field ready(test::LiveHub& hub, const std::string& who) {
  Field i{hub.enrolled(who), {}};
  REQUIRE(hub.sync(i.d).ok());
  Result<std::string> v = i.d.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(v.ok());
  i.visit = v.value();
  return i;
}

// Stores `bytes` as a photo file on the device and names it (with `others`) in an answer.
std::string attach(Field& i, const std::string& bytes, const std::string& visit,
                   const std::string& others = "") {
  const std::string file = i.d.in->data_dir() + "/camera.jpg";
  std::FILE* f = std::fopen(file.c_str(), "wb");
  REQUIRE(f != nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  Result<std::string> id = i.d.in->add_attachment(file);
  REQUIRE(id.ok());
  REQUIRE(i.d.in
              ->set_answer(visit, "buildings_photo",
                           others.empty() ? id.value() : others + "," + id.value())
              .ok());
  return id.value();
}

std::string record_of(Field& i) {
  return "visit/" + std::string(test::kSharedSchool) + "/" + i.visit;
}

}  // namespace

TEST_CASE("photos a device's ops name reach the hub whole, and the same photo travels once",
          "[transport][photos]") {
  test::LiveHub hub;
  Field a = ready(hub, "I0011");
  const std::string wall = test::fake_jpeg(300'000, 1);
  const std::string kitchen = test::fake_jpeg(150'000, 2);
  const std::string wall_id = attach(a, wall, a.visit);
  // A second visit names the same photo and another.
  Result<std::string> second = a.d.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(second.ok());
  const std::string kitchen_id = attach(a, kitchen, second.value(), wall_id);

  Result<SyncReport> r = hub.sync(a.d);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  CHECK(r->photos_sent == 2);
  CHECK(r->photo_bytes_sent == wall.size() + kitchen.size());  // each once
  CHECK(r->photo_bytes_resent == 0);
  REQUIRE(hub.store->photos().has(wall_id));
  CHECK(hub.store->photos().read_all(wall_id).value() == wall);
  CHECK(hub.store->photos().read_all(kitchen_id).value() == kitchen);

  // Nothing again on the next sync, nor from a second device with the same photo.
  Result<SyncReport> again = hub.sync(a.d);
  REQUIRE(again.ok());
  CHECK(again->photo_bytes_sent == 0);
  Field b = ready(hub, "I0021");
  attach(b, wall, b.visit);
  Result<SyncReport> other = hub.sync(b.d);
  REQUIRE(other.ok());
  CHECK(other->photos_sent == 0);
  CHECK(other->photo_bytes_sent == 0);
}

TEST_CASE("photo uploads cut at 50 random byte offsets complete with identical bytes",
          "[transport][photos]") {
  test::LiveHub hub;
  Field a = ready(hub, "I0011");
  test::FaultProxy proxy(hub.server->port());
  const std::uint64_t seed = test::seed();
  INFO("VS_SEED=" << seed);
  std::mt19937_64 rng(seed);
  std::map<std::string, std::string> photos;  // id -> bytes, every one attached
  std::string pending;                        // the newest, while the hub lacks it
  // Until 50 sessions were cut (a session that ends below its cut point is not cut).
  for (int attempt = 0; proxy.cuts() < 50 && attempt < 200; ++attempt) {
    if (pending.empty() || hub.store->photos().has(pending)) {
      // Each photo on a visit of its own (an item holds at most 10).
      Result<std::string> visit = a.d.in->start_visit(test::kSharedSchool, "school-conditions");
      REQUIRE(visit.ok());
      const std::string bytes = test::fake_jpeg(300'000 + rng() % 400'000, rng());
      pending = attach(a, bytes, visit.value());
      photos[pending] = bytes;
    }
    // Anywhere in the session: the handshake, the push, an offer, any chunk.
    proxy.cut_next_after_bytes(1 + rng() % 250'000);
    Result<SyncReport> r = hub.sync(a.d, proxy.port());
    if (!r.ok()) CHECK(r.status().code() == Code::kUnavailable);
  }
  CHECK(proxy.cuts() == 50);
  Result<SyncReport> last = hub.sync(a.d, proxy.port());
  REQUIRE(last.ok());
  for (const auto& [id, bytes] : photos) {
    REQUIRE(hub.store->photos().has(id));
    CHECK(hub.store->photos().read_all(id).value() == bytes);
  }
  CHECK(photos.size() >= 2);
  std::printf("photo uploads: 50 cuts, %zu photos arrived whole\n", photos.size());
}

TEST_CASE(
    "the hub refuses photos no op names, non-images and oversized files, and asks again "
    "for a chunk that fails its check",
    "[transport][photos]") {
  test::LiveHub hub;
  Field a = ready(hub, "I0011");
  // The device's op names a photo whose file it does not hold: it sends nothing by itself.
  const std::string photo = test::fake_jpeg(2 * kPhotoChunkBytes + 5, 4);
  const std::string id = sha256_hex(photo);
  const std::string gif = "GIF89a" + std::string(500, 'g');
  const std::string gif_id = sha256_hex(gif);
  REQUIRE(a.d.in->set_answer(a.visit, "buildings_photo", id + "," + gif_id).ok());
  Result<SyncReport> pushed = hub.sync(a.d);
  REQUIRE(pushed.ok());
  CHECK(pushed->photos_sent == 0);

  test::RawClient raw(a.d.enrollment);
  REQUIRE(!raw.connect(hub.server->port()));
  raw.hello(a.d.enrollment, a.d.engine().stats()->last_own_seq);
  const auto offer = [&](const std::string& oid, const std::string& bytes,
                         const std::string& record) {
    const PhotoManifest m = manifest_of(bytes);
    wire::PhotoOffer o;
    o.id = oid;
    o.record = record;
    o.size = m.size;
    o.chunk_sha = m.chunk_sha;
    raw.send(wire::encode(o));
    Result<wire::Frame> answer = raw.receive();
    REQUIRE(answer.ok());
    return answer.value();
  };
  const auto send_chunk = [&](const std::string& oid, std::uint64_t offset, std::string data) {
    wire::PhotoChunk c;
    c.id = oid;
    c.offset = offset;
    c.data = std::move(data);
    raw.send(wire::encode(c));
    Result<wire::Frame> answer = raw.receive();
    REQUIRE(answer.ok());
    return answer.value();
  };

  // A photo no op of this device names (another id on the same visit) is refused.
  const std::string stray = test::fake_jpeg(1000, 5);
  const wire::Frame no = offer(sha256_hex(stray), stray, record_of(a));
  REQUIRE(no.type == wire::MsgType::kPhotoRefused);
  CHECK_THAT(wire::decode<wire::PhotoRefused>(no)->reason, Catch::Contains("no op of this device"));

  // The named one: a chunk with a flipped byte is asked for again, then the good ones go in.
  wire::Frame want = offer(id, photo, record_of(a));
  REQUIRE(want.type == wire::MsgType::kPhotoWant);
  CHECK(wire::decode<wire::PhotoWant>(want)->offset == 0);
  std::string bad = photo.substr(0, kPhotoChunkBytes);
  bad[7] ^= 0x40;
  wire::Frame again = send_chunk(id, 0, bad);
  REQUIRE(again.type == wire::MsgType::kPhotoWant);
  CHECK(wire::decode<wire::PhotoWant>(again)->offset == 0);
  for (std::uint64_t at = 0; at < photo.size(); at += kPhotoChunkBytes) {
    const wire::Frame ack = send_chunk(id, at, photo.substr(at, kPhotoChunkBytes));
    REQUIRE(ack.type == wire::MsgType::kPhotoAck);
    CHECK(wire::decode<wire::PhotoAck>(ack)->received ==
          std::min<std::uint64_t>(at + kPhotoChunkBytes, photo.size()));
  }
  CHECK(hub.store->photos().read_all(id).value() == photo);

  // Too big, refused at the offer; a named file that is no image, refused at its first chunk.
  const wire::Frame big = [&] {
    wire::PhotoOffer o;
    o.id = std::string(64, 'a');
    o.record = record_of(a);
    o.size = kMaxPhotoBytes + 1;
    o.chunk_sha.assign(photo_chunk_count(kMaxPhotoBytes), std::string(32, 'x'));
    raw.send(wire::encode(o));
    return raw.receive().value();
  }();
  REQUIRE(big.type == wire::MsgType::kPhotoRefused);
  CHECK_THAT(wire::decode<wire::PhotoRefused>(big)->reason, Catch::Contains("at most"));
  REQUIRE(offer(gif_id, gif, record_of(a)).type == wire::MsgType::kPhotoWant);
  const wire::Frame not_image = send_chunk(gif_id, 0, gif);
  REQUIRE(not_image.type == wire::MsgType::kPhotoRefused);
  CHECK_THAT(wire::decode<wire::PhotoRefused>(not_image)->reason,
             Catch::Contains("not a JPEG, PNG or HEIC image"));
  CHECK_FALSE(hub.store->photos().has(gif_id));
}

TEST_CASE("two devices uploading the same photo at once both finish, and it is stored once",
          "[transport][photos]") {
  test::LiveHub hub;
  Field a = ready(hub, "I0011");
  Field b = ready(hub, "I0021");
  const std::string photo = test::fake_jpeg(3 * kPhotoChunkBytes + 7, 6);
  const std::string id = sha256_hex(photo);
  for (Field* f : {&a, &b}) {
    REQUIRE(f->d.in->set_answer(f->visit, "buildings_photo", id).ok());  // named, file not held
    REQUIRE(hub.sync(f->d).ok());
  }
  const PhotoManifest m = manifest_of(photo);
  struct Uploader {
    test::RawClient raw;
    std::string record;
  };
  Uploader up[2] = {{test::RawClient(a.d.enrollment), record_of(a)},
                    {test::RawClient(b.d.enrollment), record_of(b)}};
  Field* fields[2] = {&a, &b};
  for (int i = 0; i < 2; ++i) {
    REQUIRE(!up[i].raw.connect(hub.server->port()));
    up[i].raw.hello(fields[i]->d.enrollment, fields[i]->d.engine().stats()->last_own_seq);
  }
  const auto exchange = [&](int i, const wire::Frame& f) {
    up[i].raw.send(f);
    Result<wire::Frame> answer = up[i].raw.receive();
    REQUIRE(answer.ok());
    return answer.value();
  };
  const auto offer = [&](int i) {
    wire::PhotoOffer o{id, up[i].record, m.size, m.chunk_sha};
    return exchange(i, wire::encode(o));
  };
  const auto chunk = [&](int i, std::uint64_t at) {
    wire::PhotoChunk c{id, at, photo.substr(at, kPhotoChunkBytes)};
    return exchange(i, wire::encode(c));
  };
  // A starts; B is offered from where A's chunk ends; B moves on; A, one chunk behind, is told
  // where the file stands now and finishes it.
  REQUIRE(wire::decode<wire::PhotoWant>(offer(0))->offset == 0);
  REQUIRE(chunk(0, 0).type == wire::MsgType::kPhotoAck);
  REQUIRE(wire::decode<wire::PhotoWant>(offer(1))->offset == kPhotoChunkBytes);
  REQUIRE(chunk(1, kPhotoChunkBytes).type == wire::MsgType::kPhotoAck);
  const wire::Frame behind = chunk(0, kPhotoChunkBytes);
  REQUIRE(behind.type == wire::MsgType::kPhotoWant);
  CHECK(wire::decode<wire::PhotoWant>(behind)->offset == 2 * kPhotoChunkBytes);
  REQUIRE(chunk(0, 2 * kPhotoChunkBytes).type == wire::MsgType::kPhotoAck);
  const wire::Frame last = chunk(0, 3 * kPhotoChunkBytes);
  REQUIRE(last.type == wire::MsgType::kPhotoAck);
  CHECK(wire::decode<wire::PhotoAck>(last)->received == photo.size());
  // B, a chunk behind in its turn, is told the file is whole.
  const wire::Frame done = chunk(1, 2 * kPhotoChunkBytes);
  REQUIRE(done.type == wire::MsgType::kPhotoWant);
  CHECK(wire::decode<wire::PhotoWant>(done)->offset == photo.size());
  CHECK(hub.store->photos().read_all(id).value() == photo);
}
