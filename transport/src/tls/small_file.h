// Reading the small files of a deployment (PEM files, enrollment files and requests).
#pragma once

#include <filesystem>
#include <string>

#include <visitsync/status.h>

namespace vs {

// The whole of `p`, at most twice kMaxPemBytes. kInvalidInput (naming the path) when it is
// missing or larger; kIo when it cannot be read.
Result<std::string> read_small_file(const std::filesystem::path& p);

}  // namespace vs
