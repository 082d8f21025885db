// The edits file of the generated workload (WORKLOAD.md § The edits file): a co-inspector's
// second device edits a share of the answers of about 40% of the visits, a block of items in a
// row plus scattered corrections; on half of those visits the visit's own device edits some of
// the same items concurrently (same previous value, another new value).
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <visitsync/photos.h>  // sha256_hex

#include "workload_gen.h"
#include "workload_gen_model.h"

namespace vs::bench {
namespace gen {
namespace {

struct Counts {
  std::size_t edited_visits = 0;    // visits the second device edits
  std::size_t conflict_visits = 0;  // of those, visits the primary device edits too
  std::size_t per_visit = 0;        // second-device edits per edited visit
  std::size_t per_conflict = 0;     // primary edits per conflict visit
};

// x rounded to the nearest whole number, a tie to the even one.
std::size_t nearest(double x) { return static_cast<std::size_t>(std::nearbyint(x)); }

Counts counts(const WorkloadSpec& spec, const EditSpec& e) {
  const auto n = static_cast<std::size_t>(spec.visits);
  const auto m = static_cast<std::size_t>(spec.items);
  Counts c;
  // 40% of the visits; 0.4 n is never half way between two whole numbers.
  c.edited_visits = std::clamp<std::size_t>((4 * n + 5) / 10, 1, n);
  c.per_visit = std::clamp<std::size_t>(
      nearest(e.edit_frac * static_cast<double>(n) * static_cast<double>(m) /
              static_cast<double>(c.edited_visits)),
      1, m);
  if (e.conflict_frac > 0) {
    c.conflict_visits = std::clamp<std::size_t>(nearest(static_cast<double>(c.edited_visits) * 0.5),
                                                1, c.edited_visits);
    c.per_conflict = std::clamp<std::size_t>(
        nearest(e.conflict_frac * static_cast<double>(n) * static_cast<double>(m) /
                static_cast<double>(c.conflict_visits)),
        1, c.per_visit);
  }
  return c;
}

std::int64_t clamp_to(const CatalogueItem& item, std::int64_t v, std::int64_t scale) {
  return std::clamp(v, item.min * scale, item.max * scale);
}

// A changed number (scale 10 for a decimal in tenths): up or down by 2% to 20%, at least 1.
std::int64_t changed_number(Rng& rng, const CatalogueItem& item, std::int64_t base,
                            std::int64_t scale, std::optional<std::int64_t> avoid) {
  const std::int64_t step =
      std::max<std::int64_t>(1, std::llabs(base) * rng.between(20, 200) / 1000);
  const std::int64_t dir = rng.chance(500) ? 1 : -1;
  const std::int64_t tries[] = {base + dir * step, base - dir * step, base + 1, base - 1};
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::int64_t t : tries) {
      const std::int64_t v = clamp_to(item, t, scale);
      if (v != base && (pass == 1 || !avoid || v != *avoid)) return v;
    }
  }
  return base;
}

// One of the values listed, other than prev (and other than avoid when there is a choice).
ojson other_of(Rng& rng, const std::vector<ojson>& all, const ojson& prev, const ojson* avoid) {
  std::vector<ojson> left;
  for (const ojson& v : all) {
    if (v != prev && (avoid == nullptr || v != *avoid)) left.push_back(v);
  }
  if (left.empty() && avoid != nullptr) return other_of(rng, all, prev, nullptr);
  return left.empty() ? prev : left[rng.index(left.size())];
}

ojson edited_text(Rng& rng, const std::string& prev) {
  std::string add = note(rng, 30, false);
  std::string v = first_code_points(prev.empty() ? add : prev + "；" + add, kNoteMaxChars);
  return v == prev ? add : v;  // a full note gets a new entry instead
}

// The value an edit writes: another value than prev, and than avoid where there is one.
ojson edited(Rng& rng, const CatalogueItem& item, const ojson& prev, const School& school,
             const ojson* avoid) {
  if (item.type == "yes_no") return !(prev.is_boolean() && prev.get<bool>());
  if (item.type == "score") {
    std::vector<ojson> all;
    for (std::int64_t s = item.min; s <= item.max; ++s) all.emplace_back(s);
    return other_of(rng, all, prev, avoid);
  }
  if (item.type == "choice") {
    std::vector<ojson> all(grade_options().begin(), grade_options().end());
    return other_of(rng, all, prev, avoid);
  }
  const bool number_avoid = avoid != nullptr && avoid->is_number();
  if (item.type == "integer") {
    const std::int64_t base = prev.is_number() ? prev.get<std::int64_t>() : 0;
    return changed_number(rng, item, base, 1,
                          number_avoid ? std::optional(avoid->get<std::int64_t>()) : std::nullopt);
  }
  if (item.type == "decimal") {
    const auto tenths = [](const ojson& v) { return std::llround(v.get<double>() * 10); };
    const std::int64_t base = prev.is_number() ? tenths(prev) : 0;
    const std::int64_t v = changed_number(
        rng, item, base, 10, number_avoid ? std::optional(tenths(*avoid)) : std::nullopt);
    return static_cast<double>(v) / 10.0;
  }
  for (int attempt = 0; attempt < 8; ++attempt) {
    ojson v = item.type == "text"
                  ? edited_text(rng, prev.is_string() ? prev.get<std::string>() : "")
                  : fix(rng, school, 4, 30);
    if (v != prev && (avoid == nullptr || v != *avoid)) return v;
  }
  return item.type == "text" ? ojson(prev.get<std::string>() + "；") : fix(rng, school, 4, 30);
}

// The items a visit's second device edits: a block of two thirds of them in a row, the rest
// anywhere else; in checklist order.
std::vector<std::size_t> edited_items(Rng& rng, std::size_t m, std::size_t count) {
  const std::size_t block = 2 * count / 3;
  const auto start = static_cast<std::size_t>(rng.between(0, static_cast<std::int64_t>(m - block)));
  std::vector<std::size_t> chosen;
  for (std::size_t i = start; i < start + block; ++i) chosen.push_back(i);
  for (const std::size_t k : rng.sample(m - block, count - block))
    chosen.push_back(k < start ? k : k + block);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

ojson edit(const std::string& device, const char* role, const Visit& v, const CatalogueItem& item,
           const ojson& prev, ojson value, std::string at, bool concurrent) {
  return ojson{{"kind", "edit"},
               {"device", device},
               {"role", role},
               {"visit_id", v.id},
               {"item", item.key},
               {"prev", prev},
               {"value", std::move(value)},
               {"at", std::move(at)},
               {"concurrent", concurrent}};
}

struct Edits {
  std::vector<ojson> second;
  std::vector<ojson> primary;
};

void edit_visit(Rng& rng, const Generated& g, const Visit& v, const Counts& c, bool conflict,
                Edits& out) {
  std::size_t co = rng.index(g.inspectors - 1);  // another inspector
  if (co >= v.inspector) ++co;
  const std::string second_device = device_id(co, 2);
  const std::vector<std::size_t> items = edited_items(rng, g.items.size(), c.per_visit);
  std::set<std::size_t> concurrent;
  if (conflict) {
    for (const std::size_t k : rng.sample(items.size(), c.per_conflict)) concurrent.insert(k);
  }
  const std::int32_t day = v.day + static_cast<std::int32_t>(rng.between(1, 3));
  const std::int64_t t0 = rng.between(8, 16) * 3600;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const CatalogueItem& item = g.items[items[k]];
    const ojson& prev = v.answers[items[k]];
    const School& school = g.schools[v.school];
    const auto at = t0 + static_cast<std::int64_t>(20 * k);
    ojson b = edited(rng, item, prev, school, nullptr);
    const std::int64_t at_b = at + rng.between(0, 15);
    const bool both = concurrent.count(k) > 0;
    if (both) {
      ojson a = edited(rng, item, prev, school, &b);
      const std::int64_t at_a = at + rng.between(0, 600);
      out.primary.push_back(edit(device_id(v.inspector, 1), "primary", v, item, prev, std::move(a),
                                 local_time(day, at_a), true));
    }
    out.second.push_back(
        edit(second_device, "second", v, item, prev, std::move(b), local_time(day, at_b), both));
  }
}

}  // namespace
}  // namespace gen

