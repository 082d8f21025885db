// Engine: one replica of the visitsync store (a device or the hub), on one SQLite file.
//
// Every local write becomes an op committed in the same transaction as the state it changes;
// ops from other replicas are merged by apply_remote() under the rules of engine/MERGE.md,
// so that the state is a function of the set of ops received. An Engine is used by one
// thread at a time; several Engines (in one or several processes) may open the same file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <visitsync/status.h>
#include <visitsync/types.h>

namespace vs {

// Where the engine reads the time. Tests pass a ManualClock to jump years.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() = 0;  // milliseconds since the epoch
};
// The system's real-time clock.
Clock& system_clock();

// How hard a commit waits for the disk.
enum class Durability : std::uint8_t {
  // The default: every commit is on disk before it returns (WAL, synchronous=FULL). A write
  // that returned survives a crash of the app, the OS or the power.
  kFull = 0,
  // A commit survives the app being killed, not a power cut (WAL, synchronous=NORMAL).
  kNormal = 1,
};

struct Options {
  // This replica's device id, recorded when the store is created. When opening an existing
  // store it may be empty; otherwise it must match the recorded one.
  std::string device_id;
  bool create_if_missing = true;
  Durability durability = Durability::kFull;
  Clock* clock = nullptr;  // borrowed, must outlive the engine; nullptr = system_clock()
  int busy_timeout_ms = 5000;
  // SQLite's integrity check (every b-tree sound and in order, every index entry matching its
  // table) runs at open when the file is at most this size: 64 MiB is a device's store many
  // times over, and on these stores it costs what the quick check does (under 1 ms a MB).
  // A bigger store gets the quick check (no index cross-check) after an unclean close, or
  // when damage is already known. A store that fails does not open (kDamaged): a damaged
  // b-tree or index can make rows vanish from reads, which no row checksum sees.
  std::uint64_t check_bytes = std::uint64_t{64} << 20;
  // For a repair only (Engine::salvage): opens a store that fails those checks, to read what
  // rows can still be read.
  bool salvage = false;
};

// What apply_remote() did with a batch.
struct ApplyReport {
  struct Rejection {
    std::size_t index = 0;  // position in the batch
    OpId op;
    Status reason;
  };
  std::size_t applied = 0;     // new ops merged
  std::size_t duplicates = 0;  // ops this replica already had (identical)
  std::vector<Rejection> rejected;
  std::vector<std::string> changed;  // the records new ops were merged into, sorted
};

// A slice of the op log in arrival order (see log_after).
struct LogSlice {
  std::vector<Op> ops;
  std::uint64_t next_cursor = 0;  // pass back to continue after the last op returned
};

struct EngineStats {
  std::uint64_t ops = 0;           // ops in the log, from every device
  std::uint64_t own_ops = 0;       // ops written on this replica
  std::uint64_t last_own_seq = 0;  // highest origin seq of this replica
  std::uint64_t records = 0;
  std::uint64_t conflicts = 0;  // flagged fields
  std::int32_t schema_version = 0;
};

