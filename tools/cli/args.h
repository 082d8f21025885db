// Command-line plumbing shared by the visitsync tools: argument parsing, error printing, and
// the mapping of Status codes to exit codes (tools/COMMANDS.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <visitsync/status.h>

namespace vs::cli {

// Exit codes of every tool: 0 ok, 2 bad input or usage, 3 network or sync failure (retry),
// 4 refused by the hub, 1 internal error.
int exit_code(const Status& s);

// Prints "<tool>: error: <message>" on stderr and returns exit_code(s). A message that quotes
// much of its input (a 131 KB value) is cut to kMaxMessageBytes, at a character's boundary.
inline constexpr std::size_t kMaxMessageBytes = 1000;
int fail(const std::string& tool, const Status& s);
std::string clipped(const std::string& message, std::size_t max_bytes);

// The arguments after the command words: "--name value" options, "--flag" flags, positionals.
class Args {
 public:
  // `options` take a value, `flags` do not; "--help" is always a flag. Anything else starting
  // with "--" is refused. After "--", every argument is a positional.
  static Result<Args> parse(const std::vector<std::string>& argv,
                            const std::set<std::string>& options,
                            const std::set<std::string>& flags);
  bool has(const std::string& flag) const { return flags_.count(flag) != 0; }
  std::optional<std::string> get(const std::string& option) const;
  // The value of a required option, or a usage error naming it.
  Result<std::string> need(const std::string& option) const;
  // The whole number an option holds, `fallback` when it is absent, or a usage error.
  Result<std::int64_t> number(const std::string& option, std::int64_t fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // Requires exactly `n` positionals, named in the error.
  Status expect(std::size_t n, const std::string& names) const;

 private:
  std::map<std::string, std::string> options_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

// A command of a tool: its words ("visit start"), its --help text, what it accepts, and what it
// does (returning the exit code).
struct Command {
  std::string name;
  std::string usage;
  std::set<std::string> options;
  std::set<std::string> flags;
  std::function<int(const Args&)> run;
};

// Runs the command that argv's first one or two words name: --help prints its usage, bad
// options exit 2, an exception becomes an internal error. Unknown commands and no command print
// the list of commands and `footer` on stderr (exit 2); `TOOL --help` prints them on stdout,
// `TOOL GROUP --help` the commands of a group ("visit").
int dispatch(const std::string& tool, const std::vector<Command>& commands, int argc, char** argv,
             const std::string& footer);

// 0 for OK, else the error printed as fail() does.
int finish(const std::string& tool, const Status& s);

// Reads a whole regular file (at most `max_bytes`); kInvalidInput names the path.
Result<std::string> read_file(const std::string& path, std::size_t max_bytes);
// Writes a file whole through a new temporary file beside it and a rename. A target that is
// not a regular file (a folder, symlink, FIFO or device) is never replaced; it, or a folder
// that does not exist, is bad input. (Both are engine/src/util/files.h.)
Status write_file(const std::string& path, const std::string& content);

// `photo get`: writes photo `id` of the data folder's photo store to `out` (as write_file
// does). `absent` says, for the error, why a photo may not be there (kNotFound).
Status write_photo(const std::string& data_dir, const std::string& id, const std::string& out,
                   const std::string& absent);

}  // namespace vs::cli
