// Files from and for the outside: every input file visitsync reads (CSV, templates, photos,
// enrollment files, PEM) and every output it writes (exports, enrollment files, keys, photos)
// goes through here, so that a file is what it claims and a failure names its path.
//
// Reading: only a regular file is read (a FIFO would block, a device never end, a folder is no
// file), at most `max_bytes`, whole or in pieces (InputFile). Writing: the content goes to a new
// temporary file beside the target, is synced, and takes the target's name; a target that exists
// and is not a regular file (a symlink, FIFO, device or folder) is never replaced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include <visitsync/status.h>

namespace vs::util {

// A file system error on `path` as a Status: kInvalidInput when the path itself is wrong (no
// such file or folder, not a folder, a name too long, a symlink loop, permission denied, a
// read-only file system), kIo otherwise (a failing disk, a full one). "<path>: <reason>".
Status path_error(const std::error_code& ec, const std::string& path);
Status errno_error(int err, const std::string& path);

Result<std::string> read_regular_file(const std::string& path, std::uintmax_t max_bytes);

// A regular file opened to be read in pieces (an import streams its file). open() refuses what
// read_regular_file() refuses, a file of more than `max_bytes` included; read() stops there
// too, should the file grow meanwhile. Move-only; closes the file.
class InputFile {
 public:
  static Result<InputFile> open(const std::string& path, std::uintmax_t max_bytes);
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&&) = delete;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  // Reads at most `n` bytes into `buf`: how many, 0 at the end of the file.
  Result<std::size_t> read(char* buf, std::size_t n);
  std::uintmax_t size() const { return size_; }  // when it was opened
  const std::string& path() const { return path_; }

 private:
  InputFile(int fd, std::string path, std::uintmax_t size, std::uintmax_t max)
      : fd_(fd), path_(std::move(path)), size_(size), max_(max) {}
  int fd_;
  std::string path_;
  std::uintmax_t size_;
  std::uintmax_t max_;
  std::uintmax_t done_ = 0;
};

// `mode` is the new file's permission bits (0600 for secrets: never readable by others, not
// even between the create and a chmod).
Status replace_file(const std::string& path, const std::string& content, unsigned mode = 0644);

}  // namespace vs::util
