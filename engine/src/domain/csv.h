// CSV as RFC 4180 writes it (and spreadsheet programs export it): comma separated, fields
// optionally in double quotes with "" for a quote, LF or CRLF line ends, an optional UTF-8
// byte-order mark. The parser reports the line of every problem.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <visitsync/status.h>

namespace vs::domain {

struct CsvRow {
  std::size_t line = 0;  // the line the row starts on, 1 = the header
  std::vector<std::string> cells;
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
};

inline constexpr std::size_t kMaxCsvBytes = 64u << 20;
inline constexpr std::size_t kMaxCsvCells = 200;

// Parses the whole text. Refuses text that is not UTF-8, an unterminated quote, a stray quote
// inside an unquoted field, and rows of more than kMaxCsvCells cells; errors name the line.
Result<CsvTable> parse_csv(std::string_view text);

// Appends one cell, quoted when it holds a comma, a quote or a line break.
void append_csv_cell(std::string& out, std::string_view cell);

}  // namespace vs::domain
