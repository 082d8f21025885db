// A device's data folder made from its enrollment (client.h).
#include <filesystem>

#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

namespace vs {

namespace fs = std::filesystem;

void discard_data_folder(const std::string& data_dir, bool existed) {
  std::error_code ec;
  if (!existed) {
    fs::remove_all(data_dir, ec);
    return;
  }
  for (const char* f : {"visitsync.db", "visitsync.db-wal", "visitsync.db-shm", kEnrollmentFile})
    fs::remove(fs::path(data_dir) / f, ec);
  fs::remove_all(fs::path(data_dir) / "attachments", ec);
}

Result<std::unique_ptr<Inspection>> create_enrolled_folder(const std::string& data_dir,
                                                           const Enrollment& enrollment) {
  const Role role = enrollment.role == "supervisor" ? Role::kSupervisor : Role::kInspector;
  std::error_code ec;
  const bool existed = fs::exists(data_dir, ec);  // a bad path: create() says why
  Result<std::unique_ptr<Inspection>> in =
      Inspection::create(data_dir, enrollment.device_id, "enrolled", enrollment.inspector_id, role);
  if (!in.ok()) return in.status();
  Status s = write_enrollment_file((fs::path(data_dir) / kEnrollmentFile).string(), enrollment);
  if (!s.ok()) {
    in.value().reset();
    discard_data_folder(data_dir, existed);
    return s;
  }
  return in;
}

}  // namespace vs
