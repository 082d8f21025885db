#include "util/files.h"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace vs::util {
namespace {

// Closes and, unless committed, removes a temporary file.
struct TempFile {
  explicit TempFile(std::string p) : path(std::move(p)) {}
  std::string path;
  int fd = -1;
  bool committed = false;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  TempFile(TempFile&&) = delete;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!committed) ::unlink(path.c_str());
  }
};

struct Fd {
  int fd = -1;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&&) = delete;
  Fd& operator=(Fd&&) = delete;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status write_all(int fd, const std::string& content, const std::string& path) {
  const char* next = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, next, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno, path);
    next += n;
    left -= static_cast<std::size_t>(n);
  }
  return Status();
}

// The folder a new file of `path` goes into must be there: its absence is the user's mistake.
Status check_folder_of(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return Status::invalid_input(path + ": folder " + folder + " does not exist");
    return errno_error(errno, folder);
  }
  if (!S_ISDIR(st.st_mode)) return Status::invalid_input(path + ": " + folder + " is not a folder");
  return Status();
}

Status sync_folder_of(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return errno_error(errno, folder);
  const int synced = ::fsync(dir);
  const int err = errno;
  ::close(dir);
  return synced == 0 ? Status() : errno_error(err, folder);
}

// What a file system node that is not a regular file is, for a message.
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

Status path_error(const std::error_code& ec, const std::string& path) {
  const std::string message = path + ": " + ec.message();
  switch (ec.value()) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
    case ELOOP:
    case EACCES:
    case EPERM:
    case EROFS:
    case EISDIR:
    case EEXIST:
    case EINVAL:
      if (ec.category() == std::generic_category() || ec.category() == std::system_category())
        return Status::invalid_input(message);
      break;
    default:
      break;
  }
  return Status::io(message);
}

Status errno_error(int err, const std::string& path) {
  return path_error(std::error_code(err, std::generic_category()), path);
}

Result<InputFile> InputFile::open(const std::string& path, std::uintmax_t max_bytes) {
  if (path.empty()) return Status::invalid_input("an empty file name");
  // O_NONBLOCK: opening a FIFO returns at once (and is refused below) instead of waiting.
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (file.fd < 0) return errno_error(errno, path);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return errno_error(errno, path);
  if (!S_ISREG(st.st_mode))
    return Status::invalid_input(path + " is " + kind_of(st.st_mode) + ", not a regular file");
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (size > max_bytes) {
    return Status::invalid_input(path + ": " + std::to_string(size) + " bytes, at most " +
                                 std::to_string(max_bytes) + " allowed");
  }
  const int fd = file.fd;
  file.fd = -1;
  return InputFile(fd, path, size, max_bytes);
}

InputFile::InputFile(InputFile&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      size_(other.size_),
      max_(other.max_),
      done_(other.done_) {
  other.fd_ = -1;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> InputFile::read(char* buf, std::size_t n) {
  for (;;) {
    const ssize_t got = ::read(fd_, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno_error(errno, path_);
    done_ += static_cast<std::uintmax_t>(got);
    if (done_ > max_) {
      return Status::invalid_input(path_ + ": more than " + std::to_string(max_) +
                                   " bytes (it grew while being read)");
    }
    return static_cast<std::size_t>(got);
  }
}

Result<std::string> read_regular_file(const std::string& path, std::uintmax_t max_bytes) {
  Result<InputFile> file = InputFile::open(path, max_bytes);
  if (!file.ok()) return file.status();
  std::string out(static_cast<std::size_t>(file->size()), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    Result<std::size_t> n = file->read(out.data() + done, out.size() - done);
    if (!n.ok()) return n.status();
    if (n.value() == 0) break;  // it shrank meanwhile: what is there
    done += n.value();
  }
  out.resize(done);
  return out;
}

Status replace_file(const std::string& path, const std::string& content, unsigned mode) {
  if (path.empty()) return Status::invalid_input("an empty file name");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return Status::invalid_input(path + " is " + kind_of(st.st_mode) +
                                   ", not a regular file: it is not replaced");
    }
  } else if (errno != ENOENT) {
    return errno_error(errno, path);
  }
  if (Status s = check_folder_of(path); !s.ok()) return s;
  // mkostemp creates a new file (O_EXCL, mode 0600) under a name nobody else holds.
  TempFile temp{path + ".tmp-XXXXXX"};
  temp.fd = ::mkostemp(temp.path.data(), O_CLOEXEC);
  if (temp.fd < 0) {
    temp.committed = true;  // nothing was created
    return errno_error(errno, path);
  }
  if (mode != 0600 && ::fchmod(temp.fd, static_cast<mode_t>(mode)) != 0)
    return errno_error(errno, temp.path);
  if (Status s = write_all(temp.fd, content, temp.path); !s.ok()) return s;
  if (::fsync(temp.fd) != 0) return errno_error(errno, temp.path);
  const int fd = temp.fd;
  temp.fd = -1;
  if (::close(fd) != 0) return errno_error(errno, temp.path);
  if (::rename(temp.path.c_str(), path.c_str()) != 0) return errno_error(errno, path);
  temp.committed = true;
  // The rename is durable only once the folder holding the entry is synced.
  return sync_folder_of(path);
}

}  // namespace vs::util
