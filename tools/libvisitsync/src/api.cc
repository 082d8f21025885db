// The C API's foundations (visitsync.h): versions, errors, memory, handles, cancellation.
#include <filesystem>

#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "handle.h"
#include "util/bytes.h"

// The project's version, from CMake.
#ifndef VS_VERSION_STRING
#error "VS_VERSION_STRING must be defined by the build"
#endif

namespace vs::capi {

char* dup(std::string_view s) {
  auto* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) return nullptr;
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

vs_code report(const char* fn, const Status& s, char** error) {
  if (error != nullptr) *error = s.ok() ? nullptr : dup(std::string(fn) + ": " + s.message());
  return static_cast<vs_code>(s.code());
}

Status check_arg(const char* s, const char* name) {
  if (s == nullptr) return Status::invalid_input(std::string(name) + " is NULL");
  const std::size_t n = strnlen(s, kMaxArgBytes + 1);
  if (n > kMaxArgBytes) {
    return Status::invalid_input(std::string(name) + " is over " + std::to_string(kMaxArgBytes) +
                                 " bytes");
  }
  if (!util::valid_utf8(std::string_view(s, n)))
    return Status::invalid_input(std::string(name) + " is not valid UTF-8");
  return Status();
}

Status check_optional_arg(const char* s, const char* name) {
  return s == nullptr ? Status() : check_arg(s, name);
}

Result<Inspection*> open_of(vs_db* db) {
  if (db->in == nullptr)
    return Status::invalid_input("the handle of " + db->data_dir + " is closed (vs_close)");
  return db->in.get();
}

Status give(char** out, std::string_view text, const char* name) {
  if (out == nullptr) return Status::invalid_input(std::string(name) + " is NULL");
  *out = dup(text);
  if (*out == nullptr) return Status::internal("out of memory");
  return Status();
}

}  // namespace vs::capi

namespace {

using vs::Result;
using vs::Status;
using namespace vs::capi;

// The options a call was given, or the defaults; kInvalidInput for a size no version had.
Result<vs_open_options> options_of(const vs_open_options* given) {
  vs_open_options o;
  vs_open_options_init(&o);
  if (given == nullptr) return o;
  if (given->size != sizeof(vs_open_options)) {
    return Status::invalid_input("options->size is " + std::to_string(given->size) +
                                 ", not sizeof(vs_open_options) (" +
                                 std::to_string(sizeof(vs_open_options)) + ")");
  }
  const long long durability = enum_bits(given->durability);
  if (durability != VS_DURABILITY_FULL && durability != VS_DURABILITY_NORMAL) {
    return Status::invalid_input("options->durability is " + std::to_string(durability) +
                                 ", not a vs_durability");
  }
  return *given;
}

// A new handle on an opened data folder, logged to the options' sink.
Status hand_out(std::unique_ptr<vs::Inspection> in, const std::string& dir,
                const vs_open_options& o, vs_db** db) {
  auto h = std::make_unique<vs_db>();
  h->data_dir = dir;
  h->options = o;
  h->in = std::move(in);
  log_line(o, 0,
           "opened " + dir + ": device " + h->in->engine().device_id() + ", " + h->in->mode() +
               ", " + std::string(vs::role_name(h->in->role())) + " " + h->in->actor_id());
  *db = h.release();
  return Status();
}

// vs_enroll_file and vs_enroll_bytes, once the enrollment is read.
Status enroll(const char* data_dir, const Result<vs::Enrollment>& e, const vs_open_options* given,
              vs_db** db) {
  if (Status s = check_arg(data_dir, "data_dir"); !s.ok()) return s;
  if (*data_dir == '\0') return Status::invalid_input("data_dir is empty");
  Result<vs_open_options> o = options_of(given);
  if (!o.ok()) return o.status();
  if (!e.ok()) return e.status();
  Result<std::unique_ptr<vs::Inspection>> in = vs::create_enrolled_folder(data_dir, e.value());
  if (!in.ok()) return in.status();
  if (o->durability != VS_DURABILITY_FULL) {  // made at full durability: reopened as asked
    in.value().reset();
    in = vs::Inspection::open(data_dir, nullptr, durability_of(o.value()));
    if (!in.ok()) return in.status();
  }
  return hand_out(std::move(in.value()), data_dir, o.value(), db);
}

}  // namespace

