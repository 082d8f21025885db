// The two folders of a deployment's TLS material: the CA folder and the hub's tls/ folder
// (deployment.h). Reading the CA and signing are in enrollment.cc.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <visitsync/transport/deployment.h>

#include "tls/certs.h"
#include "tls/small_file.h"
#include "util/files.h"

namespace vs {
namespace {

namespace fs = std::filesystem;

// A file in the hub's tls/ folder is read this far when looking for a private key: PEM files
// are far smaller (kMaxPemBytes), and a larger file is no TLS file of ours anyway.
constexpr std::size_t kScanBytes = 4 * tls::kMaxPemBytes;

// `p` made absolute and normal, symlinks resolved as far as they exist, with no trailing "/".
fs::path resolved(const std::string& p) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(fs::absolute(p, ec), ec);
  if (ec) out = fs::absolute(p, ec).lexically_normal();
  if (!out.has_filename() && out.has_relative_path()) out = out.parent_path();
  return out;
}

// Whether `inner` is `outer` or lies inside it.
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

// `p` as one shell word: quoted unless it is made of characters no shell treats specially.
std::string shell_word(const std::string& p) {
  const bool plain = !p.empty() && p.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyz"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789/._-+:@") == std::string::npos;
  if (plain) return p;
  std::string out = "'";
  for (const char c : p) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Whether the start of the file holds a PEM private key (plain, EC, RSA or encrypted).
bool holds_private_key(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string head(kScanBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head.find("PRIVATE KEY-----") != std::string::npos;
}

// What to do about <data_dir>/tls/ca.key: the steps that move it into the default CA folder.
std::string ca_key_message(const std::string& data_dir) {
  std::error_code ec;
  const fs::path tls = fs::absolute(data_dir, ec).lexically_normal() / "tls";
  Result<std::string> ca = default_ca_dir(data_dir);
  const std::string to = ca.ok() ? ca.value() : "/path/to/hub-ca";
  std::string m = (tls / "ca.key").string() +
                  " is the deployment CA's private key, and the hub must not keep it (whoever "
                  "takes this machine could enroll devices with it); ";
  if (fs::exists(fs::path(to) / "ca.key", ec)) {
    m += to + "/ca.key exists already: if the two are the same key, delete the one in " +
         tls.string() + ", otherwise find out which CA the hub's ca.pem belongs to";
  } else {
    m += "move it into a CA folder of its own: mkdir -m 700 " + shell_word(to) + " && cp -p " +
         shell_word((tls / "ca.pem").string()) + " " + shell_word(to + "/") + " && mv " +
         shell_word((tls / "ca.key").string()) + " " + shell_word(to + "/");
  }
  return m + "; then take the CA folder off this machine (tools/COMMANDS.md, \"The CA folder\")";
}

// Creates `dir` (and its parents) and restricts it to its owner. `created` is set to the
// outermost folder that did not exist before, for removal if a later step fails.
Status make_private_dir(const fs::path& dir, fs::path& created) {
  std::error_code ec;
  for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    created = p;
    if (p == p.parent_path()) break;
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::io("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status::io("cannot set " + dir.string() + " to mode 0700: " + ec.message());
  return Status();
}

// What create_hub_tls() wrote, removed again unless it all succeeded.
class Undo {
 public:
  Undo() = default;
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  Undo(Undo&&) = delete;
  Undo& operator=(Undo&&) = delete;
  ~Undo() {
    if (done_) return;
    std::error_code ec;
    for (const fs::path& f : files_) fs::remove(f, ec);
    for (const fs::path& d : dirs_)
      if (!d.empty()) fs::remove_all(d, ec);
  }
  void wrote(fs::path file) { files_.push_back(std::move(file)); }
  void made(fs::path dir) { dirs_.push_back(std::move(dir)); }
  void keep() { done_ = true; }

 private:
  std::vector<fs::path> files_;
  std::vector<fs::path> dirs_;
  bool done_ = false;
};

Status write_all(const fs::path& dir, const std::vector<std::pair<const char*, std::string>>& files,
                 Undo& undo) {
  fs::path created;
  Status s = make_private_dir(dir, created);
  undo.made(created);
  if (!s.ok()) return s;
  for (const auto& [name, content] : files) {
    undo.wrote(dir / name);
    if (Status w = tls::write_private_file((dir / name).string(), content); !w.ok()) return w;
  }
  return Status();
}

}  // namespace

Result<std::string> read_small_file(const fs::path& p) {
  return util::read_regular_file(p.string(), tls::kMaxPemBytes * 2);
}

Result<std::string> default_ca_dir(const std::string& data_dir) {
  if (data_dir.empty())
    return Status::invalid_input("no hub data folder to put a CA folder beside");
  std::error_code ec;
  fs::path p = fs::absolute(data_dir, ec).lexically_normal();
  if (ec) return Status::invalid_input(data_dir + ": " + ec.message());
  if (!p.has_filename()) p = p.parent_path();
  if (!p.has_filename() || p.filename() == "..") {
    return Status::invalid_input(data_dir + " names no folder to put a CA folder beside");
  }
  return (p.parent_path() / (p.filename().string() + "-ca")).string();
}

Status check_new_ca_dir(const std::string& data_dir, const std::string& ca_dir) {
  if (ca_dir.empty()) return Status::invalid_input("the CA folder's name is empty");
  const fs::path ca = resolved(ca_dir);
  const fs::path data = resolved(data_dir);
  const char* apart = ": the CA's key must live apart from the hub's files";
  if (within(ca, data)) {
    return Status::invalid_input(ca_dir + (ca == data ? " is" : " is inside") +
                                 " the hub's data folder " + data_dir + apart);
  }
  if (within(data, ca))
    return Status::invalid_input(ca_dir + " holds the hub's data folder " + data_dir + apart);
  std::error_code ec;
  if (fs::exists(ca, ec) && !fs::is_directory(ca, ec))
    return Status::invalid_input(ca_dir + " is not a folder");
  for (const char* name : {"ca.key", "ca.pem"}) {
    if (fs::exists(ca / name, ec)) {
      return Status::invalid_input(ca_dir + " holds a deployment CA already (" + name +
                                   "); a new CA would not be trusted by the devices the old one "
                                   "enrolled: name another folder");
    }
  }
  return Status();
}

Status create_hub_tls(const std::string& data_dir, const std::string& ca_dir,
                      const std::string& host) {
  if (Status s = check_new_ca_dir(data_dir, ca_dir); !s.ok()) return s;
  const fs::path dir = fs::path(data_dir) / "tls";
  std::error_code ec;
  for (const char* name : {"ca.pem", "ca.key", "hub.pem", "hub.key"}) {
    if (fs::exists(dir / name, ec))
      return Status::invalid_input(dir.string() + " holds the hub's TLS files already");
  }
  Result<tls::Credentials> ca = tls::make_ca("visitsync deployment CA");
  if (!ca.ok()) return ca.status();
  Result<tls::Credentials> hub = tls::issue_hub_cert(ca.value(), host);
  if (!hub.ok()) return hub.status();
  Undo undo;
  // The key goes to the CA folder and nowhere else; the hub's folder gets the CA's certificate.
  if (Status s = write_all(ca_dir, {{"ca.key", ca->key_pem}, {"ca.pem", ca->cert_pem}}, undo);
      !s.ok())
    return s;
  if (Status s = write_all(
          dir, {{"ca.pem", ca->cert_pem}, {"hub.key", hub->key_pem}, {"hub.pem", hub->cert_pem}},
          undo);
      !s.ok())
    return s;
  undo.keep();
  return Status();
}

Status check_no_ca_key(const std::string& data_dir) {
  const fs::path dir = fs::path(data_dir) / "tls";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status();
  if (fs::exists(fs::symlink_status(dir / "ca.key", ec)))
    return Status::invalid_input(ca_key_message(data_dir));
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.filename() == "hub.key" || !it->is_regular_file(ec) || !holds_private_key(p)) continue;
    return Status::invalid_input(
        p.string() + " holds a private key, and the hub's tls folder may hold none but hub.key: " +
        "move it off this machine (a deployment CA's key belongs in the CA folder; "
        "tools/COMMANDS.md, \"The CA folder\")");
  }
  if (ec) return Status::io("cannot list " + dir.string() + ": " + ec.message());
  return Status();
}

Result<HubTls> load_hub_tls(const std::string& data_dir) {
  if (Status s = check_no_ca_key(data_dir); !s.ok()) return s;
  const fs::path dir = fs::path(data_dir) / "tls";
  HubTls t;
  for (const auto& [name, out] : {std::pair{"ca.pem", &t.ca_pem}, std::pair{"hub.pem", &t.cert_pem},
                                  std::pair{"hub.key", &t.key_pem}}) {
    Result<std::string> text = read_small_file(dir / name);
    if (!text.ok()) return text.status().annotate("the hub's TLS files (run visitsync-admin init)");
    *out = std::move(text.value());
  }
  return t;
}

}  // namespace vs
