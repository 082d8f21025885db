#include "domain/csv.h"

#include "util/bytes.h"

namespace vs::domain {

Result<CsvTable> parse_csv(std::string_view text) {
  if (text.size() > kMaxCsvBytes) {
    return Status::invalid_input("file is " + std::to_string(text.size()) + " bytes, at most " +
                                 std::to_string(kMaxCsvBytes));
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvTable table;
  std::vector<std::string> cells;
  std::string cell;
  std::size_t line = 1;
  std::size_t row_line = 1;
  bool quoted = false;      // inside a quoted field
  bool was_quoted = false;  // the current field was quoted (and has closed)
  bool row_has_data = false;
  auto line_error = [&](std::size_t at, const std::string& what) {
    return Status::invalid_input("line " + std::to_string(at) + ": " + what);
  };
  auto end_cell = [&]() -> Status {
    if (!util::valid_utf8(cell)) return line_error(row_line, "not UTF-8 text");
    cells.push_back(std::move(cell));
    cell.clear();
    was_quoted = false;
    if (cells.size() > kMaxCsvCells) {
      return line_error(row_line, "more than " + std::to_string(kMaxCsvCells) + " cells");
    }
    return Status();
  };
  auto end_row = [&]() -> Status {
    if (Status s = end_cell(); !s.ok()) return s;
    const bool blank = cells.size() == 1 && cells[0].empty() && !row_has_data;
    if (!blank) {
      if (table.header.empty()) {
        table.header = std::move(cells);
      } else {
        table.rows.push_back(CsvRow{row_line, std::move(cells)});
      }
    }
    cells.clear();
    row_has_data = false;
    return Status();
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell.push_back('"');
          ++i;
        } else {
          quoted = false;
          was_quoted = true;
        }
      } else {
        if (c == '\n') ++line;
        cell.push_back(c);
      }
      continue;
    }
    if (c == ',') {
      row_has_data = true;
      if (Status s = end_cell(); !s.ok()) return s;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (Status s = end_row(); !s.ok()) return s;
      ++line;
      row_line = line;
    } else if (c == '"') {
      if (!cell.empty() || was_quoted) return line_error(line, "a quote inside an unquoted field");
      quoted = true;
      row_has_data = true;
    } else {
      if (was_quoted) return line_error(line, "text after a closing quote");
      cell.push_back(c);
      row_has_data = true;
    }
  }
  if (quoted) return line_error(row_line, "a quoted field is not closed");
  if (row_has_data || !cell.empty() || !cells.empty()) {
    if (Status s = end_row(); !s.ok()) return s;
  }
  if (table.header.empty()) return Status::invalid_input("the file is empty: no header row");
  return table;
}

void append_csv_cell(std::string& out, std::string_view cell) {
  if (cell.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(cell);
    return;
  }
  out.push_back('"');
  for (char c : cell) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace vs::domain
