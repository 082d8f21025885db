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
  for (const std::string& scope : scopes) {
    for (const ScopeRule& r : kScopeRules) {
      if (scope[0] != r.scope) continue;
      const std::string id = r.scope == 'g' ? std::string() : scope.substr(2);
      // Every key under the prefix (and the id's '/'), or the one key prefix + id.
      Result<std::vector<std::int64_t>> ids =
          r.scope == 'g' || !r.whole_rest
              ? store->records_under(std::string(r.prefix) + id + (r.whole_rest ? "" : "/"), from)
              : store->record_id(std::string(r.prefix) + id, from);
      if (!ids.ok()) return ids.status();
      out.insert(out.end(), ids->begin(), ids->end());
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<hub::Scopes> HubStore::Impl::scope_of(const DeviceRecord& d) {
  Result<std::string> mark = store->reference_mark();
  if (!mark.ok()) return mark.status();
  const std::int64_t day = clock->now_ms() / 86'400'000;
  CachedScope& c = scope_cache[d.device_id];
  if (c.mark == mark.value() && c.day == day) return c.scopes;
  Result<hub::Scopes> fresh = compute_scope(d);
  if (!fresh.ok()) return fresh.status();
  c = CachedScope{std::move(mark.value()), day, fresh.value()};
  return fresh;
}

Result<hub::Scopes> HubStore::Impl::compute_scope(const DeviceRecord& d) {
  hub::Scopes s = {"g", "i:" + d.inspector_id};
  Result<std::vector<std::string>> schools;
  if (d.role == Role::kInspector) {
    schools = store->assigned_schools(d.inspector_id);
  } else {
    Result<Inspector> me = store->inspector(d.inspector_id);
    if (!me.ok()) return me.status();
    schools = store->schools_in_county(me->county);
  }
  if (!schools.ok()) return schools.status();
  for (const std::string& school : schools.value()) s.insert("s:" + school);
  return s;
}

Result<std::optional<hub::Scopes>> HubStore::Impl::scopes_of_digest(std::string_view device,
                                                                    const std::string& digest) {
  if (digest == "-") return std::optional<hub::Scopes>(hub::Scopes{});
  Result<std::optional<std::string>> text = store->served_scopes(device, digest);
  if (!text.ok()) return text.status();
  std::optional<hub::Scopes> out;
  if (text.value()) out = hub::split(*text.value());
  return out;
}

Result<std::string> HubStore::Impl::remember_scopes(std::string_view device,
                                                    const hub::Scopes& scopes) {
  std::string digest = hub::digest_of(scopes);
  if (digest == "-" || remembered.count({std::string(device), digest}) != 0) return digest;
  if (Status s = store->add_served_scopes(device, digest, hub::join(scopes)); !s.ok()) return s;
  remembered.emplace(std::string(device), digest);
  return digest;
}

}  // namespace vs
