// The two ends of photo transfers (session/photo_link.h) wired to each other in memory, over a
// real photo store: two photos in flight at once arrive whole and in order; a chunk asked for
// again after the next photo was offered gives the first up for the session; the intake holds
// at most kMaxPhotosInFlight photos.
#include "session/photo_link.h"

#include <catch2/catch.hpp>

#include <visitsync/photos.h>

#include "support/test_support.h"
#include "wire/messages.h"

using namespace vs;
using namespace vs::session;

namespace {

// Frames from the sender, answered by the intake, answers fed back, until neither says more.
// Returns the intake's steps.
std::vector<PhotoIntake::Step> converse(PhotoSender& sender, PhotoIntake& intake,
                                        std::vector<wire::Frame> from_sender) {
  std::vector<PhotoIntake::Step> steps;
  for (int round = 0; round < 10'000 && !from_sender.empty(); ++round) {
    std::vector<wire::Frame> next;
    for (const wire::Frame& f : from_sender) {
      Result<PhotoIntake::Step> step = Status::internal("unanswered");
      if (f.type == wire::MsgType::kPhotoOffer) {
        wire::PhotoOffer o = wire::decode<wire::PhotoOffer>(f).value();
        step = intake.on_offer(o.id, PhotoManifest{o.size, o.chunk_sha});
      } else {
        step = intake.on_chunk(f);
      }
      REQUIRE(step.ok());
      for (const wire::Frame& answer : step->out) {
        Result<std::vector<wire::Frame>> more = Status::internal("unanswered");
        if (answer.type == wire::MsgType::kPhotoWant) {
          const wire::PhotoWant w = wire::decode<wire::PhotoWant>(answer).value();
          more = sender.on_want(w.id, w.offset);
        } else {
          const wire::PhotoAck a = wire::decode<wire::PhotoAck>(answer).value();
          more = sender.on_ack(a.id, a.received);
        }
        REQUIRE(more.ok());
        next.insert(next.end(), more->begin(), more->end());
      }
      steps.push_back(std::move(step.value()));
    }
    from_sender = std::move(next);
  }
  return steps;
}

std::unique_ptr<PhotoStore> store_in(const test::TempDir& dir) {
  Result<std::unique_ptr<PhotoStore>> s = PhotoStore::open(dir.file("photos"));
  REQUIRE(s.ok());
  return std::move(s.value());
}

}  // namespace

TEST_CASE("the next photo is offered while the last is sent, and both arrive whole",
          "[transport][photos]") {
  test::TempDir dir;
  auto store = store_in(dir);
  PhotoIntake intake(*store);
  PhotoSender sender(4);
  const std::string a = test::fake_jpeg(5 * kPhotoChunkBytes + 3, 1);
  const std::string b = test::fake_jpeg(3 * kPhotoChunkBytes, 2);
  REQUIRE(sender.may_offer());
  std::vector<wire::Frame> first = {sender.offer(sha256_hex(a), "visit/S1/v", a)};
  CHECK_FALSE(sender.may_offer());  // until A is answered
  // A's want: its first chunks go out, and B may be offered behind them.
  Result<PhotoIntake::Step> want = intake.on_offer(sha256_hex(a), manifest_of(a));
  REQUIRE(want.ok());
  Result<std::vector<wire::Frame>> chunks = sender.on_want(sha256_hex(a), 0);
  REQUIRE(chunks.ok());
  CHECK(chunks->size() == 4);  // the window
  REQUIRE(sender.may_offer());
  chunks->push_back(sender.offer(sha256_hex(b), "visit/S1/v", b));
  CHECK_FALSE(sender.may_offer());  // two in flight
  converse(sender, intake, std::move(chunks.value()));
  CHECK(store->read_all(sha256_hex(a)).value() == a);
  CHECK(store->read_all(sha256_hex(b)).value() == b);
  const auto finished = sender.take_finished();
  REQUIRE(finished.size() == 2);
  CHECK(finished[0] == std::pair{sha256_hex(a), true});
  CHECK(finished[1] == std::pair{sha256_hex(b), true});
  CHECK_FALSE(sender.busy());
  CHECK(sender.bytes_resent() == 0);
}

TEST_CASE("a photo asked for again after the next was offered is given up for the session",
          "[transport][photos]") {
  PhotoSender sender(4);
  const std::string a = test::fake_jpeg(5 * kPhotoChunkBytes, 3);
  const std::string b = test::fake_jpeg(2 * kPhotoChunkBytes, 4);
  sender.offer(sha256_hex(a), "visit/S1/a", a);
  REQUIRE(sender.on_want(sha256_hex(a), 0).ok());
  sender.offer(sha256_hex(b), "visit/S1/b", b);
  REQUIRE(sender.on_want(sha256_hex(b), 0).ok());
  // A's second chunk failed its check: the receiver moved on to B, so A is offered later.
  REQUIRE(sender.on_ack(sha256_hex(a), kPhotoChunkBytes).ok());
  REQUIRE(sender.on_want(sha256_hex(a), kPhotoChunkBytes).ok());
  const auto given_up = sender.take_given_up();
  REQUIRE(given_up.size() == 1);
  CHECK(given_up[0] == std::pair{sha256_hex(a), std::string("visit/S1/a")});
  CHECK(sender.sending(sha256_hex(b)));
  CHECK_FALSE(sender.sending(sha256_hex(a)));
  // Answers for a photo not being sent are a protocol violation.
  CHECK(sender.on_ack(sha256_hex(a), 2 * kPhotoChunkBytes).status().code() == Code::kCorrupt);
  CHECK(sender.on_want(std::string(64, 'e'), 0).status().code() == Code::kCorrupt);
  CHECK(sender.on_want(sha256_hex(b), 7).status().code() == Code::kCorrupt);  // not a chunk
}

TEST_CASE("the intake holds at most a few photos at once", "[transport][photos]") {
  test::TempDir dir;
  auto store = store_in(dir);
  PhotoIntake intake(*store);
  std::vector<std::string> photos;
  for (std::uint64_t i = 0; i < kMaxPhotosInFlight + 1; ++i) {
    photos.push_back(test::fake_jpeg(2 * kPhotoChunkBytes, 10 + i));
    REQUIRE(intake.on_offer(sha256_hex(photos.back()), manifest_of(photos.back())).ok());
  }
  // The oldest was dropped: its chunk is ignored; the newest's is taken.
  const auto chunk_of = [](const std::string& p) {
    return wire::encode(wire::PhotoChunk{sha256_hex(p), 0, p.substr(0, kPhotoChunkBytes)});
  };
  Result<PhotoIntake::Step> dropped = intake.on_chunk(chunk_of(photos.front()));
  REQUIRE(dropped.ok());
  CHECK(dropped->out.empty());
  Result<PhotoIntake::Step> taken = intake.on_chunk(chunk_of(photos.back()));
  REQUIRE(taken.ok());
  REQUIRE(taken->out.size() == 1);
  CHECK(taken->out[0].type == wire::MsgType::kPhotoAck);
}
