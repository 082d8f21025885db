// The photo store (visitsync/photos.h) on real files: whole files by id, chunks appended and
// checked, a partial resumed after a reopen from its verified prefix, a lying manifest, media
// types from the bytes, and garbage collection that removes nothing still named.
#include <filesystem>
#include <random>
#include <sys/stat.h>
#include <utime.h>

#include <catch2/catch.hpp>

#include <visitsync/photos.h>

#include "support/test_support.h"

using namespace vs;

namespace {

std::unique_ptr<PhotoStore> open_store(const test::TempDir& dir, const std::string& name) {
  Result<std::unique_ptr<PhotoStore>> s = PhotoStore::open(dir.file(name));
  REQUIRE(s.ok());
  return std::move(s.value());
}

std::string chunk(const std::string& bytes, std::size_t k) {
  return bytes.substr(k * kPhotoChunkBytes, kPhotoChunkBytes);
}

}  // namespace

TEST_CASE("a photo arrives chunk by chunk, each checked, and counts only when whole",
          "[engine][photos]") {
  test::TempDir dir;
  const std::string bytes = test::fake_jpeg(3 * kPhotoChunkBytes + 1000, 1);
  const std::string id = sha256_hex(bytes);
  const PhotoManifest m = manifest_of(bytes);
  REQUIRE(m.chunk_sha.size() == 4);
  {
    auto store = open_store(dir, "hub");
    CHECK(store->received(id, m).value() == 0);
    CHECK(store->append(id, m, 0, chunk(bytes, 0)).value() == kPhotoChunkBytes);
    // A chunk that is not the manifest's is refused and not kept.
    std::string bad = chunk(bytes, 1);
    bad[100] ^= 1;
    Result<std::uint64_t> refused = store->append(id, m, kPhotoChunkBytes, bad);
    CHECK(refused.status().code() == Code::kInvalidInput);
    CHECK_THAT(refused.status().message(), Catch::Contains("chunk 1"));
    // Nor one at another offset than where the partial ends.
    CHECK(store->append(id, m, 2 * kPhotoChunkBytes, chunk(bytes, 2)).status().code() ==
          Code::kInvalidInput);
    CHECK(store->append(id, m, kPhotoChunkBytes, chunk(bytes, 1)).value() == 2 * kPhotoChunkBytes);
    CHECK_FALSE(store->has(id));
  }
  // Reopened (a restart): it resumes from the verified prefix.
  auto store = open_store(dir, "hub");
  CHECK(store->received(id, m).value() == 2 * kPhotoChunkBytes);
  CHECK(store->append(id, m, 2 * kPhotoChunkBytes, chunk(bytes, 2)).ok());
  CHECK(store->append(id, m, 3 * kPhotoChunkBytes, chunk(bytes, 3)).value() == bytes.size());
  REQUIRE(store->has(id));
  CHECK(store->read_all(id).value() == bytes);
  CHECK(store->received(id, m).value() == bytes.size());
  CHECK_FALSE(std::filesystem::exists(dir.file("hub/partial/" + id)));
}

