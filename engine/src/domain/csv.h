// CSV as RFC 4180 writes it (and spreadsheet programs export it): comma separated, fields
// optionally in double quotes with "" for a quote, LF or CRLF line ends, an optional UTF-8
// byte-order mark. The reader streams: it pulls its input in chunks and hands out one row at a
// time, so what it holds is one chunk and one row, whatever the size of the input. It reports
// the line (and the column) of every problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <visitsync/status.h>

namespace vs::domain {

struct CsvRow {
  std::size_t line = 0;  // the line the row starts on, 1 = the header
  std::vector<std::string> cells;
};

// What a CSV input may hold (tools/COMMANDS.md, "CSV files"). A reference import's widest row
// has 11 cells and its longest valid cell 200 bytes; a million schools take about 110 MB.
struct CsvLimits {
  std::uint64_t max_bytes = std::uint64_t{1} << 30;  // the whole input: 1 GiB
  std::size_t max_rows = 2'000'000;                  // rows after the header
  std::size_t max_cells = 200;                       // cells in one row
  std::size_t max_cell_bytes = 1024;                 // bytes in one cell
};

// Fills at most `n` bytes of `buf` and returns how many; 0 at the end of the input.
using CsvSource = std::function<Result<std::size_t>(char* buf, std::size_t n)>;
// A source over text held elsewhere (not copied: it must outlive the reader).
CsvSource text_source(std::string_view text);

class CsvReader {
 public:
  static constexpr std::size_t kChunkBytes = 64u << 10;
  explicit CsvReader(CsvSource source, const CsvLimits& limits = CsvLimits(),
                     std::size_t chunk_bytes = kChunkBytes);

  // The header: the first row that is not blank. Refuses an input that has none. Call first.
  Result<std::vector<std::string>> header();
  // The next row after the header into `row`; false at the end of the input. Refuses text that
  // is not UTF-8, an unterminated quote, a stray quote inside an unquoted field, and anything
  // past a limit; errors name the line (and the column), never the input.
  Result<bool> next(CsvRow& row);

  std::uint64_t bytes_read() const { return bytes_; }

 private:
  int get();   // the next byte (0-255), or -1 at the end or after a failure (in failed_)
  int peek();  // the same without taking it
  bool fill();
  // The row being read.
  struct RowState {
    CsvRow* row = nullptr;
    std::string cell;
    std::size_t line = 0;     // where the row starts
    bool quoted = false;      // inside a quoted field
    bool was_quoted = false;  // the current field was quoted (and has closed)
    bool has_data = false;    // the row is not blank
    bool blank() const { return !has_data && cell.empty() && row->cells.empty(); }
  };
  Result<bool> read_row(CsvRow& row);
  Status end_cell(RowState& r) const;
  Status push(RowState& r, char c) const;
  Status quoted_byte(RowState& r, int c);
  Result<bool> plain_byte(RowState& r, int c);  // true: `c` ended the row
  Result<bool> end_of_input(RowState& r) const;
  Status line_error(std::size_t line, const std::string& what) const;
  Status cell_error(const RowState& r, std::size_t line, const std::string& what) const;

  CsvSource source_;
  CsvLimits limits_;
  std::vector<char> chunk_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  Status failed_;
  std::uint64_t bytes_ = 0;
  std::size_t line_ = 1;
  std::size_t rows_ = 0;
  bool started_ = false;
};

// A cell quoted in a message: at most 40 bytes of it (cut at a character's boundary), with the
// size of the whole when it is longer.
std::string excerpt(std::string_view cell);

// Appends one cell, quoted when it holds a comma, a quote or a line break.
void append_csv_cell(std::string& out, std::string_view cell);

}  // namespace vs::domain
