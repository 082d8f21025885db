#include "support/test_support.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>

#include <catch2/catch.hpp>

namespace vs::test {

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() /
                     ("vs-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::error_code ec;
    if (std::filesystem::create_directory(candidate, ec)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary folder");
}

TempDir::~TempDir() {
  const char* keep = std::getenv("VS_KEEP_TEMP");
  if (keep != nullptr && std::string(keep) == "1") return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::uint64_t seed() {
  static const std::uint64_t value = [] {
    std::uint64_t s;
    if (const char* env = std::getenv("VS_SEED"); env != nullptr && *env != '\0') {
      s = std::strtoull(env, nullptr, 10);
    } else {
      std::random_device rd;
      s = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }
    std::cerr << "property tests: VS_SEED=" << s << "\n";
    return s;
  }();
  return value;
}

int property_rounds(int normal) {
  if (const char* env = std::getenv("VS_PROPERTY_ROUNDS"); env != nullptr && *env != '\0') {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return normal;
}

std::string sample_dir() { return VS_SOURCE_DIR "/schema/sample"; }
std::string templates_dir() { return VS_SOURCE_DIR "/schema/templates"; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  INFO(path);
  REQUIRE(out.good());
}

std::string fake_jpeg(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string b = "\xFF\xD8\xFF\xE0";
  while (b.size() < n) b.push_back(static_cast<char>(rng()));
  b.resize(n);
  return b;
}

void answer_required(Inspection& in, const std::string& visit_id) {
  const std::pair<const char*, const char*> answers[] = {
      {"dangerous_buildings", "none"}, {"sports_ground_surfaced", "yes"},
      {"enrolled_students", "412"},    {"class_count", "9"},
      {"largest_class_size", "48"},    {"canteen_licensed", "yes"},
      {"overall_rating", "4"}};
  for (const auto& [item, value] : answers) {
    Status s = in.set_answer(visit_id, item, value);
    INFO(item << ": " << s.to_string());
    REQUIRE(s.ok());
  }
}

std::unique_ptr<Engine> open_engine(const TempDir& dir, const std::string& device, Clock* clock,
                                    const std::string& file) {
  Options options;
  options.device_id = device;
  options.clock = clock;
  options.durability = Durability::kNormal;  // tests need no fsync; the bench measures both
  Result<std::unique_ptr<Engine>> e =
      Engine::open(dir.file(file.empty() ? device + ".db" : file), options);
  INFO(e.status().to_string());
  REQUIRE(e.ok());
  return std::move(e.value());
}

}  // namespace vs::test
