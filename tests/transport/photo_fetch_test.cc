// Photo downloads over real TLS on 127.0.0.1 (schema/PROTOCOL.md, "Photos"): a co-inspector's
// device fetches a visit's photo when asked (lazy) or by itself (eager), a fetch cut at random
// byte offsets resumes and completes with identical bytes, and, by hand, the hub refuses a
// request outside the device's scope and says "not yet" for a photo it lacks.
#include <random>

#include <catch2/catch.hpp>

#include <visitsync/photos.h>

#include "hub_fixture.h"
#include "live_hub.h"
#include "support/fault_proxy.h"

using namespace vs;

namespace {

// The author's device, with a visit naming a photo the hub has received; and a co-inspector's
// that has pulled it.
struct Shared {
  test::TestDevice author;
  test::TestDevice reader;
  std::string visit;
};

Shared share(test::LiveHub& hub) {
  Shared s{hub.enrolled("I0011"), hub.enrolled("I0021"), {}};
  REQUIRE(hub.sync(s.author).ok());
  Result<std::string> v = s.author.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(v.ok());
  s.visit = v.value();
  return s;
}

// The author attaches `bytes` to the visit's photos and syncs; returns the photo's id.
std::string take(test::LiveHub& hub, Shared& s, const std::string& bytes) {
  Result<std::string> id = s.author.in->add_photo(bytes);
  REQUIRE(id.ok());
  REQUIRE(s.author.in->set_answer(s.visit, "buildings_photo", id.value()).ok());
  Result<SyncReport> r = hub.sync(s.author);
  REQUIRE(r.ok());
  REQUIRE(hub.store->photos().has(id.value()));
  return id.value();
}

std::string photo_of(const std::string& data_dir, const std::string& id) {
  return test::slurp(photo_folder(data_dir) + "/" + id);
}

std::string record_of(const Shared& s) {
  return "visit/" + std::string(test::kSharedSchool) + "/" + s.visit;
}

}  // namespace

