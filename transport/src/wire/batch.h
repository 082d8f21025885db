// The wire form of a batch of ops: columnar (each attribute of every op together, so that
// repeats compress well), with devices, records and fields named once per batch, then
// compressed with zstd.
//
// Why zstd rather than zlib: at level 3 it is both faster and smaller on these batches, and the
// benchmark floor (zstd -3 over the JSON of 100-visit batches) is measured with it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <visitsync/status.h>
#include <visitsync/types.h>

namespace vs::wire {

inline constexpr std::size_t kMaxBatchOps = 200'000;
inline constexpr std::size_t kMaxBatchBytes = 16u << 20;  // decompressed

// Encodes ops as one compressed batch.
std::string encode_batch(const std::vector<Op>& ops);

// Decodes a batch of at most `max_ops` ops. kCorrupt names what is malformed: an unknown
// format, a declared size above kMaxBatchBytes, bad compression, more ops than `max_ops` (told
// before any is made), more set items and base entries than vs::kMaxBatchElements, a truncated
// column, an index out of range, trailing bytes. The ops are not checked beyond their encoding
// (the engine checks them when it applies them).
Result<std::vector<Op>> decode_batch(std::string_view bytes, std::size_t max_ops = kMaxBatchOps);

}  // namespace vs::wire
