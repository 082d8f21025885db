// domain/csv.h: the streaming CSV reader. Rows read the same however the input is cut into
// chunks; malformed input and input past a limit are refused with the line and column; the
// reader holds one chunk and one row, never the input.
#include "domain/csv.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include <catch2/catch.hpp>

using namespace vs;
using domain::CsvLimits;
using domain::CsvReader;
using domain::CsvRow;

namespace {

struct Table {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
};

// A source that hands out at most `piece` bytes a call, and counts what it handed out.
struct PieceSource {
  std::string text;
  std::size_t piece = 1;
  std::size_t given = 0;
  Result<std::size_t> operator()(char* buf, std::size_t n) {
    const std::size_t take = std::min({n, piece, text.size() - given});
    std::memcpy(buf, text.data() + given, take);
    given += take;
    return take;
  }
};

Result<Table> read_all(const std::string& text, std::size_t piece = 1 << 20,
                       std::size_t chunk = CsvReader::kChunkBytes,
                       const CsvLimits& limits = CsvLimits()) {
  CsvReader reader(PieceSource{text, piece}, limits, chunk);
  Table t;
  Result<std::vector<std::string>> header = reader.header();
  if (!header.ok()) return header.status();
  t.header = std::move(header.value());
  for (CsvRow row;;) {
    Result<bool> got = reader.next(row);
    if (!got.ok()) return got.status();
    if (!got.value()) return t;
    t.rows.push_back(row);
  }
}

std::string error_of(const std::string& text, const CsvLimits& limits = CsvLimits()) {
  Result<Table> t = read_all(text, 1 << 20, CsvReader::kChunkBytes, limits);
  return t.ok() ? "(accepted)" : t.status().message();
}

}  // namespace

