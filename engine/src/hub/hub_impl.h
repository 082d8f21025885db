// The hub store's state behind HubStore (hub_store.h), shared by the files of engine/src/hub/:
// hub_store.cc (open, devices, hello), push.cc, pull.cc, scope.cc. One thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/hub_store.h>

#include "engine_impl.h"
#include "hub/authorize.h"
#include "hub/cursor.h"

namespace vs {

struct HubStore::Impl {
  std::unique_ptr<Inspection> in;
  store::Db* db = nullptr;
  changelog::OpLog* log = nullptr;
  Clock* clock = nullptr;
  store::Stmt find_device, insert_device, revoke, set_acked, list_devices, add_rejection,
      rejections, is_rejected, window, max_pos, data_version, op_at;
  store::Stmt find_served, add_served, records_by_prefix, record_by_key, record_ops;

  // A device's scope, recomputed only when the reference data may have changed: another
  // connection committed (PRAGMA data_version moved: visitsync-admin), this connection wrote
  // ops of its own (the hub's own writes are reference data and reviews), or the day changed.
  struct CachedScope {
    std::int64_t data_version = -1;
    std::uint64_t own_seq = 0;
    std::int64_t day = 0;
    hub::Scopes scopes;
  };
  std::map<std::string, CachedScope> scope_cache;
  std::set<std::pair<std::string, std::string>> remembered;  // (device, digest) known stored

  Result<DeviceRecord> load_device(std::string_view id);
  // The device when it may sync: kRejected if unknown or revoked.
  Result<DeviceRecord> active_device(std::string_view id);
  // scope.cc
  Result<hub::Scopes> scope_of(const DeviceRecord& d);
  Result<hub::Scopes> compute_scope(const DeviceRecord& d);
  // Records of the scopes, with idx >= from, sorted by idx.
  Result<std::vector<std::int64_t>> records_in(const hub::Scopes& scopes, std::int64_t from);
  // Scope sets behind cursor digests: read back (nullopt if unknown), and recorded.
  Result<std::optional<hub::Scopes>> scopes_of_digest(std::string_view device,
                                                      const std::string& digest);
  Result<std::string> remember_scopes(std::string_view device, const hub::Scopes& scopes);
  // The fingerprint of the log row at a position: of every op of its run (of its one op, as
  // before runs, when it holds one); none past the log's end.
  Result<std::optional<std::uint64_t>> print_at(std::uint64_t pos);

  // push.cc: the stored state of a visit record, as authorize() reads it.
  Result<hub::VisitState> load_visit(const std::string& key, const std::string& school);
  // The reasons given for a device's refused seqs in [lo, hi], at most `limit`, by seq.
  Result<std::vector<std::pair<std::uint64_t, std::string>>> reasons(std::string_view device,
                                                                     std::uint64_t lo,
                                                                     std::uint64_t hi,
                                                                     std::size_t limit);
};

}  // namespace vs
