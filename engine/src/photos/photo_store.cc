// PhotoStore (visitsync/photos.h): whole files named by their SHA-256, and partials that grow a
// synced chunk at a time.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <visitsync/photos.h>

#include "util/bytes.h"
#include "util/files.h"

namespace vs {
namespace fs = std::filesystem;
namespace {

// Syncs a folder, so that a rename or unlink in it is on disk.
Status sync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return util::errno_error(errno, folder);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status() : util::errno_error(err, folder);
}

// Bytes [offset, offset + n) of the file at `path` (fewer at its end).
Result<std::string> read_range(const std::string& path, std::uint64_t offset, std::size_t n) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return util::errno_error(errno, path);
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(fd);
      return util::errno_error(err, path);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

// The size of the regular file at `path`; nullopt when there is none.
std::optional<std::uint64_t> regular_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

std::string digest(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace

std::string photo_folder(const std::string& data_dir) { return data_dir + "/attachments"; }

bool is_photo_id(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string sha256_raw(std::string_view bytes) { return digest(bytes); }
std::string sha256_hex(std::string_view bytes) { return util::to_hex(digest(bytes)); }

std::string_view photo_media_type(std::string_view head) {
  if (head.size() >= 3 && head.substr(0, 3) == "\xFF\xD8\xFF") return "image/jpeg";
  if (head.size() >= 8 && head.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8))
    return "image/png";
  // HEIF: an ISO BMFF "ftyp" box whose major brand is one of HEIC's.
  if (head.size() >= 12 && head.substr(4, 4) == "ftyp") {
    const std::string_view brand = head.substr(8, 4);
    for (std::string_view b : {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1"}) {
      if (brand == b) return "image/heic";
    }
  }
  return "";
}

std::size_t photo_chunk_count(std::uint64_t size) {
  return static_cast<std::size_t>((size + kPhotoChunkBytes - 1) / kPhotoChunkBytes);
}

PhotoManifest manifest_of(std::string_view bytes) {
  PhotoManifest m;
  m.size = bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += kPhotoChunkBytes)
    m.chunk_sha.push_back(digest(bytes.substr(at, kPhotoChunkBytes)));
  return m;
}

Result<std::unique_ptr<PhotoStore>> PhotoStore::open(const std::string& folder) {
  std::error_code ec;
  fs::create_directories(fs::path(folder) / "partial", ec);
  if (ec) return util::path_error(ec, folder + "/partial");
  return std::unique_ptr<PhotoStore>(new PhotoStore(folder));
}

std::string PhotoStore::path(std::string_view id) const { return folder_ + "/" + std::string(id); }
std::string PhotoStore::partial_path(std::string_view id) const {
  return folder_ + "/partial/" + std::string(id);
}

bool PhotoStore::has(std::string_view id) const {
  return is_photo_id(id) && regular_size(path(id)).has_value();
}

bool has_photo(const std::string& data_dir, std::string_view id) {
  return is_photo_id(id) && regular_size(photo_folder(data_dir) + "/" + std::string(id));
}

Result<std::uint64_t> PhotoStore::size(std::string_view id) const {
  const std::optional<std::uint64_t> n = is_photo_id(id) ? regular_size(path(id)) : std::nullopt;
  if (!n) return Status::not_found("photo " + std::string(id) + " is not here");
  return *n;
}

Result<std::string> PhotoStore::read(std::string_view id, std::uint64_t offset,
                                     std::size_t n) const {
  if (!has(id)) return Status::not_found("photo " + std::string(id) + " is not here");
  return read_range(path(id), offset, n);
}

Result<std::string> PhotoStore::read_all(std::string_view id) const {
  Result<std::uint64_t> n = size(id);
  if (!n.ok()) return n.status();
  return read_range(path(id), 0, static_cast<std::size_t>(n.value()));
}

Result<std::string> PhotoStore::put(std::string_view bytes) {
  const std::string id = sha256_hex(bytes);
  if (has(id)) return id;
  if (Status s = util::replace_file(path(id), std::string(bytes)); !s.ok()) return s;
  return id;
}

Result<std::uint64_t> PhotoStore::received(std::string_view id, const PhotoManifest& manifest) {
  if (Result<std::uint64_t> whole = size(id); whole.ok()) return whole.value();
  const std::string partial = partial_path(id);
  struct stat st {};
  if (!is_photo_id(id) || ::stat(partial.c_str(), &st) != 0) return std::uint64_t{0};
  const auto on_disk = static_cast<std::uint64_t>(st.st_size);
  Result<std::string> bytes =
      read_range(partial, 0, static_cast<std::size_t>(std::min(on_disk, manifest.size)));
  if (!bytes.ok()) return bytes.status();
  // The verified prefix: whole chunks matching the manifest, in order.
  std::uint64_t good = 0;
  for (const std::string& want : manifest.chunk_sha) {
    const std::string_view chunk = std::string_view(bytes.value()).substr(good, kPhotoChunkBytes);
    const std::uint64_t length = std::min<std::uint64_t>(kPhotoChunkBytes, manifest.size - good);
    if (chunk.size() != length || digest(chunk) != want) break;
    good += length;
  }
  // Every chunk arrived but the file was not moved into place: a crash came just before.
  if (good == manifest.size && good > 0) return finish(id);
  if (good != on_disk && ::truncate(partial.c_str(), static_cast<off_t>(good)) != 0)
    return util::errno_error(errno, partial);
  return good;
}

Result<std::uint64_t> PhotoStore::append(std::string_view id, const PhotoManifest& manifest,
                                         std::uint64_t offset, std::string_view chunk) {
  const std::string name = "photo " + std::string(id);
  if (!is_photo_id(id)) return Status::invalid_input("'" + std::string(id) + "' is not a photo id");
  if (manifest.size == 0 || manifest.size > kMaxPhotoBytes ||
      manifest.chunk_sha.size() != photo_chunk_count(manifest.size))
    return Status::invalid_input(name + ": a manifest of " +
                                 std::to_string(manifest.chunk_sha.size()) + " chunks for " +
                                 std::to_string(manifest.size) + " bytes");
  if (offset % kPhotoChunkBytes != 0 || offset >= manifest.size)
    return Status::invalid_input(name + ": no chunk starts at offset " + std::to_string(offset));
  const std::size_t index = static_cast<std::size_t>(offset / kPhotoChunkBytes);
  const std::uint64_t length = std::min<std::uint64_t>(kPhotoChunkBytes, manifest.size - offset);
  if (chunk.size() != length || digest(chunk) != manifest.chunk_sha[index])
    return Status::invalid_input(name + ": chunk " + std::to_string(index) + " (" +
                                 std::to_string(chunk.size()) +
                                 " bytes) does not match its SHA-256 in the manifest");
  if (has(id)) return Status::invalid_input(name + ": already whole here");
  const std::string partial = partial_path(id);
  // Only the first chunk makes the partial: a later one without it has nothing to extend.
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CLOEXEC | (offset == 0 ? O_CREAT : 0), 0644);
  if (fd < 0 && errno == ENOENT)
    return Status::invalid_input(name + ": a chunk at " + std::to_string(offset) +
                                 " with no partial file to extend");
  if (fd < 0) return util::errno_error(errno, partial);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != offset) {
    ::close(fd);
    return Status::invalid_input(name + ": a chunk at " + std::to_string(offset) +
                                 " where the partial file ends at " + std::to_string(st.st_size));
  }
  std::size_t done = 0;
  while (done < chunk.size()) {
    const ssize_t n =
        ::pwrite(fd, chunk.data() + done, chunk.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::ftruncate(fd, static_cast<off_t>(offset));  // no torn chunk left to resume from
      ::close(fd);
      return util::errno_error(err, partial);
    }
    done += static_cast<std::size_t>(n);
  }
  const int synced = ::fdatasync(fd);
  const int err = errno;
  ::close(fd);
  if (synced != 0) return util::errno_error(err, partial);
  if (offset + length == manifest.size) return finish(id);
  return offset + length;
}

