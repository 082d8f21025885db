// The hub store's state behind HubStore (hub_store.h), shared by the files of engine/src/hub/:
// hub_store.cc (open, devices, hello), push.cc, pull.cc, scope.cc. The logic reaches its
// storage only through hub::Backend (backend.h). One thread at a time.
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
#include <visitsync/photos.h>

#include "hub/authorize.h"
#include "hub/backend.h"
#include "hub/cursor.h"

namespace vs {

struct HubStore::Impl {
  std::unique_ptr<hub::Backend> store;
  // The embedded backend's domain store, which HubStore::inspection() hands to tools and tests.
  Inspection* in = nullptr;
  Clock* clock = nullptr;
  std::string data_dir;
  std::unique_ptr<PhotoStore> photos;  // <data folder>/attachments (photos.cc)

  // A device's scope, recomputed only when the reference data may have changed (the backend's
  // reference_mark() moved) or the day changed.
  struct CachedScope {
    std::string mark;
    std::int64_t day = -1;
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
  // Records of the scopes, with id >= from, sorted by id.
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
};

}  // namespace vs
