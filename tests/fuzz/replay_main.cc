// fuzz_replay TARGET FILE_OR_DIR...: runs a fuzz target's entry point on each file given (each
// file of a folder), as libFuzzer would on its corpus, in a normal build. The corpora in
// tests/fuzz/corpus (seeds, and every input a fuzzer ever found crashing, once fixed) are
// replayed by ctest this way, under every build of the test suite, sanitizers included.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

using Entry = int (*)(const std::uint8_t*, std::size_t);

// The targets' entry points, renamed from LLVMFuzzerTestOneInput at compile time (CMake).
extern "C" int fuzz_frame(const std::uint8_t*, std::size_t);
extern "C" int fuzz_batch(const std::uint8_t*, std::size_t);
extern "C" int fuzz_enrollment(const std::uint8_t*, std::size_t);
extern "C" int fuzz_template(const std::uint8_t*, std::size_t);
extern "C" int fuzz_csv(const std::uint8_t*, std::size_t);

int main(int argc, char** argv) {
  const std::map<std::string, Entry> targets = {{"frame", fuzz_frame},
                                                {"batch", fuzz_batch},
                                                {"enrollment", fuzz_enrollment},
                                                {"template", fuzz_template},
                                                {"csv", fuzz_csv}};
  if (argc < 3 || targets.count(argv[1]) == 0) {
    std::fprintf(stderr, "usage: fuzz_replay frame|batch|enrollment|template|csv FILE_OR_DIR...\n");
    return 2;
  }
  const Entry entry = targets.at(argv[1]);
  std::vector<std::filesystem::path> files;
  for (int i = 2; i < argc; ++i) {
    const std::filesystem::path p = argv[i];
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.push_back(p);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "fuzz_replay: no input files\n");
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("fuzz_replay %s: %zu inputs, no finding\n", argv[1], files.size());
  return 0;
}