extern "C" {

const char* vs_version(void) { return VS_VERSION_STRING; }

int vs_abi_version(void) { return VS_ABI_VERSION; }

const char* vs_code_name(vs_code code) {
  switch (enum_bits(code)) {
    case VS_OK:
      return "ok";
    case VS_ERR_INVALID_INPUT:
      return "invalid input";
    case VS_ERR_NOT_FOUND:
      return "not found";
    case VS_ERR_REJECTED:
      return "rejected";
    case VS_ERR_UNAVAILABLE:
      return "unavailable";
    case VS_ERR_CORRUPT:
      return "corrupt";
    case VS_ERR_IO:
      return "i/o error";
    case VS_ERR_INTERNAL:
      return "internal error";
    case VS_ERR_DAMAGED:
      return "damaged store";
    case VS_ERR_CANCELLED:
      return "cancelled";
  }
  return "unknown code";
}

void vs_free(void* p) { std::free(p); }

void vs_open_options_init(vs_open_options* options) {
  if (options == nullptr) return;
  *options = vs_open_options{};
  options->size = sizeof(vs_open_options);
  options->durability = VS_DURABILITY_FULL;
}

vs_code vs_open(const char* data_dir, const vs_open_options* options, vs_db** db, char** error) {
  return call("vs_open", error, [&]() -> Status {
    if (db == nullptr) return Status::invalid_input("db is NULL");
    *db = nullptr;
    if (Status s = check_arg(data_dir, "data_dir"); !s.ok()) return s;
    if (*data_dir == '\0') return Status::invalid_input("data_dir is empty");
    Result<vs_open_options> o = options_of(options);
    if (!o.ok()) return o.status();
    Result<std::unique_ptr<vs::Inspection>> in =
        vs::Inspection::open(data_dir, nullptr, durability_of(o.value()));
    if (!in.ok()) return in.status();
    return hand_out(std::move(in.value()), data_dir, o.value(), db);
  });
}

vs_code vs_enroll_file(const char* data_dir, const char* enrollment_path,
                       const vs_open_options* options, vs_db** db, char** error) {
  return call("vs_enroll_file", error, [&]() -> Status {
    if (db == nullptr) return Status::invalid_input("db is NULL");
    *db = nullptr;
    if (Status s = check_arg(enrollment_path, "enrollment_path"); !s.ok()) return s;
    return enroll(data_dir, vs::read_enrollment_file(enrollment_path), options, db);
  });
}

vs_code vs_enroll_bytes(const char* data_dir, const char* json, size_t len,
                        const vs_open_options* options, vs_db** db, char** error) {
  return call("vs_enroll_bytes", error, [&]() -> Status {
    if (db == nullptr) return Status::invalid_input("db is NULL");
    *db = nullptr;
    if (json == nullptr) return Status::invalid_input("json is NULL");
    return enroll(data_dir, vs::load_enrollment(std::string_view(json, len)), options, db);
  });
}

vs_code vs_close(vs_db* db, char** error) {
  return call("vs_close", error, [&]() -> Status {
    if (db == nullptr) return Status::invalid_input("db is NULL");
    if (in_replicator_callback()) {
      return Status::invalid_input(
          "called from a replicator callback, which cannot wait for its own thread; call "
          "vs_replicator_stop there, and vs_close from another thread");
    }
    std::unique_ptr<vs_background> bg;
    {
      std::lock_guard<std::mutex> lock(db->mu);
      if (db->in == nullptr)
        return Status::invalid_input("the handle of " + db->data_dir + " is closed already");
      db->in.reset();
      bg = std::move(db->background);
    }
    bg.reset();  // outside the lock: the replicator's thread may be calling into the handle
    return Status();
  });
}

void vs_release(vs_db* db) {
  if (db == nullptr) return;
  if (in_replicator_callback()) {  // a misuse the header forbids: a leak, not a deadlock
    log_line(db->options, 2, "vs_release called from a replicator callback: handle not freed");
    return;
  }
  try {
    end_background(db);
    std::unique_ptr<vs_db> owned(db);
    std::lock_guard<std::mutex> lock(db->mu);
    db->in.reset();
  } catch (...) {  // nothing may cross the ABI; closing a store does not throw
  }
}

vs_cancel* vs_cancel_new(void) { return new (std::nothrow) vs_cancel; }

void vs_cancel_trigger(vs_cancel* cancel) {
  if (cancel != nullptr) cancel->flag.store(true);
}

void vs_cancel_reset(vs_cancel* cancel) {
  if (cancel != nullptr) cancel->flag.store(false);
}

void vs_cancel_free(vs_cancel* cancel) { delete cancel; }

}  // extern "C"
