// repair_store(): a damaged store rebuilt from its sound rows, to be refilled from the hub.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>

#include <visitsync/transport/client.h>

#include "session/device_session.h"
#include "wire/messages.h"

namespace vs {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kApplyBatch = 5000;
constexpr const char* kStoreSuffixes[] = {"", "-wal", "-shm", "-damaged"};

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Status remove_store_files(const std::string& path) {
  for (const char* suffix : kStoreSuffixes) {
    std::error_code ec;
    fs::remove(path + suffix, ec);
    if (ec) return Status::io(path + suffix + ": " + ec.message());
  }
  return Status();
}

// Renames a store's files (those there are) from `from` to `to`.
Status move_store_files(const std::string& from, const std::string& to) {
  for (const char* suffix : kStoreSuffixes) {
    std::error_code ec;
    if (!fs::exists(from + suffix, ec)) continue;
    fs::rename(from + suffix, to + suffix, ec);
    if (ec)
      return Status::io("moving " + from + suffix + " to " + to + suffix + ": " + ec.message());
  }
  return Status();
}

// Carries the sound rows of `old` into `fresh`, inside the caller's transaction.
class Carrier {
 public:
  Carrier(Engine& fresh, RepairReport& report) : fresh_(fresh), report_(report) {}
  // With `refill`, the damaged store's pull cursor and refill state stay behind.
  bool refill = false;

  Engine::SalvageSink sink() {
    Engine::SalvageSink s;
    s.setting = [this](const std::string& name, const std::string& value) -> Status {
      if (refill && (name == session::kCursorSetting || name == session::kRefillSetting))
        return Status();
      return fresh_.set_setting(name, value);
    };
    s.counter = [this](const std::string& name, std::uint64_t value) -> Status {
      if (name == session::kAckedCounter) acked_ = value;
      return fresh_.set_counter(name, value);
    };
    s.ops = [this](std::vector<Op>& ops) -> Status {
      ++report_.rows_kept;
      for (Op& op : ops) {
        if (op.id.device == fresh_.device_id()) own_.insert(op.id.seq);
        pending_.push_back(std::move(op));
      }
      return pending_.size() >= kApplyBatch ? flush() : Status();
    };
    s.lost = [this](const Status& why) { report_.lost.push_back(why.message()); };
    return s;
  }

  Status flush() {
    Result<ApplyReport> r = fresh_.apply_remote(pending_);
    if (!r.ok()) return r.status();
    report_.ops_kept += pending_.size() - r->rejected.size();
    for (const ApplyReport::Rejection& rej : r->rejected)
      report_.lost.push_back(rej.op.to_string() + ": " + rej.reason.message());
    pending_.clear();
    return Status();
  }

  // This device's seqs that no sound row holds, split by whether the hub acknowledged them;
  // with `refill`, a placeholder op for each unacknowledged one.
  Status account_own() {
    report_.own_ops_kept = own_.size();
    const std::uint64_t last = std::max(own_.empty() ? 0 : *own_.rbegin(), acked_);
    for (std::uint64_t seq = 1; seq <= last; ++seq) {
      if (own_.count(seq) != 0) continue;
      if (seq <= acked_) {
        ++report_.own_acked_lost;
        continue;
      }
      report_.own_unacked_lost.push_back(seq);
      if (!refill) continue;
      Op op;
      op.id = OpId{fresh_.device_id(), seq};
      op.hlc = fresh_.now_hlc() + 1;
      op.record = "repair/" + fresh_.device_id();
      op.field = "lost-" + std::to_string(seq);
      op.value = Value::text("this op was lost when the store was repaired on " + utc_stamp());
      pending_.push_back(std::move(op));
    }
    return flush();
  }

 private:
  Engine& fresh_;
  RepairReport& report_;
  std::vector<Op> pending_;
  std::set<std::uint64_t> own_;
  std::uint64_t acked_ = 0;
};

}  // namespace

Result<RepairReport> repair_store(const std::string& store_path, bool refill) {
  Options read;
  read.create_if_missing = false;
  read.salvage = true;
  Result<std::unique_ptr<Engine>> old = Engine::open(store_path, read);
  if (!old.ok())
    return old.status().annotated("the store does not open, so nothing of it can be kept");
  RepairReport report;
  report.refill = refill;
  const std::string fresh_path = store_path + ".repairing";
  if (Status s = remove_store_files(fresh_path); !s.ok()) return s;
  {
    Options make;
    make.device_id = old.value()->device_id();
    Result<std::unique_ptr<Engine>> fresh = Engine::open(fresh_path, make);
    if (!fresh.ok()) return fresh.status().annotated(fresh_path);
    Engine& e = *fresh.value();
    Carrier carrier(e, report);
    carrier.refill = refill;
    Status s = e.transaction([&]() -> Status {
      if (Status got = old.value()->salvage(carrier.sink()); !got.ok()) return got;
      if (Status f = carrier.flush(); !f.ok()) return f;
      if (Status own = carrier.account_own(); !own.ok()) return own;
      if (!refill) return Status();
      if (Status c = e.set_setting(session::kCursorSetting, wire::kRefillCursor); !c.ok()) return c;
      return e.set_setting(session::kRefillSetting, "1");
    });
    old.value().reset();  // writes its damage marker, which moves with it
    if (!s.ok()) {
      fresh.value().reset();
      (void)remove_store_files(fresh_path);
      return s.annotated("rebuilding " + store_path);
    }
  }
  report.moved_to = store_path + ".damaged-" + utc_stamp();
  if (Status s = move_store_files(store_path, report.moved_to); !s.ok()) return s;
  if (Status s = move_store_files(fresh_path, store_path); !s.ok()) return s;
  return report;
}

}  // namespace vs
