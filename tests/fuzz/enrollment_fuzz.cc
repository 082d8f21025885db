// libFuzzer target: an enrollment file as `visitsync init --enroll` and vs_enroll_bytes read it
// (load_enrollment: the JSON, the PEMs, the certificate chain and the key).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <visitsync/transport/deployment.h>

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  vs::Result<vs::Enrollment> e = vs::load_enrollment(text);
  vs::fuzz::refused_with_reason(e.status());
  return 0;
}
