// Runs a fuzz target once over files, the way libFuzzer replays a corpus, for
// the builds that have no libFuzzer (the normal gcc build): every argument is a
// file or a directory whose regular files are run, in name order. Exits 1 when
// an argument cannot be read or holds no input; a failing input aborts.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace {

bool Run(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << file << "\n";
    return false;
  }
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::cerr << "running " << file.string() << " (" << data.size() << " bytes)\n";
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " FILE_OR_DIR...\n";
    return 2;
  }
  size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (!Run(f)) return 1;
        ++ran;
      }
    } else {
      if (!Run(arg)) return 1;
      ++ran;
    }
  }
  if (ran == 0) {
    std::cerr << "no inputs found in the arguments\n";
    return 1;
  }
  std::cerr << "ran " << ran << " inputs\n";
  return 0;
}
