// Photos: content-addressed files beside the store, on a device and on the hub alike
// (`<data folder>/attachments/<id>`, the id the SHA-256 of the whole file in lowercase hex).
// A photo answer names ids; the bytes travel in chunks of kPhotoChunkBytes
// (schema/PROTOCOL.md, "Photos"), each checked against the SHA-256 its sender announced, and a
// file counts only once its whole hash is its id.
//
// A file arriving in chunks grows in `attachments/partial/<id>`, synced chunk by chunk, and is
// renamed into place when whole: a crash leaves either the whole file or a partial whose
// verified prefix the next transfer resumes from. Files live outside the SQLite file: a photo
// written into the store's WAL would be written twice, and a store that holds megabytes of
// photos makes every integrity check and copy of the store slower (README.md, "Photos").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/status.h>

namespace vs {

class Engine;
struct RecordView;

// 16 KiB: on a 64 kbit/s link a chunk takes 2 s, so a cut loses little; on a fast link the
// uploader keeps enough of them in flight (README.md, "Photos", for the measurements).
inline constexpr std::size_t kPhotoChunkBytes = 16 * 1024;
inline constexpr std::uint64_t kMaxPhotoBytes = std::uint64_t{32} << 20;

// The photo folder of a data folder (a device's or the hub's): `<data_dir>/attachments`.
std::string photo_folder(const std::string& data_dir);

// The data folder holds the whole file of photo `id`.
bool has_photo(const std::string& data_dir, std::string_view id);

// A photo id: 64 lowercase hex digits.
bool is_photo_id(std::string_view s);
// The SHA-256 of `bytes` in lowercase hex (a photo's id, for a whole file).
std::string sha256_hex(std::string_view bytes);
// The raw 32-byte SHA-256 of `bytes` (a chunk's, as a manifest lists it).
std::string sha256_raw(std::string_view bytes);
// The media type the first bytes of a file show: "image/jpeg", "image/png", "image/heic", or ""
// for anything else (at least the first 12 bytes are needed).
std::string_view photo_media_type(std::string_view head);

// What PhotoStore::collect_garbage removed: whole files (id, size) and partials.
struct PhotoGarbage {
  std::vector<std::pair<std::string, std::uint64_t>> removed;
  std::size_t partials = 0;
};

// The device's records of photo sync, in its settings (Engine::setting).
inline constexpr const char* kPhotoUpPrefix = "photo.up/";  // + id: the hub holds it whole
inline constexpr const char* kPhotoRefusedPrefix = "photo.refused/";  // + id: the hub's reason
inline constexpr const char* kPhotoFetchPrefix = "photo.fetch/";      // + id: asked for; the record
// "eager": every photo the device's scope names is fetched at each sync (a supervisor's tablet
// at the office); "lazy" (the default): only those asked for.
inline constexpr const char* kPhotoDownloadSetting = "photo.download";

// The photo ids a record's answers name now: in every answer field's merged value and its
// concurrent versions (a flagged answer names both sides). Sorted, without repeats.
std::vector<std::string> photos_named_by(const RecordView& r);
struct NamedPhoto {
  std::string id;
  std::string record;  // the first visit (in key order) that names it
};
// Every photo the visits in `engine` name now, by id.
Result<std::vector<NamedPhoto>> named_photos(Engine& engine);
// Asks for photo `id` at the next sync (a kPhotoFetchPrefix setting naming the visit that
// names it): kInvalidInput for a malformed id, kNotFound when no visit here names it; nothing
// to do when the file is here.
Status request_photo(Engine& engine, const std::string& data_dir, std::string_view id);
// The device's download setting: "eager" or "lazy" (kPhotoDownloadSetting).
Result<std::string> photo_download_mode(Engine& engine);
Status set_photo_download_mode(Engine& engine, std::string_view mode);
// Removes the files of `data_dir`'s photo folder that nothing needs, once untouched for
// `grace_s` seconds. A file is needed while a visit's answers name it, while an op of this
// replica's own names it and the hub has not taken it (kPhotoUpPrefix), and while it is asked
// for (kPhotoFetchPrefix). A sync needs nothing else: it sends only files its own ops name, and
// what it is receiving grows in a partial that the grace period covers.
Result<PhotoGarbage> collect_photo_garbage(Engine& engine, const std::string& data_dir,
                                           std::int64_t grace_s);

// The collection a device runs by itself (after a successful sync: the replicator's and
// `visitsync sync`): collect_photo_garbage with kPhotoGraceS, at most once a day (the last run's
// time in kPhotoGcSetting). A failed collection loses nothing and is tried again next time.
inline constexpr std::int64_t kPhotoGraceS = 7 * 86'400;
inline constexpr const char* kPhotoGcSetting = "photo.gc_at";  // ms since the epoch
Status collect_photo_garbage_daily(Engine& engine, const std::string& data_dir);
// Whether a day has passed since the last daily collection (kPhotoGcSetting), and the stamp of
// one that ran: what collect_photo_garbage_daily and HubStore's share.
Result<bool> photo_gc_due(Engine& engine);
Status photo_gc_done(Engine& engine);

// The chunks of a file: their count, and each chunk's raw SHA-256.
struct PhotoManifest {
  std::uint64_t size = 0;
  std::vector<std::string> chunk_sha;  // raw, 32 bytes each
};
std::size_t photo_chunk_count(std::uint64_t size);
PhotoManifest manifest_of(std::string_view bytes);

class PhotoStore {
 public:
  // The store in `folder` (made if missing, with its partial/ folder).
  static Result<std::unique_ptr<PhotoStore>> open(const std::string& folder);
  PhotoStore(const PhotoStore&) = delete;
  PhotoStore& operator=(const PhotoStore&) = delete;

  const std::string& folder() const { return folder_; }
  std::string path(std::string_view id) const;
  // The whole file is here.
  bool has(std::string_view id) const;
  // Its size; kNotFound when it is not here whole.
  Result<std::uint64_t> size(std::string_view id) const;
  // Bytes `offset`.. of a whole file, at most `n`.
  Result<std::string> read(std::string_view id, std::uint64_t offset, std::size_t n) const;
  Result<std::string> read_all(std::string_view id) const;

  // Stores whole `bytes` as their id (kept if already here); returns the id.
  Result<std::string> put(std::string_view bytes);

  // How much of `id` has arrived: its size when whole; otherwise the partial's prefix of whole
  // chunks that match `manifest` (a partial that does not is cut back to where it stops
  // matching, so a transfer always resumes from verified bytes).
  Result<std::uint64_t> received(std::string_view id, const PhotoManifest& manifest);
  // Appends a chunk that starts at `offset`, which must be what received() says. kInvalidInput
  // when the chunk is not the manifest's (its SHA-256, or its length) and nothing is kept; the
  // chunk is synced before this returns. The last chunk completes the file: its whole hash must
  // be its id (kRejected, and the partial is dropped, otherwise: the manifest itself lied), and
  // it moves into place. Returns the bytes received after it.
  Result<std::uint64_t> append(std::string_view id, const PhotoManifest& manifest,
                               std::uint64_t offset, std::string_view chunk);

  // Removes the whole files not in `named` that were last changed more than `grace_s` seconds
  // ago, and partials untouched for that long.
  Result<PhotoGarbage> collect_garbage(const std::set<std::string>& named, std::int64_t grace_s);

 private:
  explicit PhotoStore(std::string folder) : folder_(std::move(folder)) {}
  std::string partial_path(std::string_view id) const;
  // Checks a partial holding every chunk against its id and moves it into place (or drops it).
  Result<std::uint64_t> finish(std::string_view id);
  std::string folder_;
};

}  // namespace vs
