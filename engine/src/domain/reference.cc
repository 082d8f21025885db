// Reference data from CSV: schools, inspectors, assignments. All rows or none; each bad row is
// reported with its line number and reason; re-importing writes only what changed.
//
// The import streams: rows come one at a time from the CSV reader, are checked, and are written
// kBatchRows at a time, all in one transaction, so memory does not grow with the file. A key
// listed twice is found across the whole file (SeenKeys). Once a row is bad nothing more is
// written, but the rest is still read, so that every bad row is counted (the first kMaxReported
// listed); the transaction then rolls back.
#include <set>

#include <visitsync/inspection.h>

#include "domain/csv.h"
#include "domain/inspection_impl.h"
#include "domain/reference_rows.h"
#include "domain/seen_keys.h"
#include "util/files.h"

namespace vs {
namespace {

constexpr std::size_t kMaxReported = 20;
constexpr std::size_t kBatchRows = 1000;
constexpr std::size_t kMaxKnown = 4096;  // references found to exist, remembered

class Importer {
 public:
  Importer(Engine& engine, ReferenceKind kind, domain::SeenKeys seen)
      : engine_(engine), kind_(kind), seen_(std::move(seen)) {}

  // Reads every row and writes them; call inside a transaction.
  Status run(domain::CsvReader& reader);
  const ImportReport& report() const { return report_; }

 private:
  Status take(const domain::CsvRow& row);
  Status check_references(const domain::ReferenceRow& p, const std::string& at);
  Result<bool> exists(const std::string& key);
  Status flush();
  void problem(std::string what);

  Engine& engine_;
  ReferenceKind kind_;
  domain::SeenKeys seen_;
  domain::ColumnIndex columns_;
  std::set<std::string> known_;
  std::vector<domain::ReferenceRow> batch_;
  std::vector<std::string> problems_;  // the first kMaxReported
  std::size_t bad_rows_ = 0;
  ImportReport report_;
};

Status Importer::run(domain::CsvReader& reader) {
  Result<std::vector<std::string>> header = reader.header();
  if (!header.ok()) return header.status().annotate("nothing imported");
  Result<domain::ColumnIndex> columns = domain::reference_columns(kind_, header.value());
  if (!columns.ok()) return columns.status().annotate("nothing imported");
  columns_ = std::move(columns.value());
  domain::CsvRow row;
  for (;;) {
    Result<bool> got = reader.next(row);
    if (!got.ok()) return got.status().annotate("nothing imported");
    if (!got.value()) break;
    if (Status s = take(row); !s.ok()) return s;
    if (batch_.size() >= kBatchRows) {
      if (Status s = flush(); !s.ok()) return s;
    }
  }
  if (bad_rows_ > 0) {
    std::string msg =
        std::to_string(bad_rows_) + " bad row" + (bad_rows_ == 1 ? "" : "s") + ", nothing imported";
    for (const std::string& p : problems_) msg += "\n  " + p;
    if (bad_rows_ > problems_.size())
      msg += "\n  ... and " + std::to_string(bad_rows_ - problems_.size()) + " more";
    return Status::invalid_input(msg);
  }
  return flush();
}

// Checks one row; a good one joins the batch (unless an earlier row was bad: then nothing more
// is written). Errors are the store's; bad rows are problems.
Status Importer::take(const domain::CsvRow& row) {
  const std::string at = "line " + std::to_string(row.line) + ": ";
  Result<domain::ReferenceRow> p = domain::parse_reference_row(kind_, columns_, row);
  if (!p.ok()) {
    problem(at + p.status().message());
    return Status();
  }
  Result<std::optional<std::size_t>> first = seen_.first_seen(p->key, row.line);
  if (!first.ok()) return first.status();
  if (first.value()) {
    problem(at + domain::reference_what(kind_) + " " + p->key.substr(p->key.find('/') + 1) +
            " is listed twice (first on line " + std::to_string(*first.value()) + ")");
    return Status();
  }
  if (kind_ == ReferenceKind::kAssignments) {
    if (Status s = check_references(p.value(), at); !s.ok()) return s;
  }
  ++report_.rows;
  if (bad_rows_ == 0) batch_.push_back(std::move(p.value()));
  return Status();
}

Status Importer::check_references(const domain::ReferenceRow& p, const std::string& at) {
  for (const auto& [ref, what] :
       {std::pair{domain::inspector_record(p.inspector), "inspector " + p.inspector},
        std::pair{domain::school_record(p.school), "school " + p.school}}) {
    Result<bool> ok = exists(ref);
    if (!ok.ok()) return ok.status();
    if (!ok.value()) problem(at + what + " is not imported");
  }
  return Status();
}

Result<bool> Importer::exists(const std::string& key) {
  if (known_.count(key) != 0) return true;
  Result<RecordView> r = engine_.read(key);
  if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
  if (!r.ok()) return false;
  if (known_.size() >= kMaxKnown) known_.clear();
  known_.insert(key);
  return true;
}

void Importer::problem(std::string what) {
  ++bad_rows_;
  batch_.clear();
  if (problems_.size() < kMaxReported) problems_.push_back(std::move(what));
}

// Writes the batch: only what changed, so a re-import of the same file writes nothing.
Status Importer::flush() {
  std::vector<Write> writes;
  for (const domain::ReferenceRow& p : batch_) {
    Result<RecordView> current = engine_.read(p.key);
    if (!current.ok() && current.status().code() != Code::kNotFound) return current.status();
    const std::size_t before = writes.size();
    for (const auto& [field, value] : p.fields) {
      const FieldView* f = current.ok() ? current->find(field) : nullptr;
      if (f == nullptr || f->value != value || f->conflict) {
        writes.push_back(Write{p.key, field, Policy::kLww, value, 0});
      }
    }
    if (!current.ok()) {
      ++report_.created;
    } else if (writes.size() != before) {
      ++report_.updated;
    } else {
      ++report_.unchanged;
    }
  }
  batch_.clear();
  if (writes.empty()) return Status();
  Result<std::vector<OpId>> ids = engine_.write_batch(writes);
  return ids.status();
}

}  // namespace

Result<ImportReport> Inspection::import_reference_stream(ReferenceKind kind,
                                                         const ByteSource& source) {
  Result<domain::SeenKeys> seen = domain::SeenKeys::open();
  if (!seen.ok()) return seen.status();
  Importer importer(*impl_->engine, kind, std::move(seen.value()));
  domain::CsvReader reader(source);
  if (Status s = impl_->engine->transaction([&] { return importer.run(reader); }); !s.ok())
    return s;
  return importer.report();
}

Result<ImportReport> Inspection::import_reference(ReferenceKind kind, std::string_view csv) {
  return import_reference_stream(kind, domain::text_source(csv));
}

Result<ImportReport> Inspection::import_reference_file(ReferenceKind kind,
                                                       const std::string& path) {
  Result<util::InputFile> file = util::InputFile::open(path, domain::CsvLimits().max_bytes);
  if (!file.ok()) return file.status();
  auto source = [&file](char* buf, std::size_t n) { return file->read(buf, n); };
  Result<ImportReport> r = import_reference_stream(kind, source);
  if (!r.ok()) return r.status().annotate(path);
  return r;
}

}  // namespace vs
