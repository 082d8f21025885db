// libFuzzer target: a reference CSV file as `visitsync-admin import` reads it: the first byte
// picks the kind (schools, inspectors, assignments) and the chunk size the reader pulls; the
// rest is the file, read by CsvReader and each row checked by parse_reference_row.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/csv.h"
#include "domain/reference_rows.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vs;
  if (size == 0) return 0;
  const ReferenceKind kinds[] = {ReferenceKind::kSchools, ReferenceKind::kInspectors,
                                 ReferenceKind::kAssignments};
  const ReferenceKind kind = kinds[data[0] % 3];
  const std::size_t chunk = 1 + (data[0] >> 2) * 16;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  domain::CsvLimits limits;
  limits.max_rows = 1000;
  domain::CsvReader reader(domain::text_source(text), limits, chunk);
  Result<std::vector<std::string>> header = reader.header();
  fuzz::refused_with_reason(header.status());
  if (!header.ok()) return 0;
  Result<domain::ColumnIndex> columns = domain::reference_columns(kind, header.value());
  fuzz::refused_with_reason(columns.status());
  domain::CsvRow row;
  for (;;) {
    Result<bool> more = reader.next(row);
    fuzz::refused_with_reason(more.status());
    if (!more.ok() || !more.value()) break;
    if (columns.ok())
      fuzz::refused_with_reason(domain::parse_reference_row(kind, columns.value(), row).status());
  }
  return 0;
}
