// libFuzzer target: a checklist template as `visitsync-admin template publish` reads it
// (parse_template). An accepted template's canonical form parses to the same canonical form.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <visitsync/checklist.h>

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  vs::Result<vs::Template> t = vs::parse_template(json);
  vs::fuzz::refused_with_reason(t.status());
  if (!t.ok()) return 0;
  vs::Result<vs::Template> again = vs::parse_template(t->canonical);
  vs::fuzz::expect(again.ok(), "a template's canonical form parses");
  vs::fuzz::expect(again.ok() && again->canonical == t->canonical, "the canonical form is stable");
  return 0;
}
