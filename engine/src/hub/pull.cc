// HubStore::pull: a device's scope, back-filled when it grew, then the log's new ops in order
// (hub_store.h), within a scan, an op count, a byte and an element budget per call.
#include <algorithm>
#include <iterator>

#include "hub/hub_impl.h"

namespace vs {
namespace {

using hub::Cursor;
using hub::CursorText;
using hub::Scopes;

// How far one pull may scan the log, in positions (rows): bounds the time of a call on a device
// whose scope is a small part of a large log.
constexpr std::uint64_t kScanBudget = 200'000;
// About how many bytes of ops one pull returns at most, so that its frame stays far below the
// wire's limit even when notes are long. A row that would cross it waits for the next pull
// (a row holds at most changelog::kMaxRunBytes plus two ops, far below this).
constexpr std::size_t kMaxPullBytes = 4u << 20;

Scopes intersect(const Scopes& a, const Scopes& b) {
  Scopes out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

// One pull's response as it fills, within its budgets.
struct Response {
  explicit Response(std::size_t max) : max_ops(max) {}
  std::size_t max_ops;
  PullResult out;
  std::size_t bytes = 0;
  std::size_t elements = 0;  // within kMaxBatchElements, which the device's decoder enforces
  std::vector<Op> run;

  // Takes a row's ops unless they would overflow the response: a run is taken whole, so the
  // first row is taken even if it holds more than max_ops. Full: nothing more fits.
  enum class Took { kRow, kRowAndFull, kFull };
  Result<Took> take(const hub::LogRow& row) {
    std::vector<Op>& ops = out.ops;
    if (!ops.empty() && ops.size() + row.op_count() > max_ops) return Took::kFull;
    run.clear();
    if (Status s = row.read(run); !s.ok()) return s;
    std::size_t size = row.stored_bytes();
    std::size_t count = 0;
    for (const Op& op : run) {
      size += op.record.size() + op.field.size() + 32;
      count += batch_elements(op);
    }
    if (!ops.empty() && (bytes + size > kMaxPullBytes || elements + count > kMaxBatchElements))
      return Took::kFull;
    bytes += size;
    elements += count;
    std::move(run.begin(), run.end(), std::back_inserter(ops));
    return ops.size() >= max_ops || bytes >= kMaxPullBytes ? Took::kRowAndFull : Took::kRow;
  }
};

// The cursor the device sent, as far as it still holds: a cursor this log cannot have made (a
// hub restored from an older copy: its positions end sooner, or hold other ops now) starts
// over, and only scopes the device may see now are served or filled. A scope set the hub does
// not know (its table lost) reads as nothing served: everything in scope below the cursor is
// filled in again, which costs bytes but skips nothing.
Result<Cursor> resume(HubStore::Impl& im, std::string_view device_id, const CursorText& parsed,
                      const Scopes& current, std::uint64_t log_end) {
  Cursor c;
  c.pos = parsed.pos;
  Result<std::optional<Scopes>> served = im.scopes_of_digest(device_id, parsed.served);
  if (!served.ok()) return served.status();
  if (served.value()) c.served = std::move(*served.value());
  if (parsed.filling && served.value()) {
    Result<std::optional<Scopes>> fill = im.scopes_of_digest(device_id, parsed.fill);
    if (!fill.ok()) return fill.status();
    if (fill.value()) {
      c.filling = true;
      c.fill = std::move(*fill.value());
      c.fill_end = parsed.fill_end;
      c.record = static_cast<std::int64_t>(parsed.record);
      c.record_pos = parsed.record_pos;
    }
  }
  const std::uint64_t mark = hub::mark_of(parsed.pos, parsed.filling, parsed.fill_end);
  bool known = mark <= log_end;
  if (known && mark > 0 && parsed.print) {
    Result<std::optional<std::uint64_t>> print = im.print_at(mark);
    if (!print.ok()) return print.status();
    known = print.value() == parsed.print;
  }
  if (!known) c = Cursor();
  c.served = intersect(c.served, current);
  if (c.filling) {
    c.fill = intersect(c.fill, current);
    if (c.fill.empty()) c.filling = false;
  }
  if (!c.filling) {
    // A first pull, or a new assignment: what the new part holds up to here comes first, read
    // record by record rather than by scanning the log. Scopes removed are out of `served`: if
    // they come back, they are filled again.
    Scopes grown;
    std::set_difference(current.begin(), current.end(), c.served.begin(), c.served.end(),
                        std::inserter(grown, grown.end()));
    if (!grown.empty()) {
      c.filling = true;
      c.fill = std::move(grown);
      c.fill_end = c.pos == 0 ? log_end : c.pos;
      c.record = 0;
      c.record_pos = 0;
    }
  }
  c.own = c.filling && parsed.own;
  return c;
}

// Fills the new part of the scope, record by record, up to c.fill_end.
Status fill(HubStore::Impl& im, std::string_view device_id, Cursor& c, Response& r) {
  Result<std::vector<std::int64_t>> records = im.records_in(c.fill, c.record);
  if (!records.ok()) return records.status();
  bool full = false;
  for (std::int64_t rec : records.value()) {
    const std::uint64_t after = rec == c.record ? c.record_pos : 0;
    c.record = rec;
    c.record_pos = after;
    Status scanned = im.store->scan_record(
        rec, after, c.fill_end, [&](const hub::LogRow& row) -> Result<hub::Scan> {
          if (!c.own && row.device() == device_id) {  // its own ops: the device has them
            c.record_pos = row.pos();
            return hub::Scan::kNext;
          }
          Result<Response::Took> t = r.take(row);
          if (!t.ok()) return t.status();
          if (t.value() != Response::Took::kFull) c.record_pos = row.pos();
          full = t.value() != Response::Took::kRow;
          return full ? hub::Scan::kStop : hub::Scan::kNext;
        });
    if (!scanned.ok()) return scanned;
    if (full) return Status();
    c.record_pos = c.fill_end;  // this record is done
  }
  c.filling = false;
  c.own = false;
  c.served.insert(c.fill.begin(), c.fill.end());
  c.fill.clear();
  c.pos = std::max(c.pos, c.fill_end);
  return Status();
}

// New ops since the cursor, in log order, scanning at most kScanBudget positions. The device's
// own ops are not in the scan: it has them.
Status follow(HubStore::Impl& im, std::string_view device_id, const Scopes& current,
              std::uint64_t log_end, Cursor& c, Response& r) {
  const std::uint64_t window_end = std::min(log_end, c.pos + kScanBudget);
  std::uint64_t reached = window_end;
  Status scanned = im.store->scan_log(
      c.pos, window_end, device_id, [&](const hub::LogRow& row) -> Result<hub::Scan> {
        // An empty key is a damaged row: take() reports it.
        const std::string_view key = row.record();
        if (!key.empty() && current.count(scope_of_record(key)) == 0) return hub::Scan::kNext;
        Result<Response::Took> t = r.take(row);
        if (!t.ok()) return t.status();
        if (t.value() == Response::Took::kRow) return hub::Scan::kNext;
        // Up to this row if it was taken, else up to the one before.
        reached = t.value() == Response::Took::kRowAndFull ? row.pos() : row.pos() - 1;
        return hub::Scan::kStop;
      });
  if (!scanned.ok()) return scanned;
  c.pos = reached;
  return Status();
}

// The cursor as the text the device keeps, its scope sets recorded by digest.
Result<std::string> cursor_text(HubStore::Impl& im, std::string_view device_id, const Cursor& c) {
  CursorText t;
  t.pos = c.pos;
  Result<std::string> s_digest = im.remember_scopes(device_id, c.served);
  if (!s_digest.ok()) return s_digest.status();
  t.served = s_digest.value();
  if (c.filling) {
    Result<std::string> n_digest = im.remember_scopes(device_id, c.fill);
    if (!n_digest.ok()) return n_digest.status();
    t.filling = true;
    t.fill = n_digest.value();
    t.fill_end = c.fill_end;
    t.record = static_cast<std::uint64_t>(c.record);
    t.record_pos = c.record_pos;
    t.own = c.own;
  }
  if (const std::uint64_t at = hub::mark_of(t.pos, t.filling, t.fill_end); at > 0) {
    Result<std::optional<std::uint64_t>> print = im.print_at(at);
    if (!print.ok()) return print.status();
    t.print = print.value();
  }
  return hub::encode_cursor(t);
}

}  // namespace

Result<PullResult> HubStore::pull(std::string_view device_id, std::string_view cursor_text_in,
                                  std::size_t max_ops) {
  Impl& im = *impl_;
  Result<DeviceRecord> d = im.active_device(device_id);
  if (!d.ok()) return d.status();
  Result<CursorText> parsed = hub::parse_cursor(cursor_text_in);
  if (!parsed.ok()) return parsed.status();
  Result<Scopes> current = im.scope_of(d.value());
  if (!current.ok()) return current.status();
  Result<std::uint64_t> log_end = im.store->log_end();
  if (!log_end.ok()) return log_end.status();
  Result<Cursor> c = resume(im, device_id, parsed.value(), current.value(), log_end.value());
  if (!c.ok()) return c.status();
  Response r(max_ops);
  Status s = c->filling ? fill(im, device_id, c.value(), r)
                        : follow(im, device_id, current.value(), log_end.value(), c.value(), r);
  if (!s.ok()) return s;
  r.out.more = c->filling || c->pos < log_end.value();
  Result<std::string> next = cursor_text(im, device_id, c.value());
  if (!next.ok()) return next.status();
  r.out.next_cursor = std::move(next.value());
  return std::move(r.out);
}

}  // namespace vs
