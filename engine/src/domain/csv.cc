#include "domain/csv.h"

#include <algorithm>
#include <cstring>

#include "util/bytes.h"

namespace vs::domain {

CsvSource text_source(std::string_view text) {
  return [text](char* buf, std::size_t n) mutable -> Result<std::size_t> {
    const std::size_t take = std::min(n, text.size());
    if (take == 0) return std::size_t{0};  // text.data() may be null
    std::memcpy(buf, text.data(), take);
    text.remove_prefix(take);
    return take;
  };
}

CsvReader::CsvReader(CsvSource source, const CsvLimits& limits, std::size_t chunk_bytes)
    : source_(std::move(source)), limits_(limits), chunk_(std::max<std::size_t>(chunk_bytes, 3)) {}

// Reads more of the input after what the chunk holds (an empty chunk starts over), never past
// max_bytes: there one byte more is asked for, and if it comes the input is refused.
bool CsvReader::fill() {
  if (eof_ || !failed_.ok()) return false;
  if (pos_ == end_) pos_ = end_ = 0;
  if (end_ == chunk_.size()) return true;
  const std::uint64_t left = limits_.max_bytes - bytes_;
  const std::size_t room =
      left == 0 ? 1 : static_cast<std::size_t>(std::min<std::uint64_t>(chunk_.size() - end_, left));
  Result<std::size_t> n = source_(chunk_.data() + end_, room);
  if (!n.ok()) {
    failed_ = n.status();
    return false;
  }
  const std::size_t got = std::min(n.value(), room);
  if (got == 0) {
    eof_ = true;
    return false;
  }
  if (left == 0) {
    failed_ = line_error(
        line_, "the input is longer than " + std::to_string(limits_.max_bytes) + " bytes");
    return false;
  }
  end_ += got;
  bytes_ += got;
  return true;
}

int CsvReader::get() {
  if (pos_ == end_ && !fill()) return -1;
  return static_cast<unsigned char>(chunk_[pos_++]);
}

int CsvReader::peek() {
  if (pos_ == end_ && !fill()) return -1;
  return static_cast<unsigned char>(chunk_[pos_]);
}

Status CsvReader::line_error(std::size_t line, const std::string& what) const {
  return Status::invalid_input("line " + std::to_string(line) + ": " + what);
}

// A problem in the cell being read (line: where it is, when the cell spans lines).
Status CsvReader::cell_error(const RowState& r, std::size_t line, const std::string& what) const {
  return Status::invalid_input("line " + std::to_string(line) + ", column " +
                               std::to_string(r.row->cells.size() + 1) + ": " + what);
}

Result<std::vector<std::string>> CsvReader::header() {
  if (started_) return Status::internal("CsvReader::header called twice");
  started_ = true;
  while (end_ - pos_ < 3 && fill()) {
  }
  if (end_ - pos_ >= 3 && std::memcmp(chunk_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
  CsvRow row;
  Result<bool> got = read_row(row);
  if (!got.ok()) {
    failed_ = got.status();
    return got.status();
  }
  if (!got.value()) return Status::invalid_input("the file is empty: no header row");
  return std::move(row.cells);
}

Result<bool> CsvReader::next(CsvRow& row) {
  if (!started_) return Status::internal("CsvReader::next before header");
  if (!failed_.ok()) return failed_;
  Result<bool> got = read_row(row);
  if (got.ok() && got.value() && ++rows_ > limits_.max_rows) {
    got = line_error(row.line,
                     "more than " + std::to_string(limits_.max_rows) + " rows after the header");
  }
  if (!got.ok()) failed_ = got.status();
  return got;
}

// One row, its line end included; blank lines are skipped. False at the end of the input.
Result<bool> CsvReader::read_row(CsvRow& row) {
  row.cells.clear();
  RowState r;
  r.row = &row;
  r.line = line_;
  for (;;) {
    const int c = get();
    if (c < 0) return end_of_input(r);
    if (r.quoted) {
      if (Status s = quoted_byte(r, c); !s.ok()) return s;
      continue;
    }
    Result<bool> ended = plain_byte(r, c);
    if (!ended.ok() || ended.value()) return ended;
  }
}

Status CsvReader::end_cell(RowState& r) const {
  if (!util::valid_utf8(r.cell)) return cell_error(r, r.line, "not UTF-8 text");
  r.row->cells.push_back(std::move(r.cell));
  r.cell.clear();
  r.was_quoted = false;
  if (r.row->cells.size() > limits_.max_cells)
    return line_error(r.line, "more than " + std::to_string(limits_.max_cells) + " cells");
  return Status();
}

Status CsvReader::push(RowState& r, char c) const {
  r.cell.push_back(c);
  if (r.cell.size() <= limits_.max_cell_bytes) return Status();
  return cell_error(r, r.line,
                    std::string(r.quoted ? "a quoted" : "a") + " cell longer than " +
                        std::to_string(limits_.max_cell_bytes) + " bytes" +
                        (r.quoted ? " (is a quote not closed?)" : ""));
}

Status CsvReader::quoted_byte(RowState& r, int c) {
  if (c != '"') {
    if (c == '\n') ++line_;
    return push(r, static_cast<char>(c));
  }
  if (peek() == '"') {
    get();
    return push(r, '"');
  }
  r.quoted = false;
  r.was_quoted = true;
  return Status();
}

Result<bool> CsvReader::plain_byte(RowState& r, int c) {
  if (c == ',') {
    r.has_data = true;
    if (Status s = end_cell(r); !s.ok()) return s;
    return false;
  }
  if (c == '\n' || c == '\r') {
    if (c == '\r' && peek() == '\n') get();
    const bool blank = r.blank();
    if (!blank) {
      if (Status s = end_cell(r); !s.ok()) return s;
    }
    ++line_;
    if (!blank) {
      r.row->line = r.line;
      return true;
    }
    r.line = line_;  // a blank line: the row starts on the next one
    return false;
  }
  if (c == '"') {
    if (!r.cell.empty() || r.was_quoted)
      return cell_error(r, line_, "a quote inside an unquoted field");
    r.quoted = true;
    r.has_data = true;
    return false;
  }
  if (r.was_quoted) return cell_error(r, line_, "text after a closing quote");
  r.has_data = true;
  if (Status s = push(r, static_cast<char>(c)); !s.ok()) return s;
  return false;
}

Result<bool> CsvReader::end_of_input(RowState& r) const {
  if (!failed_.ok()) return failed_;
  if (r.quoted) return cell_error(r, r.line, "a quoted field is not closed");
  if (r.blank()) return false;
  if (Status s = end_cell(r); !s.ok()) return s;
  r.row->line = r.line;
  return true;
}

std::string excerpt(std::string_view cell) {
  constexpr std::size_t kMax = 40;
  if (cell.size() <= kMax) return std::string(cell);
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(cell[cut]) & 0xC0) == 0x80) --cut;
  return std::string(cell.substr(0, cut)) + "... (" + std::to_string(cell.size()) + " bytes)";
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