TEST_CASE("a partial whose tail does not match the manifest is cut back to what does",
          "[engine][photos]") {
  test::TempDir dir;
  const std::string bytes = test::fake_jpeg(5 * kPhotoChunkBytes, 2);
  const std::string id = sha256_hex(bytes);
  const PhotoManifest m = manifest_of(bytes);
  auto store = open_store(dir, "hub");
  for (std::size_t k = 0; k < 3; ++k)
    REQUIRE(store->append(id, m, k * kPhotoChunkBytes, chunk(bytes, k)).ok());
  // A crash that left chunk 2 torn (zeros where its bytes should be) and half a chunk after it.
  {
    std::string torn = bytes.substr(0, 2 * kPhotoChunkBytes) + std::string(kPhotoChunkBytes, '\0') +
                       std::string(kPhotoChunkBytes / 2, 'x');
    std::FILE* f = std::fopen(dir.file("hub/partial/" + id).c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(torn.data(), 1, torn.size(), f);
    std::fclose(f);
  }
  CHECK(store->received(id, m).value() == 2 * kPhotoChunkBytes);
  CHECK(std::filesystem::file_size(dir.file("hub/partial/" + id)) == 2 * kPhotoChunkBytes);
}

TEST_CASE("chunks that match a lying manifest make no file under another id", "[engine][photos]") {
  test::TempDir dir;
  const std::string bytes = test::fake_jpeg(kPhotoChunkBytes + 10, 3);
  const std::string other_id = sha256_hex(test::fake_jpeg(100, 4));  // the id claimed
  const PhotoManifest m = manifest_of(bytes);                        // the manifest of other bytes
  auto store = open_store(dir, "hub");
  REQUIRE(store->append(other_id, m, 0, chunk(bytes, 0)).ok());
  Result<std::uint64_t> last = store->append(other_id, m, kPhotoChunkBytes, chunk(bytes, 1));
  CHECK(last.status().code() == Code::kRejected);
  CHECK_FALSE(store->has(other_id));
  CHECK(store->received(other_id, m).value() == 0);  // dropped: it starts over
}

TEST_CASE("the same bytes are one file, whatever stores them", "[engine][photos]") {
  test::TempDir dir;
  auto store = open_store(dir, "device");
  const std::string bytes = test::fake_jpeg(1000, 5);
  const std::string id = store->put(bytes).value();
  CHECK(id == sha256_hex(bytes));
  CHECK(store->put(bytes).value() == id);
  CHECK(store->size(id).value() == 1000);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("device")))
    files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);
  CHECK(store->read(id, 4, 3).value() == bytes.substr(4, 3));
  CHECK(store->size(std::string(64, 'a')).status().code() == Code::kNotFound);
  CHECK_FALSE(store->has("../etc/passwd"));
}

TEST_CASE("media types are told by the bytes, not the name", "[engine][photos]") {
  CHECK(photo_media_type("\xFF\xD8\xFF\xE1rest") == "image/jpeg");
  CHECK(photo_media_type(std::string("\x89PNG\r\n\x1a\n\0\0", 10)) == "image/png");
  CHECK(photo_media_type(std::string("\0\0\0\x18"
                                     "ftypheic\0\0\0\0",
                                     16)) == "image/heic");
  CHECK(photo_media_type(std::string("\0\0\0\x18"
                                     "ftypmif1\0\0\0\0",
                                     16)) == "image/heic");
  CHECK(photo_media_type(std::string("\0\0\0\x18"
                                     "ftypisom\0\0\0\0",
                                     16))
            .empty());  // an MP4
  CHECK(photo_media_type("GIF89a......").empty());
  CHECK(photo_media_type("\xFF\xD8").empty());
}

TEST_CASE("garbage collection removes only files nothing names, after the grace period",
          "[engine][photos]") {
  test::TempDir dir;
  auto store = open_store(dir, "hub");
  const std::string named = store->put(test::fake_jpeg(500, 6)).value();
  const std::string unnamed = store->put(test::fake_jpeg(500, 7)).value();
  const std::string fresh = store->put(test::fake_jpeg(500, 8)).value();
  const std::string bytes = test::fake_jpeg(2 * kPhotoChunkBytes, 9);
  const std::string partial = sha256_hex(bytes);
  REQUIRE(store->append(partial, manifest_of(bytes), 0, chunk(bytes, 0)).ok());
  // Age all but `fresh` by two days.
  const std::time_t old = std::time(nullptr) - 2 * 86400;
  const utimbuf times{old, old};
  for (const std::string& p :
       {store->path(named), store->path(unnamed), dir.file("hub/partial/" + partial)})
    REQUIRE(utime(p.c_str(), &times) == 0);
  Result<PhotoGarbage> removed = store->collect_garbage({named}, 86400);
  REQUIRE(removed.ok());
  REQUIRE(removed->removed.size() == 1);  // the unnamed file
  CHECK(removed->removed[0].first == unnamed);
  CHECK(removed->removed[0].second == 500);
  CHECK(removed->partials == 1);  // the stale one
  CHECK(store->has(named));
  CHECK_FALSE(store->has(unnamed));
  CHECK(store->has(fresh));  // unnamed, but within the grace period
  CHECK_FALSE(std::filesystem::exists(dir.file("hub/partial/" + partial)));
}
