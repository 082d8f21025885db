// The C API's photo calls (visitsync.h): attach a file or bytes, read a photo's bytes or path,
// ask for one from the hub, choose eager or lazy downloads, collect the garbage.
#include <cstring>

#include <visitsync/photos.h>

#include "handle.h"

namespace {

using vs::Inspection;
using vs::Result;
using vs::Status;
using namespace vs::capi;

Status check_photo_id(const char* id) {
  if (Status s = check_arg(id, "photo_id"); !s.ok()) return s;
  if (!vs::is_photo_id(id))
    return Status::invalid_input("photo_id '" + std::string(id).substr(0, 80) +
                                 "' is not a photo id (64 lowercase hex digits)");
  return Status();
}

Status not_here(const char* id) {
  return Status::not_found("photo " + std::string(id) +
                           " is not on this device (vs_photo_fetch asks the hub for it)");
}

}  // namespace

extern "C" {

vs_code vs_attach_file(vs_db* db, const char* path, char** photo_id, char** error) {
  return with_db("vs_attach_file", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_arg(path, "path"); !s.ok()) return s;
    if (photo_id == nullptr) return Status::invalid_input("photo_id is NULL");
    Result<std::string> id = in.add_attachment(path);
    if (!id.ok()) return id.status();
    return give(photo_id, id.value(), "photo_id");
  });
}

vs_code vs_attach_bytes(vs_db* db, const void* bytes, size_t size, char** photo_id, char** error) {
  return with_db("vs_attach_bytes", db, error, [&](Inspection& in) -> Status {
    if (bytes == nullptr) return Status::invalid_input("bytes is NULL");
    if (photo_id == nullptr) return Status::invalid_input("photo_id is NULL");
    Result<std::string> id = in.add_photo(std::string_view(static_cast<const char*>(bytes), size));
    if (!id.ok()) return id.status();
    return give(photo_id, id.value(), "photo_id");
  });
}

vs_code vs_photo_path(vs_db* db, const char* photo_id, char** path, char** error) {
  return with_db("vs_photo_path", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_photo_id(photo_id); !s.ok()) return s;
    if (path == nullptr) return Status::invalid_input("path is NULL");
    Result<std::unique_ptr<vs::PhotoStore>> store =
        vs::PhotoStore::open(vs::photo_folder(in.data_dir()));
    if (!store.ok()) return store.status();
    if (!store.value()->has(photo_id)) return not_here(photo_id);
    return give(path, store.value()->path(photo_id), "path");
  });
}

vs_code vs_photo_read(vs_db* db, const char* photo_id, void** bytes, size_t* size, char** error) {
  if (bytes != nullptr) *bytes = nullptr;
  if (size != nullptr) *size = 0;
  return with_db("vs_photo_read", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_photo_id(photo_id); !s.ok()) return s;
    if (bytes == nullptr || size == nullptr) return Status::invalid_input("bytes or size is NULL");
    Result<std::unique_ptr<vs::PhotoStore>> store =
        vs::PhotoStore::open(vs::photo_folder(in.data_dir()));
    if (!store.ok()) return store.status();
    if (!store.value()->has(photo_id)) return not_here(photo_id);
    Result<std::string> all = store.value()->read_all(photo_id);
    if (!all.ok()) return all.status();
    char* out = dup(all.value());
    if (out == nullptr) return Status::internal("out of memory");
    *bytes = out;
    *size = all->size();
    return Status();
  });
}

vs_code vs_photo_fetch(vs_db* db, const char* photo_id, char** error) {
  return write_db("vs_photo_fetch", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_photo_id(photo_id); !s.ok()) return s;
    return vs::request_photo(in.engine(), in.data_dir(), photo_id);
  });
}

vs_code vs_photo_downloads(vs_db* db, const char* mode, char** error) {
  return with_db("vs_photo_downloads", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_arg(mode, "mode"); !s.ok()) return s;
    return vs::set_photo_download_mode(in.engine(), mode);
  });
}

vs_code vs_photo_collect(vs_db* db, uint32_t grace_days, uint64_t* removed, char** error) {
  if (removed != nullptr) *removed = 0;
  return with_db("vs_photo_collect", db, error, [&](Inspection& in) -> Status {
    if (grace_days > 3650) return Status::invalid_input("grace_days is over 3650");
    Result<vs::PhotoGarbage> g = vs::collect_photo_garbage(
        in.engine(), in.data_dir(), static_cast<std::int64_t>(grace_days) * 86'400);
    if (!g.ok()) return g.status();
    if (removed != nullptr) *removed = g->removed.size();
    return Status();
  });
}

}  // extern "C"
