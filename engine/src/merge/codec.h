// Binary encodings of the engine's values and op ids, on top of util/bytes.h.
#pragma once

#include <string>
#include <vector>

#include <visitsync/types.h>

#include "util/bytes.h"

namespace vs::merge {

void write_value(util::ByteWriter& w, const Value& v);
// Reads one value; on malformed input marks the reader failed and returns null.
Value read_value(util::ByteReader& r);

void write_op_ids(util::ByteWriter& w, const std::vector<OpId>& ids);
std::vector<OpId> read_op_ids(util::ByteReader& r, std::size_t max);

}  // namespace vs::merge
