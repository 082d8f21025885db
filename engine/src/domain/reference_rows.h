// Reference data rows (schools, inspectors, assignments): the columns of each kind and one CSV
// row checked and turned into its record's fields. The import (reference.cc) streams the rows
// through here one at a time.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/inspection.h>
#include <visitsync/status.h>
#include <visitsync/types.h>

#include "domain/csv.h"

namespace vs::domain {

// One row turned into a record and its fields.
struct ReferenceRow {
  std::string key;
  std::vector<std::pair<std::string, Value>> fields;
  std::string inspector, school;  // assignments: what the row refers to
};

using ColumnIndex = std::map<std::string, std::size_t>;

// "school", in messages.
const char* reference_what(ReferenceKind kind);

// Where each column of the kind is in `header`. Refuses an unknown column, a column twice and a
// missing one, naming it ("line 1: ...").
Result<ColumnIndex> reference_columns(ReferenceKind kind, const std::vector<std::string>& header);

// The record of one row. Refused: a row of another width than the header ("3 cells, the header
// has 4"), or the first bad cell, named by its column and quoting at most an excerpt of it
// ("students: 'many' is not a count").
Result<ReferenceRow> parse_reference_row(ReferenceKind kind, const ColumnIndex& columns,
                                         const CsvRow& row);

}  // namespace vs::domain
