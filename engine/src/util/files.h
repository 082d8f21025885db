// Files from and for the outside: every input file visitsync reads (CSV, templates, photos,
// enrollment files, PEM) and every output it writes (exports, enrollment files, keys, photos)
// goes through here, so that a file is what it claims and a failure names its path.
//
// Reading: only a regular file is read (a FIFO would block, a device never end, a folder is no
// file), at most `max_bytes`. Writing: the content goes to a new temporary file beside the
// target, is synced, and takes the target's name; a target that exists and is not a regular
// file (a symlink, FIFO, device or folder) is never replaced.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include <visitsync/status.h>

namespace vs::util {

// A file system error on `path` as a Status: kInvalidInput when the path itself is wrong (no
// such file or folder, not a folder, a name too long, a symlink loop, permission denied, a
// read-only file system), kIo otherwise (a failing disk, a full one). "<path>: <reason>".
Status path_error(const std::error_code& ec, const std::string& path);
Status errno_error(int err, const std::string& path);

Result<std::string> read_regular_file(const std::string& path, std::uintmax_t max_bytes);

// `mode` is the new file's permission bits (0600 for secrets: never readable by others, not
// even between the create and a chmod).
Status replace_file(const std::string& path, const std::string& content, unsigned mode = 0644);

}  // namespace vs::util
