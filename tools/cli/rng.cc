#include "rng.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace vs::cli {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  x += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// FNV-1a over the stream's name: a different starting point per stream.
std::uint64_t name_hash(std::string_view name) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

}  // namespace

Rng::Rng(std::uint64_t seed, std::string_view stream) {
  std::uint64_t x = seed ^ name_hash(stream);
  for (std::uint64_t& s : s_) s = splitmix64(x);
}

std::uint64_t Rng::next() {
  const std::uint64_t out = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return out;
}

std::int64_t Rng::between(std::int64_t lo, std::int64_t hi) {
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
  if (span == 0) return static_cast<std::int64_t>(next());  // the whole 64-bit range
  // Rejection keeps the draw unbiased: accept only below a multiple of span.
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t limit = kMax - kMax % span;
  std::uint64_t r = next();
  while (r >= limit) r = next();
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + r % span);
}

std::size_t Rng::index(std::size_t n) {
  return static_cast<std::size_t>(between(0, static_cast<std::int64_t>(n) - 1));
}

bool Rng::chance(int per_mille) { return between(0, 999) < per_mille; }

std::size_t Rng::weighted(std::initializer_list<int> weights) {
  const int total = std::accumulate(weights.begin(), weights.end(), 0);
  std::int64_t r = between(0, total - 1);
  std::size_t i = 0;
  for (const int w : weights) {
    if (r < w) return i;
    r -= w;
    ++i;
  }
  return weights.size() - 1;
}

std::vector<std::size_t> Rng::sample(std::size_t n, std::size_t k) {
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t{0});
  // A partial Fisher-Yates shuffle: the first k places end up a uniform k-subset.
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = static_cast<std::size_t>(
        between(static_cast<std::int64_t>(i), static_cast<std::int64_t>(n) - 1));
    std::swap(all[i], all[j]);
  }
  all.resize(k);
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace vs::cli
