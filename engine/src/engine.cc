#include <algorithm>

#include <visitsync/engine.h>

#include "engine_impl.h"
#include "merge/field_state.h"
#include "store/health.h"
#include "store/migrations.h"

namespace vs {

Status Engine::Impl::begin_outermost() {
  Result<std::uint64_t> seq = log.last_own_seq();
  if (!seq.ok()) return seq.status();
  last_seq = seq.value();
  Result<bool> row = store::step_checked(load_hlc, 1, "the stored clock");
  if (!row.ok()) return row.status();
  const Hlc stored = row.value() ? static_cast<Hlc>(load_hlc.int64(0)) : 0;
  load_hlc.reset();
  persisted_hlc = stored;
  if (stored > hlc.last()) hlc = clock::HybridClock(*this->wall, stored, kMaxClockLeadMs);
  return Status();
}

Status Engine::Impl::persist_clock() {
  if (hlc.last() == persisted_hlc) return Status();
  save_hlc.bind(1, hlc.last());
  if (Status s = save_hlc.run(); !s.ok()) return s;
  persisted_hlc = hlc.last();
  return Status();
}

Result<TouchedRecords::Entry*> TouchedRecords::get(merge::RecordTable& table,
                                                   const std::string& key) {
  if (auto it = map_.find(key); it != map_.end()) return &it->second;
  Result<std::optional<merge::RecordTable::Loaded>> loaded = table.load(key);
  if (!loaded.ok()) return loaded.status();
  Entry e;
  if (loaded.value()) {
    e.rec = std::move(*loaded.value());
  } else {
    Result<std::int64_t> idx = table.insert(key);
    if (!idx.ok()) return idx.status();
    e.rec.idx = idx.value();
  }
  return &map_.emplace(key, std::move(e)).first->second;
}

Status TouchedRecords::save_dirty(merge::RecordTable& table) {
  for (const auto& [key, e] : map_) {
    if (!e.dirty) continue;
    if (Status s = table.save(e.rec.idx, e.rec.state); !s.ok())
      return s.annotate("record '" + key + "'");
  }
  return Status();
}

std::vector<std::string> TouchedRecords::dirty_keys() const {
  std::vector<std::string> keys;
  for (const auto& [key, e] : map_) {
    if (e.dirty) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

Result<std::vector<OpId>> Engine::Impl::write_all(const std::vector<Write>& writes,
                                                  const std::vector<OpId>* settles) {
  return in_txn([&]() -> Result<std::vector<OpId>> {
    TouchedRecords touched;
    std::vector<OpId> ids;
    ids.reserve(writes.size());
    for (std::size_t i = 0; i < writes.size(); ++i) {
      Result<OpId> id = write_one(writes[i], settles, touched);
      if (!id.ok())
        return writes.size() == 1 ? id.status()
                                  : id.status().annotate("write " + std::to_string(i));
      ids.push_back(std::move(id.value()));
    }
    if (Status s = touched.save_dirty(records); !s.ok()) return s;
    if (Status s = log.flush(); !s.ok()) return s;
    return ids;
  });
}

Result<OpId> Engine::Impl::write_one(const Write& w, const std::vector<OpId>* settles,
                                     TouchedRecords& touched) {
  Op op;
  op.id = OpId{device_id, last_seq + 1};
  op.hlc = hlc.tick();
  op.record = w.record;
  op.field = w.field;
  op.policy = w.policy;
  op.value = w.value;
  op.context = w.context;
  const std::string where = "record '" + w.record + "' field '" + w.field + "'";
  if (Status s = op.check(); !s.ok()) return s.annotate(where);

  Result<TouchedRecords::Entry*> entry = touched.get(records, w.record);
  if (!entry.ok()) return entry.status();
  merge::RecordTable::Loaded& rec = entry.value()->rec;
  Result<merge::FieldState*> field = rec.state.get_or_create(w.field, w.policy);
  if (!field.ok()) return field.status().annotate("record '" + w.record + "'");
  merge::FieldState& state = *field.value();
  if (merge::uses_frontier(w.policy)) {
    if (settles == nullptr) {
      for (const merge::Entry& e : state.entries) op.base.push_back(e.op);
    } else {
      for (const OpId& id : *settles) {
        const bool current = std::any_of(state.entries.begin(), state.entries.end(),
                                         [&](const merge::Entry& e) { return e.op == id; });
        if (!current)
          return Status::invalid_input(id.to_string() + " is not a current value of " + where);
      }
      op.base = *settles;
    }
  } else if (settles != nullptr) {
    return Status::invalid_input(where + " is merged by " + std::string(policy_name(w.policy)) +
                                 ": it has nothing to resolve");
  }
  if (op.base.size() > kMaxBaseEntries) {
    return Status::invalid_input(where + " has " + std::to_string(op.base.size()) +
                                 " concurrent values, more than one write can settle");
  }
  if (Status s = log.append(op, changelog::kOwnDeviceIdx, rec.idx); !s.ok()) return s;
  rec.state.seen().add(changelog::kOwnDeviceIdx, op.id.seq);
  // Every base entry is in the frontier, so `received` is never asked.
  merge::merge_op(state, op, [](const OpId&) { return true; });
  entry.value()->dirty = true;
  last_seq = op.id.seq;
  return op.id;
}

const std::string& Engine::device_id() const { return impl_->device_id; }

Result<OpId> Engine::write(const Write& w) {
  Result<std::vector<OpId>> ids = impl_->write_all({w}, nullptr);
  if (!ids.ok()) return ids.status();
  return std::move(ids.value().front());
}

Result<std::vector<OpId>> Engine::write_batch(const std::vector<Write>& writes) {
  return impl_->write_all(writes, nullptr);
}

Result<OpId> Engine::resolve(const Write& w, const std::vector<OpId>& settles) {
  if (settles.empty())
    return Status::invalid_input("a resolving write names the values it settles");
  Result<std::vector<OpId>> ids = impl_->write_all({w}, &settles);
  if (!ids.ok()) return ids.status();
  return std::move(ids.value().front());
}

Result<RecordView> Engine::read(std::string_view record) {
  Result<std::optional<merge::RecordTable::Loaded>> rec = impl_->records.load(record);
  if (!rec.ok()) return rec.status();
  if (!rec.value() || rec.value()->state.empty()) {
    return Status::not_found("no record '" + std::string(record) + "'");
  }
  merge::RecordState& rs = rec.value()->state;
  RecordView view;
  view.record = std::string(record);
  for (const std::string& name : rs.field_names()) {
    Result<merge::FieldState*> fs = rs.find(name);
    if (!fs.ok()) return fs.status().annotate("record '" + view.record + "'");
    view.fields.push_back(merge::view_of(*fs.value(), name));
  }
  return view;
}

Result<std::optional<FieldView>> Engine::read_field(std::string_view record,
                                                    std::string_view field) {
  Result<std::optional<merge::RecordTable::Loaded>> rec = impl_->records.load(record);
  if (!rec.ok()) return rec.status();
  if (!rec.value()) return std::optional<FieldView>();
  Result<merge::FieldState*> fs = rec.value()->state.find(field);
  if (!fs.ok()) return fs.status().annotate("record '" + std::string(record) + "'");
  if (fs.value() == nullptr) return std::optional<FieldView>();
  return std::optional<FieldView>(merge::view_of(*fs.value(), std::string(field)));
}

Result<std::vector<std::string>> Engine::records_with_prefix(std::string_view prefix) {
  return impl_->records.keys_with_prefix(prefix);
}

Result<std::vector<Conflict>> Engine::conflicts() { return impl_->records.conflicts(std::nullopt); }

Result<std::vector<Conflict>> Engine::conflicts_of(std::string_view record) {
  return impl_->records.conflicts(record);
}

Result<std::vector<Op>> Engine::ops_after(std::uint64_t after_seq, std::size_t limit) {
  return impl_->log.own_after(after_seq, limit);
}

Result<LogSlice> Engine::log_after(std::uint64_t cursor, std::size_t limit) {
  return impl_->log.after(cursor, limit);
}

Result<std::vector<Op>> Engine::ops_of(std::string_view record) {
  return impl_->log.of_record(record);
}

Result<ApplyReport> Engine::apply_remote(
    const std::vector<Op>& batch, std::optional<std::pair<std::string, std::string>> set_setting) {
  Impl& im = *impl_;
  ApplyReport report;
  Status status = im.in_txn([&]() -> Status {
    report = ApplyReport();
    TouchedRecords touched;
    auto reject = [&](std::size_t i, Status why) {
      report.rejected.push_back({i, batch[i].id, why.annotate("op " + batch[i].id.to_string())});
    };
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Op& op = batch[i];
      if (Status s = op.check(); !s.ok()) {
        reject(i, std::move(s));
        continue;
      }
      Result<TouchedRecords::Entry*> entry = touched.get(im.records, op.record);
      if (!entry.ok()) return entry.status();
      merge::RecordState& rs = entry.value()->rec.state;
      Result<std::int64_t> device = im.log.device_idx(op.id.device);
      if (!device.ok()) return device.status();
      if (rs.seen().contains(device.value(), op.id.seq)) {
        ++report.duplicates;
        continue;
      }
      Result<merge::FieldState*> field = rs.get_or_create(op.field, op.policy);
      if (!field.ok()) {
        if (field.status().code() != Code::kInvalidInput) return field.status();
        reject(i, field.status().annotated("record '" + op.record + "'"));
        continue;
      }
      if (Status s = im.log.append(op, device.value(), entry.value()->rec.idx); !s.ok()) return s;
      rs.seen().add(device.value(), op.id.seq);
      // A base names ops of the same field, hence of the same record: its seen set answers.
      Status lookup_error;
      merge::merge_op(*field.value(), op, [&](const OpId& b) {
        Result<std::optional<std::int64_t>> dev = im.log.find_device(b.device);
        if (!dev.ok()) lookup_error = dev.status();
        return dev.ok() && dev.value() && rs.seen().contains(*dev.value(), b.seq);
      });
      if (!lookup_error.ok()) return lookup_error;
      entry.value()->dirty = true;
      ++report.applied;
      im.hlc.observe(op.hlc);
    }
    if (Status s = touched.save_dirty(im.records); !s.ok()) return s;
    if (Status s = im.log.flush(); !s.ok()) return s;
    report.changed = touched.dirty_keys();
    if (set_setting) {
      im.put_setting.bind(1, set_setting->first).bind(2, set_setting->second);
      if (Status s = im.put_setting.run(); !s.ok()) return s;
    }
    return Status();
  });
  if (!status.ok()) return status;
  return report;
}

Result<std::vector<OpId>> Engine::record_clock(std::string_view record) {
  Result<std::optional<merge::RecordTable::Loaded>> rec = impl_->records.load(record);
  if (!rec.ok()) return rec.status();
  std::vector<OpId> clock;
  if (!rec.value()) return clock;
  for (const auto& [idx, ranges] : rec.value()->state.seen().ranges()) {
    if (ranges.empty()) continue;
    Result<std::string> name = impl_->log.device_name(idx);
    if (!name.ok()) return name.status();
    clock.push_back(OpId{name.value(), ranges.back().second});
  }
  std::sort(clock.begin(), clock.end());
  return clock;
}

Result<std::string> Engine::setting(std::string_view name) {
  impl_->get_setting.bind(1, name);
  Result<bool> row =
      store::step_checked(impl_->get_setting, 1, "setting '" + std::string(name) + "'");
  if (!row.ok()) return row.status();
  std::string v = row.value() ? std::string(impl_->get_setting.text(0)) : std::string();
  impl_->get_setting.reset();
  return v;
}

Result<std::vector<std::pair<std::string, std::string>>> Engine::settings_with_prefix(
    std::string_view prefix) {
  Result<store::Stmt> st = impl_->db->prepare(
      "SELECT name, value, crc = vs_crc(name, value) FROM settings NOT INDEXED "
      "WHERE name >= ?1 AND name < ?2 ORDER BY name",
      "settings by prefix");
  if (!st.ok()) return st.status();
  std::string upper(prefix);
  upper.push_back('\xFF');
  st->bind(1, prefix).bind(2, upper);
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    Result<bool> row = store::step_checked(*st, 2, "a setting");
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    out.emplace_back(std::string(st->text(0)), std::string(st->text(1)));
  }
  return out;
}

Status Engine::set_setting(std::string_view name, std::string_view value) {
  return impl_->in_txn([&]() -> Status {
    impl_->put_setting.bind(1, name).bind(2, value);
    return impl_->put_setting.run();
  });
}

Result<std::uint64_t> Engine::counter(std::string_view name) {
  impl_->get_counter.bind(1, name);
  Result<bool> row =
      store::step_checked(impl_->get_counter, 1, "counter '" + std::string(name) + "'");
  if (!row.ok()) return row.status();
  const std::uint64_t v = row.value() ? static_cast<std::uint64_t>(impl_->get_counter.int64(0)) : 0;
  impl_->get_counter.reset();
  return v;
}

Status Engine::set_counter(std::string_view name, std::uint64_t value) {
  return impl_->in_txn([&]() -> Status {
    impl_->put_counter.bind(1, name).bind(2, value);
    return impl_->put_counter.run();
  });
}

Result<std::string> Engine::digest() { return impl_->records.digest(); }

Result<EngineStats> Engine::stats() {
  EngineStats st;
  Result<std::uint64_t> ops = impl_->log.count();
  if (!ops.ok()) return ops.status();
  Result<std::uint64_t> own = impl_->log.last_own_seq();
  if (!own.ok()) return own.status();
  Result<std::uint64_t> records = impl_->records.count();
  if (!records.ok()) return records.status();
  Result<std::uint64_t> conflicts = impl_->records.conflict_count();
  if (!conflicts.ok()) return conflicts.status();
  st.ops = ops.value();
  st.own_ops = own.value();  // seqs run 1, 2, 3 … without gaps
  st.last_own_seq = own.value();
  st.records = records.value();
  st.conflicts = conflicts.value();
  st.schema_version = static_cast<std::int32_t>(store::store_migrations().back().version);
  return st;
}

Status Engine::check_integrity() { return store::check_store(*impl_->db, true); }

Hlc Engine::now_hlc() { return impl_->hlc.last(); }

std::int64_t Engine::wall_ms() { return impl_->hlc.wall_ms(); }

Status Engine::observe(Hlc remote) {
  return impl_->in_txn([&]() -> Status {
    impl_->hlc.observe(remote);
    return Status();
  });
}

Status Engine::transaction(const std::function<Status()>& body) { return impl_->in_txn(body); }

}  // namespace vs