TEST_CASE("a co-inspector's device fetches a visit's photos when asked, or all when eager",
          "[transport][photos]") {
  test::LiveHub hub;
  Shared s = share(hub);
  const std::string wall = test::fake_jpeg(120'000, 1);
  const std::string wall_id = take(hub, s, wall);
  const std::string dir = s.reader.in->data_dir();

  // Lazy, the default: the visit arrives, its photo does not.
  Result<SyncReport> first = hub.sync(s.reader);
  REQUIRE(first.ok());
  CHECK(first->photos_received == 0);
  CHECK(s.reader.in->visit(s.visit)->photos_missing == std::vector<std::string>{wall_id});
  // Asked for, it comes with the next sync, whole.
  REQUIRE(request_photo(s.reader.engine(), dir, wall_id).ok());
  Result<SyncReport> asked = hub.sync(s.reader);
  REQUIRE(asked.ok());
  CHECK(asked->photos_received == 1);
  CHECK(asked->photo_bytes_received == wall.size());
  CHECK(photo_of(dir, wall_id) == wall);
  CHECK(s.reader.in->visit(s.visit)->photos_missing.empty());
  // Fetched once: the request is gone.
  CHECK(hub.sync(s.reader)->photos_received == 0);

  // A photo no visit here names cannot be asked for.
  CHECK(request_photo(s.reader.engine(), dir, std::string(64, 'b')).code() == Code::kNotFound);

  // Eager: the next photo comes without asking.
  const std::string kitchen = test::fake_jpeg(70'000, 2);
  const std::string kitchen_id = take(hub, s, kitchen);
  REQUIRE(set_photo_download_mode(s.reader.engine(), "eager").ok());
  Result<SyncReport> eager = hub.sync(s.reader);
  REQUIRE(eager.ok());
  CHECK(eager->photos_received == 1);
  CHECK(photo_of(dir, kitchen_id) == kitchen);
  CHECK(set_photo_download_mode(s.reader.engine(), "sometimes").code() == Code::kInvalidInput);
}

TEST_CASE("a photo fetch cut at random byte offsets resumes and completes with identical bytes",
          "[transport][photos]") {
  test::LiveHub hub;
  Shared s = share(hub);
  const std::uint64_t seed = test::seed();
  INFO("VS_SEED=" << seed);
  std::mt19937_64 rng(seed);
  const std::string photo = test::fake_jpeg(600'000 + rng() % 300'000, rng());
  const std::string id = take(hub, s, photo);
  REQUIRE(hub.sync(s.reader).ok());
  REQUIRE(set_photo_download_mode(s.reader.engine(), "eager").ok());
  test::FaultProxy proxy(hub.server->port());
  std::uint64_t stored = 0;  // chunk bytes the reader stored, over every session
  for (int attempt = 0; proxy.cuts() < 20 && attempt < 100; ++attempt) {
    proxy.cut_next_after_bytes(1 + rng() % 100'000);  // at least 6 cuts for 600 KB
    Result<SyncReport> r = hub.sync(s.reader, proxy.port());
    if (r.ok()) break;  // whole before the cut
    CHECK(r.status().code() == Code::kUnavailable);
  }
  Result<SyncReport> last = hub.sync(s.reader, proxy.port());
  REQUIRE(last.ok());
  stored += last->photo_bytes_received;
  CHECK(proxy.cuts() >= 5);
  REQUIRE(has_photo(s.reader.in->data_dir(), id));
  CHECK(photo_of(s.reader.in->data_dir(), id) == photo);
  // Each session went on from the chunks already stored: the last one needed only the rest.
  CHECK(stored < photo.size());
  std::printf("photo fetch: %zu cuts, the last session stored %llu of %zu bytes\n", proxy.cuts(),
              static_cast<unsigned long long>(stored), photo.size());
}

TEST_CASE("the hub refuses a photo request outside the device's scope, and says when it lacks one",
          "[transport][photos]") {
  test::LiveHub hub;
  Shared s = share(hub);
  const std::string id = take(hub, s, test::fake_jpeg(40'000, 3));
  // Named by the visit, not sent yet.
  const std::string later = sha256_hex(test::fake_jpeg(40'000, 4));
  REQUIRE(s.author.in->set_answer(s.visit, "buildings_photo", id + "," + later).ok());
  REQUIRE(hub.sync(s.author).ok());
  test::TestDevice far = hub.enrolled("I0012");  // another county
  REQUIRE(hub.sync(far).ok());

  const auto ask = [&](test::TestDevice& d, const std::string& photo) {
    test::RawClient raw(d.enrollment);
    REQUIRE(!raw.connect(hub.server->port()));
    raw.hello(d.enrollment, d.engine().stats()->last_own_seq);
    raw.send(wire::encode(wire::PhotoGet{photo, record_of(s)}));
    Result<wire::Frame> answer = raw.receive();
    REQUIRE(answer.ok());
    return answer.value();
  };
  const wire::Frame outside = ask(far, id);
  REQUIRE(outside.type == wire::MsgType::kPhotoRefused);
  CHECK(wire::decode<wire::PhotoRefused>(outside)->code == static_cast<int>(Code::kRejected));
  CHECK_THAT(wire::decode<wire::PhotoRefused>(outside)->reason,
             Catch::Contains("no visit in this device's scope"));
  const wire::Frame not_yet = ask(s.reader, later);
  REQUIRE(not_yet.type == wire::MsgType::kPhotoRefused);
  CHECK(wire::decode<wire::PhotoRefused>(not_yet)->code == static_cast<int>(Code::kUnavailable));
  const wire::Frame offered = ask(s.reader, id);
  REQUIRE(offered.type == wire::MsgType::kPhotoOffer);
  CHECK(wire::decode<wire::PhotoOffer>(offered)->size == 40'000);

  // Through sync: the photo not yet on the hub stays asked for.
  REQUIRE(hub.sync(s.reader).ok());
  REQUIRE(request_photo(s.reader.engine(), s.reader.in->data_dir(), later).ok());
  Result<SyncReport> r = hub.sync(s.reader);
  REQUIRE(r.ok());
  CHECK(r->photos_not_yet == 1);
  CHECK_FALSE(s.reader.engine().setting(kPhotoFetchPrefix + later)->empty());
}
