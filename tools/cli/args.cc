#include "args.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <visitsync/photos.h>

#include "util/files.h"

namespace vs::cli {

int exit_code(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return 0;
    case Code::kInvalidInput:
    case Code::kNotFound:
    case Code::kDamaged:  // its message is distinct: "store damaged: ..."
      return 2;
    case Code::kUnavailable:
    case Code::kCancelled:
      return 3;
    case Code::kRejected:
      return 4;
    case Code::kCorrupt:
    case Code::kIo:
    case Code::kInternal:
      return 1;
  }
  return 1;
}

std::string clipped(const std::string& message, std::size_t max_bytes) {
  if (message.size() <= max_bytes) return message;
  std::size_t cut = max_bytes;
  // Not inside a UTF-8 sequence: continuation bytes are 10xxxxxx.
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return message.substr(0, cut) + "... (" + std::to_string(message.size() - cut) +
         " more bytes not shown)";
}

int fail(const std::string& tool, const Status& s) {
  std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
               clipped(s.message(), kMaxMessageBytes).c_str());
  if (s.code() == Code::kDamaged) {
    std::fprintf(stderr, "%s: %s\n", tool.c_str(),
                 tool == "visitsync"
                     ? "the data folder's store is damaged and takes no more changes: "
                       "`visitsync repair --data DIR` rebuilds it (an enrolled device "
                       "refills it from the hub)"
                     : "the store is damaged and takes no more changes: restore it from a backup");
  }
  return exit_code(s);
}

int finish(const std::string& tool, const Status& s) { return s.ok() ? 0 : fail(tool, s); }

namespace {

// Lists the commands whose name starts with `group` (all when it is empty).
int list_commands(const std::string& tool, const std::vector<Command>& commands,
                  const std::string& group, const std::string& footer, FILE* to) {
  std::fprintf(to, "usage: %s %sCOMMAND [options]\n\ncommands:\n", tool.c_str(), group.c_str());
  for (const Command& c : commands) {
    if (c.name.rfind(group, 0) == 0) std::fprintf(to, "  %s\n", c.name.c_str());
  }
  std::fprintf(to, "\n%s", footer.c_str());
  return to == stdout ? 0 : 2;
}

}  // namespace

int dispatch(const std::string& tool, const std::vector<Command>& commands, int argc, char** argv,
             const std::string& footer) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return list_commands(tool, commands, "", footer, stderr);
  if (args[0] == "--help" || args[0] == "help")
    return list_commands(tool, commands, "", footer, stdout);
  for (const Command& c : commands) {
    const std::size_t words = c.name.find(' ') != std::string::npos ? 2 : 1;
    if (args.size() < words || (words == 2 ? args[0] + " " + args[1] : args[0]) != c.name) continue;
    const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(words),
                                        args.end());
    Result<Args> parsed = Args::parse(rest, c.options, c.flags);
    if (!parsed.ok()) return fail(tool, parsed.status().annotated(c.name));
    if (parsed->has("help")) {
      std::printf("usage: %s", c.usage.c_str());
      return 0;
    }
    try {
      return c.run(parsed.value());
    } catch (const std::exception& e) {
      return fail(tool, Status::internal(e.what()));
    }
  }
  // A group's word alone ("visit"), or with --help: the group's commands.
  const std::string group = args[0] + " ";
  const bool is_group = std::any_of(commands.begin(), commands.end(),
                                    [&](const Command& c) { return c.name.rfind(group, 0) == 0; });
  if (is_group && (args.size() == 1 || args[1] == "--help")) {
    return list_commands(tool, commands, group, footer, args.size() == 1 ? stderr : stdout);
  }
  const std::string named =
      args.size() > 1 && args[1].rfind("--", 0) != 0 ? args[0] + " " + args[1] : args[0];
  std::fprintf(stderr, "%s: error: unknown command '%s'\n", tool.c_str(), named.c_str());
  return list_commands(tool, commands, is_group ? group : "", footer, stderr);
}

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& options,
                         const std::set<std::string>& flags) {
  Args a;
  bool only_positional = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--" && !only_positional) {
      only_positional = true;
      continue;
    }
    if (only_positional || arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      a.positional_.push_back(arg);
      continue;
    }
    const std::string name = arg.substr(2);
    if (flags.count(name) != 0 || name == "help") {
      a.flags_.insert(name);
    } else if (options.count(name) != 0) {
      if (i + 1 >= argv.size()) return Status::invalid_input("--" + name + " needs a value");
      if (!a.options_.emplace(name, argv[++i]).second)
        return Status::invalid_input("--" + name + " given twice");
    } else {
      return Status::invalid_input("unknown option " + arg + " (see --help)");
    }
  }
  return a;
}

std::optional<std::string> Args::get(const std::string& option) const {
  auto it = options_.find(option);
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> Args::need(const std::string& option) const {
  auto v = get(option);
  if (!v) return Status::invalid_input("missing --" + option + " (see --help)");
  return *v;
}

Result<std::int64_t> Args::number(const std::string& option, std::int64_t fallback) const {
  auto v = get(option);
  if (!v) return fallback;
  std::int64_t n = 0;
  const auto res = std::from_chars(v->data(), v->data() + v->size(), n);
  if (res.ec != std::errc() || res.ptr != v->data() + v->size())
    return Status::invalid_input("--" + option + ": '" + *v + "' is not a whole number");
  return n;
}

Status Args::expect(std::size_t n, const std::string& names) const {
  if (positional_.size() != n) {
    return Status::invalid_input("expected " + names + ", got " +
                                 std::to_string(positional_.size()) + " argument" +
                                 (positional_.size() == 1 ? "" : "s") + " (see --help)");
  }
  return Status();
}

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  return util::read_regular_file(path, max_bytes);
}

Status write_file(const std::string& path, const std::string& content) {
  return util::replace_file(path, content);
}

Status write_photo(const std::string& data_dir, const std::string& id, const std::string& out,
                   const std::string& absent) {
  if (!is_photo_id(id))
    return Status::invalid_input("'" + id.substr(0, 80) + "' is not a photo id (64 hex digits)");
  Result<std::unique_ptr<PhotoStore>> photos = PhotoStore::open(photo_folder(data_dir));
  if (!photos.ok()) return photos.status();
  Result<std::string> bytes = photos.value()->read_all(id);
  if (bytes.status().code() == Code::kNotFound)
    return Status::not_found("photo " + id + " is not here: " + absent);
  if (!bytes.ok()) return bytes.status();
  return write_file(out, bytes.value());
}

}  // namespace vs::cli