TEST_CASE("CSV cells may be quoted, hold commas, quotes and line breaks",
          "[engine][reference][csv]") {
  Result<Table> t = read_all(
      "\xEF\xBB\xBF"
      "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",\n\n3,,last");
  REQUIRE(t.ok());
  CHECK(t->header == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(t->rows.size() == 3);
  CHECK(t->rows[0].cells == std::vector<std::string>{"1", "x, y", "say \"hi\""});
  CHECK(t->rows[1].cells == std::vector<std::string>{"2", "two\nlines", ""});
  CHECK(t->rows[1].line == 3);
  CHECK(t->rows[2].line == 6);  // the row after a two-line cell and a blank line
  std::string out;
  domain::append_csv_cell(out, "x, \"y\"");
  CHECK(out == "\"x, \"\"y\"\"\"");
}

TEST_CASE("rows read the same wherever the input's chunks end", "[engine][reference][csv]") {
  // Quotes, doubled quotes, CRLF, a lone CR, a cell over several lines, a blank line, a BOM and
  // a multi-byte character: every byte of it falls on a chunk's end for some piece size.
  const std::string text =
      "\xEF\xBB\xBF"
      "id,name,note\r\n"
      "1,\"a \"\"quoted\"\" name\",\"line one\r\nline two\"\r\n"
      "\r\n"
      "2,代县,\"\"\r"
      "3,\"\"\"\",\"x,\ny\"\n"
      "4,,end";
  const std::vector<std::vector<std::string>> expected = {
      {"1", "a \"quoted\" name", "line one\r\nline two"},
      {"2", "代县", ""},
      {"3", "\"", "x,\ny"},
      {"4", "", "end"}};
  const std::vector<std::size_t> lines = {2, 5, 6, 8};
  for (std::size_t chunk : {std::size_t{3}, std::size_t{4}, std::size_t{7}, std::size_t{64}}) {
    for (std::size_t piece = 1; piece <= text.size(); ++piece) {
      INFO("chunk " << chunk << ", piece " << piece);
      Result<Table> t = read_all(text, piece, chunk);
      REQUIRE(t.ok());
      CHECK(t->header == std::vector<std::string>{"id", "name", "note"});
      REQUIRE(t->rows.size() == expected.size());
      for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK(t->rows[i].cells == expected[i]);
        CHECK(t->rows[i].line == lines[i]);
      }
    }
  }
}

TEST_CASE("malformed CSV is refused with its line and column", "[engine][reference][csv][input]") {
  CHECK(error_of("a,b\n1,\"open\n2,3\n") == "line 2, column 2: a quoted field is not closed");
  CHECK(error_of("a,b\n1,x\"y\n") == "line 2, column 2: a quote inside an unquoted field");
  CHECK(error_of("a,b\n1,\"x\"y\n") == "line 2, column 2: text after a closing quote");
  CHECK(error_of("a,b\n1,\xff\n") == "line 2, column 2: not UTF-8 text");
  // A stray quote on the second line of a cell that spans lines: the line is where it is.
  CHECK(error_of("a,b\n1,\"two\nlines\"x\n") == "line 3, column 2: text after a closing quote");
  CHECK(error_of("") == "the file is empty: no header row");
  CHECK(error_of("\n\r\n") == "the file is empty: no header row");
  CHECK(error_of("\xEF\xBB\xBF") == "the file is empty: no header row");
}

TEST_CASE("CSV past a limit is refused at the line where it passes",
          "[engine][reference][csv][input]") {
  CsvLimits limits;
  limits.max_cells = 3;
  limits.max_cell_bytes = 8;
  limits.max_rows = 2;
  CHECK(error_of("a,b,c\n1,2,3\n", limits) == "(accepted)");
  CHECK(error_of("a,b,c\n1,2,3,4\n", limits) == "line 2: more than 3 cells");
  CHECK(error_of("a,b,c\n1,123456789,3\n", limits) ==
        "line 2, column 2: a cell longer than 8 bytes");
  // An unclosed quote stops at the cell limit, not at the end of a big file.
  CHECK(error_of("a,b,c\n1,\"2,3\n4,5,6\n7,8,9\n", limits) ==
        "line 2, column 2: a quoted cell longer than 8 bytes (is a quote not closed?)");
  CHECK(error_of("a,b,c\n1,2,3\n4,5,6\n", limits) == "(accepted)");
  CHECK(error_of("a,b,c\n1,2,3\n4,5,6\n\n7,8,9\n", limits) ==
        "line 5: more than 2 rows after the header");
  CsvLimits bytes;
  bytes.max_bytes = 16;
  CHECK(error_of("a,b,c\n1,2,3\n4,5,", bytes) == "(accepted)");  // 16 bytes
  CHECK(error_of("a,b,c\n1,2,3\n4,5,6\n", bytes) == "line 3: the input is longer than 16 bytes");
}

TEST_CASE("the reader pulls its input a chunk at a time", "[engine][reference][csv]") {
  // A 2 MB input: at every row the reader has taken at most one chunk past the row's end.
  std::string text = "id,name\n";
  for (int i = 0; text.size() < (2u << 20); ++i) text += std::to_string(i) + ",school\n";
  PieceSource counted{text, 1 << 30};
  CsvReader reader(std::ref(counted), CsvLimits(), 4096);
  REQUIRE(reader.header().ok());
  std::size_t consumed = 8;  // the header's bytes
  std::size_t rows = 0;
  std::size_t most_ahead = 0;
  for (CsvRow row; reader.next(row).value(); ++rows) {
    REQUIRE(row.cells[0] == std::to_string(rows));
    consumed += row.cells[0].size() + 8;
    most_ahead = std::max(most_ahead, counted.given - consumed);
  }
  CHECK(most_ahead <= 4096);
  CHECK(rows > 150'000);
  CHECK(counted.given == text.size());
  CHECK(reader.bytes_read() == text.size());
}

TEST_CASE("a cell quoted in a message is cut to a short excerpt", "[engine][reference][csv]") {
  CHECK(domain::excerpt("short") == "short");
  const std::string long_cell(5000, 'x');
  CHECK(domain::excerpt(long_cell) == std::string(40, 'x') + "... (5000 bytes)");
  // Never inside a character: 代 is three bytes.
  std::string chinese;
  for (int i = 0; i < 20; ++i) chinese += "代";
  CHECK(domain::excerpt(chinese) == chinese.substr(0, 39) + "... (60 bytes)");
}
