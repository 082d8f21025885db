// The record keys an import has met so far, with the line of each, so that a key listed twice is
// found however far apart its rows are. They are kept in a private temporary SQLite database (a
// file SQLite deletes on close, behind a page cache of a few MiB), not in memory: a file of two
// million rows costs the import no more memory than one of ten.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include <visitsync/status.h>

#include "store/db.h"

namespace vs::domain {

class SeenKeys {
 public:
  static Result<SeenKeys> open();

  // Records `key` as met on `line`; or, when it was met before, returns the line it was first
  // met on (and records nothing).
  Result<std::optional<std::size_t>> first_seen(std::string_view key, std::size_t line);

 private:
  SeenKeys() = default;
  std::unique_ptr<store::Db> db_;
  store::Stmt insert_, find_;
};

}  // namespace vs::domain
