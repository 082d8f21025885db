// The tools' random numbers, for data sets that must be the same for a seed on every machine
// (the benchmark workload, visitsync-admin sample): xoshiro256** seeded through splitmix64, with
// integer-only helpers: no floating point and no std distributions (their output is
// implementation-defined).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace vs::cli {

class Rng {
 public:
  // A stream of its own for each (seed, name): the visits and the edits draw independently.
  Rng(std::uint64_t seed, std::string_view stream);

  std::uint64_t next();
  // Uniform in [lo, hi]; requires lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  // Uniform in [0, n); requires n > 0.
  std::size_t index(std::size_t n);
  // True with probability per_mille / 1000.
  bool chance(int per_mille);
  // An index drawn with probability proportional to its weight (weights >= 0, sum > 0).
  std::size_t weighted(std::initializer_list<int> weights);
  // k distinct values of [0, n), in increasing order; requires k <= n.
  std::vector<std::size_t> sample(std::size_t n, std::size_t k);

 private:
  std::uint64_t s_[4];
};

}  // namespace vs::cli
