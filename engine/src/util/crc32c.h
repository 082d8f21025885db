// CRC32C (the Castagnoli polynomial, as in iSCSI and ext4): the checksum of the store's rows.
// Uses the SSE4.2 instruction where the CPU has it, a table otherwise; both give the same value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vs::util {

// Extends `crc` (0 to start) over `n` bytes.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t n);
inline std::uint32_t crc32c(std::uint32_t crc, std::string_view bytes) {
  return crc32c(crc, bytes.data(), bytes.size());
}
// The table's answer, which CPUs without the instruction get (for tests of the two paths).
std::uint32_t crc32c_portable(std::uint32_t crc, const void* data, std::size_t n);

}  // namespace vs::util