class Engine {
 public:
  // Opens (or creates) the store at `path`, applying pending migrations. Refuses with
  // kInvalidInput a file that is not a visitsync store, or one written by a newer version;
  // kDamaged a file SQLite cannot read; kInvalidInput an options.device_id that does not match
  // the store's.
  //
  // Damage: every row carries a checksum, checked when it is read. A read of a damaged row
  // fails with kDamaged ("store damaged: record 'visit/...' fails its checksum"), never with
  // other data. From then on, and in every later open until the store is repaired (a marker
  // file `<path>-damaged` keeps the report), writes are refused with kDamaged; reads of sound
  // rows go on. The schema's checksum and SQLite's checks (Options::check_bytes)
  // are checked at open: a store that fails them does not open, except for a salvage.
  //
  // A full disk: a write fails with kIo "...: the disk is full (nothing was stored; free some
  // space and try again)" and changes nothing. A store opens on a disk too full for SQLite's
  // shared-memory file (`<path>-shm`) by keeping that index in its own memory (exclusive
  // locking: other connections wait until this one closes), so reads and exports go on.
  static Result<std::unique_ptr<Engine>> open(const std::string& path, const Options& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  Engine(Engine&&) = delete;
  Engine& operator=(Engine&&) = delete;

  const std::string& device_id() const;

  // Writes one field: the op's base is the field's current frontier (the writer saw every
  // concurrent value, so this write supersedes them all, conflict included). Returns the op's id.
  Result<OpId> write(const Write& w);
  // Writes several fields in one transaction: all or none.
  Result<std::vector<OpId>> write_batch(const std::vector<Write>& writes);
  // Settles a flagged field: the new value supersedes exactly the versions named in `settles`,
  // each of which must be in the field's current frontier (kInvalidInput otherwise). A value
  // that arrived concurrently and is not named stays, and keeps the field flagged.
  Result<OpId> resolve(const Write& w, const std::vector<OpId>& settles);

  // The merged state of a record (kNotFound if no op names it) or of one field.
  Result<RecordView> read(std::string_view record);
  Result<std::optional<FieldView>> read_field(std::string_view record, std::string_view field);
  // Records whose key starts with `prefix`, sorted.
  Result<std::vector<std::string>> records_with_prefix(std::string_view prefix);

  // Every flagged field, sorted by record then field; or those of one record.
  Result<std::vector<Conflict>> conflicts();
  Result<std::vector<Conflict>> conflicts_of(std::string_view record);

  // This replica's own ops with origin seq > after_seq, in seq order, at most `limit`.
  Result<std::vector<Op>> ops_after(std::uint64_t after_seq, std::size_t limit);
  // Every op in the log (any origin) in the order this replica received it, after `cursor`
  // (0 = from the start), at most `limit`. Ops that came one after another in one apply_remote
  // batch from one device for one record are stored together (at most 256) and come whole: when
  // the first such run holds more than `limit`, the slice is that run.
  Result<LogSlice> log_after(std::uint64_t cursor, std::size_t limit);
  // Every op of one record in the order this replica received it (empty for an unknown
  // record): the record's history.
  Result<std::vector<Op>> ops_of(std::string_view record);

  // Merges a batch received from another replica, in one transaction. Ops this replica already
  // has are skipped; malformed ops are listed in the report with the reason and the rest is
  // applied. If `set_setting` is given, that setting is stored in the same transaction (a pull
  // cursor). Errors are I/O or corruption only; then nothing was applied.
  Result<ApplyReport> apply_remote(
      const std::vector<Op>& batch,
      std::optional<std::pair<std::string, std::string>> set_setting = {});

  // For each device, the highest origin seq of the ops of `record` this replica received
  // (sorted by device). Empty for an unknown record.
  Result<std::vector<OpId>> record_clock(std::string_view record);

  // Local settings, never replicated ("" when missing).
  Result<std::string> setting(std::string_view name);
  Status set_setting(std::string_view name, std::string_view value);
  // Settings whose name starts with `prefix`, sorted by name.
  Result<std::vector<std::pair<std::string, std::string>>> settings_with_prefix(
      std::string_view prefix);

  // Named counters kept in the store (sync cursors, acknowledged seqs). Missing = 0.
  Result<std::uint64_t> counter(std::string_view name);
  Status set_counter(std::string_view name, std::uint64_t value);

  // A SHA-256 (hex) of the merged state: identical on replicas that received the same ops.
  Result<std::string> digest();

  Result<EngineStats> stats();

  // For a repair (transport/client.h, repair_store): reads every row of the store on its own,
  // past damaged ones. The sound rows go to `sink` in this order: settings, counters, then the
  // op log's rows in log order (one call per row, with its ops); each row that fails its
  // checksum, is missing, or that SQLite cannot read goes to `lost` with its report. Fails only
  // when a sink fails.
  struct SalvageSink {
    std::function<Status(const std::string& name, const std::string& value)> setting;
    std::function<Status(const std::string& name, std::uint64_t value)> counter;
    std::function<Status(std::vector<Op>& ops)> ops;
    std::function<void(const Status& report)> lost;
  };
  Status salvage(const SalvageSink& sink);

  // Runs SQLite's integrity check over the whole file: kDamaged with its first findings.
  Status check_integrity();

  // The clock: the next stamp this replica would use is above now_hlc(). observe() advances it
  // past a stamp seen elsewhere, unless that stamp is more than kMaxClockLeadMs ahead of this
  // replica's wall clock (a clock wrong by years must not drag every replica's stamps along).
  Hlc now_hlc();
  Status observe(Hlc remote);
  // This replica's wall clock now, in ms since the epoch (what a hub compares with its own to
  // tell a device its clock is off: now_hlc() may be days old, or pushed ahead by a peer).
  std::int64_t wall_ms();
  static constexpr std::int64_t kMaxClockLeadMs = std::int64_t{10} * 60 * 1000;

  // For the layers built on the engine (inspection, hub): runs `body` inside one write
  // transaction together with the writes it makes through this engine; commits if it returns OK.
  Status transaction(const std::function<Status()>& body);

  struct Impl;
  Impl& impl() { return *impl_; }  // for the engine's own layers; not part of the API

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vs