std::string generate_edits_file(const WorkloadSpec& spec, const EditSpec& e) {
  using gen::ojson;
  const gen::Generated g = gen::generate(spec);
  const gen::Counts c = gen::counts(spec, e);
  gen::Rng rng(spec.seed, "visitsync-bench edits");
  const std::vector<std::size_t> edited = rng.sample(g.visits.size(), c.edited_visits);
  std::set<std::size_t> conflict;
  for (const std::size_t k : rng.sample(edited.size(), c.conflict_visits))
    conflict.insert(edited[k]);
  gen::Edits edits;
  for (const std::size_t vi : edited)
    gen::edit_visit(rng, g, g.visits[vi], c, conflict.count(vi) > 0, edits);
  const ojson header = {{"kind", "edits_header"},
                        {"generator", kGeneratorName},
                        {"seed", spec.seed},
                        {"visits", spec.visits},
                        {"items", spec.items},
                        {"base_sha256", sha256_hex(g.file)},
                        {"edit_frac", e.edit_frac},
                        {"conflict_frac", e.conflict_frac},
                        {"edited_visits", c.edited_visits},
                        {"conflict_visits", c.conflict_visits},
                        {"second_ops", edits.second.size()},
                        {"primary_ops", edits.primary.size()},
                        {"total_answers", static_cast<std::int64_t>(spec.visits) * spec.items}};
  std::string out = header.dump() + "\n";
  std::map<std::string, std::int64_t> seqs;
  for (std::vector<ojson>* list : {&edits.second, &edits.primary}) {
    for (ojson& op : *list) {
      op["seq"] = ++seqs[op["device"].get<std::string>()];
      out += op.dump() + "\n";
    }
  }
  return out;
}

}  // namespace vs::bench
