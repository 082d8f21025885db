#include "console_commands.h"

#include <cstdio>
#include <iostream>
#include <string>

#include <visitsync/hub_store.h>
#include <visitsync/transport/console.h>

namespace vs::admin {
namespace {

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

Result<std::unique_ptr<HubStore>> open_hub(const cli::Args& a) {
  Result<std::string> dir = a.need("data");
  if (!dir.ok()) return dir.status();
  return HubStore::open(dir.value());
}

}  // namespace

Status cmd_console_add(const cli::Args& a) {
  if (Status s = a.expect(1, "NAME"); !s.ok()) return s;
  ConsoleAccount account;
  account.name = a.positional()[0];
  if (a.has("admin") == a.get("supervisor").has_value())
    return Status::invalid_input("give one of --supervisor PERSON and --admin");
  if (auto p = a.get("supervisor")) {
    account.role = ConsoleRole::kSupervisor;
    account.person = *p;
  } else {
    account.role = ConsoleRole::kAdmin;
  }
  std::string password;
  const bool given = a.has("password-stdin");
  if (given) {
    if (!std::getline(std::cin, password)) return Status::invalid_input("no password on stdin");
  } else {
    password = new_password();
  }
  Result<std::unique_ptr<HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  if (Status s = add_console_account(*hub.value(), account, password); !s.ok()) return s;
  print("account " + account.name + " (" +
        (account.role == ConsoleRole::kAdmin ? std::string("administrator")
                                             : "supervisor " + account.person) +
        ")" + (given ? "\n" : "; initial password: " + password + "\n"));
  return Status();
}

Status cmd_console_remove(const cli::Args& a) {
  if (Status s = a.expect(1, "NAME"); !s.ok()) return s;
  Result<std::unique_ptr<HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  if (Status s = remove_console_account(*hub.value(), a.positional()[0]); !s.ok()) return s;
  print("removed " + a.positional()[0] + "\n");
  return Status();
}

Status cmd_console_list(const cli::Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::unique_ptr<HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<std::vector<ConsoleAccount>> all = console_accounts(*hub.value());
  if (!all.ok()) return all.status();
  for (const ConsoleAccount& c : all.value()) {
    print(c.name + "  " + (c.role == ConsoleRole::kAdmin ? "admin" : "supervisor " + c.person) +
          "\n");
  }
  return Status();
}

Status cmd_console_token(const cli::Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::unique_ptr<HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  const std::string token = a.has("off") ? "" : new_password() + new_password();
  if (Status s = set_metrics_token(*hub.value(), token); !s.ok()) return s;
  print(token.empty() ? "metrics token access is off\n" : token + "\n");
  return Status();
}

}  // namespace vs::admin
