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

}  // namespace

Result<PullResult> HubStore::pull(std::string_view device_id, std::string_view cursor_text,
                                  std::size_t max_ops) {
  Impl& im = *impl_;
  Result<DeviceRecord> d = im.active_device(device_id);
  if (!d.ok()) return d.status();
  Result<CursorText> parsed = hub::parse_cursor(cursor_text);
  if (!parsed.ok()) return parsed.status();
  Cursor c;
  c.pos = parsed->pos;
  // A digest the hub does not know (its table lost) reads as "nothing served": everything in
  // scope below the cursor is filled in again, which costs bytes but loses nothing.
  Result<std::optional<Scopes>> served = im.scopes_of_digest(device_id, parsed->served);
  if (!served.ok()) return served.status();
  if (served.value()) c.served = std::move(*served.value());
  if (parsed->filling && served.value()) {
    Result<std::optional<Scopes>> fill = im.scopes_of_digest(device_id, parsed->fill);
    if (!fill.ok()) return fill.status();
    if (fill.value()) {
      c.filling = true;
      c.fill = std::move(*fill.value());
      c.fill_end = parsed->fill_end;
      c.record = static_cast<std::int64_t>(parsed->record);
      c.record_pos = parsed->record_pos;
    }
  }
  Result<Scopes> current = im.scope_of(d.value());
  if (!current.ok()) return current.status();
  Result<bool> end_row = im.max_pos.step();
  if (!end_row.ok()) return end_row.status();
  const auto log_end = static_cast<std::uint64_t>(im.max_pos.int64(0));
  im.max_pos.reset();
  // A cursor this log cannot have made (a hub restored from an older copy: its positions end
  // sooner, or hold other ops now) starts over: everything in scope is filled again, which
  // costs bytes but skips nothing.
  const std::uint64_t mark = hub::mark_of(parsed->pos, parsed->filling, parsed->fill_end);
  bool known = mark <= log_end;
  if (known && mark > 0 && parsed->print) {
    Result<std::optional<std::uint64_t>> print = im.print_at(mark);
    if (!print.ok()) return print.status();
    known = print.value() == parsed->print;
  }
  if (!known) c = Cursor();
  // Only what the device may see now: a scope removed since (an assignment ended) is neither
  // served nor filled, even from a cursor made before.
  auto within_current = [&](const Scopes& in_cursor) {
    Scopes out;
    std::set_intersection(in_cursor.begin(), in_cursor.end(), current->begin(), current->end(),
                          std::inserter(out, out.end()));
    return out;
  };
  c.served = within_current(c.served);
  if (c.filling) {
    c.fill = within_current(c.fill);
    if (c.fill.empty()) c.filling = false;
  }
  if (!c.filling) {
    Scopes grown;
    std::set_difference(current->begin(), current->end(), c.served.begin(), c.served.end(),
                        std::inserter(grown, grown.end()));
    // Scopes removed are out of `served` (above): if they come back, they are filled again.
    if (!grown.empty()) {
      // A first pull, or a new assignment: what the new part holds up to here comes first,
      // read record by record through hub_ops_by_record rather than by scanning the log.
      c.filling = true;
      c.fill = std::move(grown);
      c.fill_end = c.pos == 0 ? log_end : c.pos;
      c.record = 0;
      c.record_pos = 0;
    }
  }

  PullResult out;
  std::size_t bytes = 0;
  std::size_t elements = 0;  // within kMaxBatchElements, which the device's decoder enforces
  // Takes the current row's ops unless they would overflow the response: a run is taken whole,
  // so the first row is taken even if it holds more than max_ops. Full: nothing more fits.
  enum class Took { kRow, kRowAndFull, kFull };
  std::vector<Op> run;
  auto take = [&](store::Stmt& st) -> Result<Took> {
    if (!out.ops.empty() && out.ops.size() + changelog::OpLog::row_ops(st) > max_ops)
      return Took::kFull;
    run.clear();
    if (Status s = im.log->read_row(st, run); !s.ok()) return s;
    std::size_t size = changelog::OpLog::row_bytes(st);
    std::size_t count = 0;
    for (const Op& op : run) {
      size += op.record.size() + op.field.size() + 32;
      count += batch_elements(op);
    }
    if (!out.ops.empty() && (bytes + size > kMaxPullBytes || elements + count > kMaxBatchElements))
      return Took::kFull;
    bytes += size;
    elements += count;
    std::move(run.begin(), run.end(), std::back_inserter(out.ops));
    return out.ops.size() >= max_ops || bytes >= kMaxPullBytes ? Took::kRowAndFull : Took::kRow;
  };
  if (c.filling) {
    Result<std::vector<std::int64_t>> records = im.records_in(c.fill, c.record);
    if (!records.ok()) return records.status();
    bool full = false;
    for (std::int64_t rec : records.value()) {
      const std::uint64_t after = rec == c.record ? c.record_pos : 0;
      im.record_ops.bind(1, rec).bind(2, after).bind(3, c.fill_end);
      c.record = rec;
      c.record_pos = after;
      for (;;) {
        Result<bool> row = im.record_ops.step();
        if (!row.ok()) return row.status();
        if (!row.value()) break;
        // Its own ops: the device has them.
        if (changelog::OpLog::row_device(im.record_ops) == device_id) {
          c.record_pos = changelog::OpLog::row_pos(im.record_ops);
          continue;
        }
        Result<Took> t = take(im.record_ops);
        if (!t.ok()) {
          im.record_ops.reset();
          return t.status();
        }
        if (t.value() != Took::kFull) c.record_pos = changelog::OpLog::row_pos(im.record_ops);
        if ((full = t.value() != Took::kRow)) break;
      }
      im.record_ops.reset();
      if (full) break;
      c.record_pos = c.fill_end;  // this record is done
    }
    if (!full) {
      c.filling = false;
      c.served.insert(c.fill.begin(), c.fill.end());
      c.fill.clear();
      c.pos = std::max(c.pos, c.fill_end);
    }
  } else {
    // New ops since the cursor, in log order, scanning at most kScanBudget positions.
    const std::uint64_t window_end = std::min(log_end, c.pos + kScanBudget);
    // The device's own ops are skipped by the query, before the joins: after a large push they
    // are most of the window.
    Result<std::optional<std::int64_t>> own = im.log->find_device(device_id);
    if (!own.ok()) return own.status();
    im.window.bind(1, c.pos).bind(2, window_end).bind(3, own.value().value_or(0));
    std::uint64_t reached = window_end;
    for (;;) {
      Result<bool> row = im.window.step();
      if (!row.ok()) return row.status();
      if (!row.value()) break;
      // An empty key is a damaged row: take() reports it.
      const std::string_view key = changelog::OpLog::row_record(im.window);
      if (!key.empty() && current->count(scope_of_record(key)) == 0) continue;
      Result<Took> t = take(im.window);
      if (!t.ok()) {
        im.window.reset();
        return t.status();
      }
      if (t.value() != Took::kRow) {
        // Up to this row if it was taken, else up to the one before.
        const std::uint64_t at = changelog::OpLog::row_pos(im.window);
        reached = t.value() == Took::kRowAndFull ? at : at - 1;
        break;
      }
    }
    im.window.reset();
    c.pos = reached;
  }
  out.more = c.filling || c.pos < log_end;
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
  }
  if (const std::uint64_t at = hub::mark_of(t.pos, t.filling, t.fill_end); at > 0) {
    Result<std::optional<std::uint64_t>> print = im.print_at(at);
    if (!print.ok()) return print.status();
    t.print = print.value();
  }
  out.next_cursor = hub::encode_cursor(t);
  return out;
}

}  // namespace vs
