// libFuzzer target: a batch of ops as a device pushes it (wire::decode_batch). Refused with a
// reason, or accepted; an accepted batch encodes again to a batch that decodes to the same ops.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "wire/batch.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vs;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Result<std::vector<Op>> ops = wire::decode_batch(bytes);
  fuzz::refused_with_reason(ops.status());
  if (!ops.ok()) return 0;
  for (const Op& op : ops.value()) fuzz::refused_with_reason(op.check());
  Result<std::vector<Op>> again = wire::decode_batch(wire::encode_batch(ops.value()));
  fuzz::expect(again.ok(), "a decoded batch encodes to one that decodes");
  fuzz::expect(again.ok() && again->size() == ops->size(), "the same count of ops");
  for (std::size_t i = 0; again.ok() && i < ops->size(); ++i)
    fuzz::expect((*again)[i].id == (*ops)[i].id && (*again)[i].record == (*ops)[i].record &&
                     (*again)[i].field == (*ops)[i].field,
                 "the same ops");
  return 0;
}
