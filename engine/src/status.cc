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
  }
  return "unknown code";
}

Status& Status::annotate(std::string_view where) {
  if (!ok() && !where.empty()) {
    std::string m(where);
    m += ": ";
    m += message_;
    message_ = std::move(m);
  }
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
