// Scopes: which records a device sees and may write (hub_store.h), and the records of a scope.
#include <algorithm>

#include "domain/model.h"
#include "hub/hub_impl.h"

namespace vs {
namespace {

// How a record key tells its scope: the key's prefix, the scope's letter, and whether the
// scope's id is the rest of the key (school/<id>) or its part up to the next '/'
// (visit/<school>/<id>). One table serves both directions: key to scope, scope to keys.
struct ScopeRule {
  std::string_view prefix;
  char scope;  // 'g': everyone; 's': a school; 'i': an inspector
  bool whole_rest;
};
constexpr ScopeRule kScopeRules[] = {
    {domain::kTemplatePrefix, 'g', true},    {domain::kSchoolPrefix, 's', true},
    {domain::kVisitPrefix, 's', false},      {domain::kInspectorPrefix, 'i', true},
    {domain::kAssignmentPrefix, 'i', false},
};

}  // namespace

std::string scope_of_record(std::string_view key) {
  for (const ScopeRule& r : kScopeRules) {
    if (key.rfind(r.prefix, 0) != 0) continue;
    if (r.scope == 'g') return "g";
    std::string_view id = key.substr(r.prefix.size());
    if (!r.whole_rest) id = id.substr(0, id.find('/'));
    return std::string(1, r.scope) + ":" + std::string(id);
  }
  return "h";
}

Result<std::vector<std::int64_t>> HubStore::Impl::records_in(const hub::Scopes& scopes,
                                                             std::int64_t from) {
  std::vector<std::int64_t> out;
  auto collect = [&](store::Stmt& st) -> Status {
    for (;;) {
      Result<bool> row = st.step();
      if (!row.ok()) return row.status();
      if (!row.value()) break;
      out.push_back(st.int64(0));
    }
    st.reset();
    return Status();
  };
  for (const std::string& scope : scopes) {
    for (const ScopeRule& r : kScopeRules) {
      if (scope[0] != r.scope) continue;
      const std::string id = r.scope == 'g' ? std::string() : scope.substr(2);
      Status s;
      if (r.scope == 'g' || !r.whole_rest) {
        // Every key under the prefix (and the id's '/'): a range of the records' key index.
        const std::string p = std::string(r.prefix) + id + (r.whole_rest ? "" : "/");
        records_by_prefix.bind(1, p).bind(2, p + "\xFF").bind(3, from);
        s = collect(records_by_prefix);
      } else {
        record_by_key.bind(1, std::string(r.prefix) + id).bind(2, from);
        s = collect(record_by_key);
      }
      if (!s.ok()) return s;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<hub::Scopes> HubStore::Impl::scope_of(const DeviceRecord& d) {
  Result<bool> row = data_version.step();
  if (!row.ok()) return row.status();
  const std::int64_t version = data_version.int64(0);
  data_version.reset();
  Result<std::uint64_t> own = in->engine().impl().log.last_own_seq();
  if (!own.ok()) return own.status();
  const std::int64_t day = clock->now_ms() / 86'400'000;
  CachedScope& c = scope_cache[d.device_id];
  if (c.data_version == version && c.own_seq == own.value() && c.day == day) return c.scopes;
  Result<hub::Scopes> fresh = compute_scope(d);
  if (!fresh.ok()) return fresh.status();
  c = CachedScope{version, own.value(), day, fresh.value()};
  return fresh;
}

Result<hub::Scopes> HubStore::Impl::compute_scope(const DeviceRecord& d) {
  hub::Scopes s = {"g", "i:" + d.inspector_id};
  if (d.role == Role::kInspector) {
    Result<std::vector<std::string>> schools = in->assigned_schools(d.inspector_id);
    if (!schools.ok()) return schools.status();
    for (const std::string& school : schools.value()) s.insert("s:" + school);
    return s;
  }
  Result<Inspector> me = in->inspector(d.inspector_id);
  if (!me.ok()) return me.status();
  Result<std::vector<std::string>> keys = in->engine().records_with_prefix(domain::kSchoolPrefix);
  if (!keys.ok()) return keys.status();
  for (const std::string& key : keys.value()) {
    Result<std::optional<FieldView>> county = in->engine().read_field(key, "county");
    if (!county.ok()) return county.status();
    if (county.value() && county.value()->value == Value::text(me->county)) {
      s.insert("s:" + key.substr(domain::kSchoolPrefix.size()));
    }
  }
  return s;
}

Result<std::optional<hub::Scopes>> HubStore::Impl::scopes_of_digest(std::string_view device,
                                                                    const std::string& digest) {
  if (digest == "-") return std::optional<hub::Scopes>(hub::Scopes{});
  find_served.bind(1, device).bind(2, digest);
  Result<bool> row = find_served.step();
  if (!row.ok()) return row.status();
  std::optional<hub::Scopes> out;
  if (row.value()) out = hub::split(find_served.text(0));
  find_served.reset();
  return out;
}

Result<std::string> HubStore::Impl::remember_scopes(std::string_view device,
                                                    const hub::Scopes& scopes) {
  std::string digest = hub::digest_of(scopes);
  if (digest == "-" || remembered.count({std::string(device), digest}) != 0) return digest;
  add_served.bind(1, device).bind(2, digest).bind(3, hub::join(scopes));
  if (Status s = add_served.run(); !s.ok()) return s;
  remembered.emplace(std::string(device), digest);
  return digest;
}

}  // namespace vs
