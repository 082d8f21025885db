// Engine::Impl: what an open replica holds. Shared by engine.cc and the layers built on the
// engine inside this library (inspection); not a public header.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>

#include <visitsync/engine.h>

#include "changelog/op_log.h"
#include "clock/hlc.h"
#include "merge/record_table.h"
#include "store/db.h"

namespace vs {

// The records one transaction works on: each read once, and written once at its end.
class TouchedRecords {
 public:
  struct Entry {
    merge::RecordTable::Loaded rec;
    bool dirty = false;
  };
  // The record, loaded, or created empty when missing.
  Result<Entry*> get(merge::RecordTable& table, const std::string& key);
  Status save_dirty(merge::RecordTable& table);
  std::vector<std::string> dirty_keys() const;  // sorted

 private:
  std::unordered_map<std::string, Entry> map_;
};

struct Engine::Impl {
  Impl(std::unique_ptr<store::Db> db_in, changelog::OpLog log_in, merge::RecordTable records_in,
       clock::HybridClock hlc_in)
      : db(std::move(db_in)), log(std::move(log_in)), records(std::move(records_in)), hlc(hlc_in) {}

  std::unique_ptr<store::Db> db;
  changelog::OpLog log;
  merge::RecordTable records;
  clock::HybridClock hlc;
  std::string device_id;
  std::uint64_t last_seq = 0;  // this replica's highest origin seq (refreshed per transaction)
  Hlc persisted_hlc = 0;
  Clock* wall = nullptr;
  store::Stmt load_hlc, save_hlc, get_counter, put_counter, get_setting, put_setting;

  // Runs `fn` (returning Status or Result<T>) in a transaction, or a savepoint when one is open.
  // On failure everything `fn` wrote is rolled back and the caches are dropped.
  template <class F>
  auto in_txn(F&& fn) -> decltype(fn());

  // One local write inside an open transaction; the caller saves `touched` before commit.
  // `settles`: the versions a resolving write supersedes (nullptr: the whole frontier).
  Result<OpId> write_one(const Write& w, const std::vector<OpId>* settles, TouchedRecords& touched);
  // Writes in one transaction (all or none).
  Result<std::vector<OpId>> write_all(const std::vector<Write>& writes,
                                      const std::vector<OpId>* settles);

 private:
  Status begin_outermost();  // reads the seq and clock other connections may have advanced
  Status persist_clock();
};

template <class F>
auto Engine::Impl::in_txn(F&& fn) -> decltype(fn()) {
  const bool outermost = db->depth() == 0;
  Result<store::Txn> txn = store::Txn::begin(*db);
  if (!txn.ok()) return txn.status();
  if (outermost) {
    if (Status s = begin_outermost(); !s.ok()) return s;
  }
  const std::uint64_t seq_before = last_seq;
  auto undo = [&] {
    last_seq = seq_before;
    log.forget_cache();
  };
  // An exception from `fn` (bad_alloc) rolls back through the Txn's destructor; the caches are
  // dropped too, or they would keep ids made in the rolled-back work.
  std::optional<decltype(fn())> ran;
  try {
    ran.emplace(fn());
  } catch (...) {
    { store::Txn drop = std::move(txn.value()); }
    undo();
    throw;
  }
  auto result = std::move(*ran);
  if (!result.ok()) {
    { store::Txn drop = std::move(txn.value()); }  // rolls back now, before the caches reset
    undo();
    return result;
  }
  Status s = outermost ? persist_clock() : Status();
  if (s.ok()) s = txn->commit();
  if (!s.ok()) {
    undo();
    return s;
  }
  return result;
}

}  // namespace vs
