#include <visitsync/status.h>

namespace vs {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidInput:
      return "invalid input";
    case Code::kNotFound:
      return "not found";
    case Code::kRejected:
      return "rejected";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kCorrupt:
      return "corrupt";
    case Code::kIo:
      return "i/o error";
    case Code::kInternal:
      return "internal error";
    case Code::kDamaged:
      return "damaged store";
    case Code::kCancelled:
      return "cancelled";
  }
  return "unknown code";
}

Status& Status::annotate(std::string_view where) {
  if (ok() || where.empty()) return *this;
  // A report of damage keeps its first words first: "store damaged: where: message".
  constexpr std::string_view kDamage = "store damaged: ";
  const std::size_t at =
      code_ == Code::kDamaged && message_.compare(0, kDamage.size(), kDamage) == 0 ? kDamage.size()
                                                                                   : 0;
  message_.insert(at, std::string(where) + ": ");
  return *this;
}

Status Status::annotated(std::string_view where) const& {
  Status copy = *this;
  copy.annotate(where);
  return copy;
}

Status Status::annotated(std::string_view where) && {
  annotate(where);
  return std::move(*this);
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s(code_name(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace vs
