// Pull cursors (schema/PROTOCOL.md, "Pull"): what a device has been served, as the opaque text
// it keeps and sends back. parse_cursor() refuses any text encode_cursor() cannot make
// (kInvalidInput); scope sets travel as digests the hub keeps (hub_served_scopes).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <visitsync/status.h>

namespace vs::hub {

using Scopes = std::set<std::string>;

// A pull cursor: the log position reached, with the scopes served up to it; and, while a new
// part of the scope is filled in (a device's first pull, or a scope that grew), the fill's
// progress: ops up to `fill_end` of the records of `filling`, record by record (by idx), done
// up to record `record` and, within it, position `record_pos`. On the wire the scope sets
// travel as digests the hub reads back (hub_served_scopes).
struct Cursor {
  std::uint64_t pos = 0;
  Scopes served;
  bool filling = false;
  Scopes fill;
  std::uint64_t fill_end = 0;
  std::int64_t record = 0;
  std::uint64_t record_pos = 0;
  // While filling: the device's own ops too, which a pull otherwise leaves out (it has them).
  // A device rebuilding a damaged store asks for it (wire::kRefillCursor).
  bool own = false;
};

struct CursorText {
  std::uint64_t pos = 0;
  std::string served = "-";  // digest, "-" for the empty set
  bool filling = false;
  std::string fill = "-";
  std::uint64_t fill_end = 0;
  std::uint64_t record = 0;
  std::uint64_t record_pos = 0;
  bool own = false;  // "o=1"
  // The fingerprint of the log row at the newest position the cursor names (pos, or fill_end
  // while filling; print_at): a hub restored from an older copy holds other ops there, or none.
  std::optional<std::uint64_t> print;
};

// The newest log position a cursor names.
std::uint64_t mark_of(std::uint64_t pos, bool filling, std::uint64_t fill_end);
// A scope set as one comma-separated text, and back.
std::string join(const Scopes& s);
Scopes split(std::string_view text);
// 16 hex digits of the SHA-256 of the joined set; "-" for the empty set.
std::string digest_of(const Scopes& s);

std::string encode_cursor(const CursorText& c);
Result<CursorText> parse_cursor(std::string_view text);

}  // namespace vs::hub