Result<std::uint64_t> PhotoStore::finish(std::string_view id) {
  const std::string partial = partial_path(id);
  Result<std::string> bytes = read_range(partial, 0, static_cast<std::size_t>(kMaxPhotoBytes));
  if (!bytes.ok()) return bytes.status();
  if (sha256_hex(bytes.value()) != id) {
    ::unlink(partial.c_str());
    return Status::rejected("photo " + std::string(id) +
                            ": its chunks make a file with another SHA-256; dropped");
  }
  if (::rename(partial.c_str(), path(id).c_str()) != 0) return util::errno_error(errno, partial);
  if (Status s = sync_folder(folder_); !s.ok()) return s;
  return static_cast<std::uint64_t>(bytes->size());
}

Result<PhotoGarbage> PhotoStore::collect_garbage(const std::set<std::string>& named,
                                                 std::int64_t grace_s) {
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::seconds(grace_s);
  PhotoGarbage out;
  std::error_code ec;
  for (const fs::path& dir : {fs::path(folder_), fs::path(folder_) / "partial"}) {
    const bool partials = dir.filename() == "partial";
    for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
      const std::string id = e.path().filename().string();
      if (!is_photo_id(id) || !e.is_regular_file(ec)) continue;
      if (!partials && named.count(id) > 0) continue;
      if (e.last_write_time(ec) > cutoff || ec) continue;
      const std::uintmax_t size = e.file_size(ec);
      if (ec || !fs::remove(e.path(), ec)) continue;
      if (partials) {
        ++out.partials;
      } else {
        out.removed.emplace_back(id, static_cast<std::uint64_t>(size));
      }
    }
    if (ec) return util::path_error(ec, dir.string());
  }
  return out;
}

}  // namespace vs
