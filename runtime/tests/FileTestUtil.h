//===- runtime/tests/FileTestUtil.h - Scratch files for runtime tests -----===//
//
// This file defines helpers shared by the data and checkpoint tests: a
// per-test scratch directory under the system temp directory, removed (with
// write permission restored first, since some tests make it read-only) when
// the test ends; whole-file byte I/O; and a substring expectation, so the
// tests need only gtest and not gmock.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_TESTS_FILETESTUTIL_H
#define TELE_RUNTIME_TESTS_FILETESTUTIL_H

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

namespace tele::testing {

class TempDir {
public:
  explicit TempDir(const std::string &tag) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("tele-" + tag + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(dir_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  std::string path(const std::string &name) const {
    return (dir_ / name).string();
  }
  const std::filesystem::path &dir() const { return dir_; }

  /// Names of the entries in the directory (to check that no temporary
  /// files are left behind).
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    for (const auto &e : std::filesystem::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    return names;
  }

private:
  std::filesystem::path dir_;
};

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace tele::testing

/// Expects `needle` to occur in the string `haystack`, printing both if not.
#define EXPECT_CONTAINS(haystack, needle)                                      \
  do {                                                                         \
    const std::string tele_h_ = (haystack), tele_n_ = (needle);                \
    EXPECT_NE(tele_h_.find(tele_n_), std::string::npos)                        \
        << "  message: " << tele_h_ << "\n  expected to contain: " << tele_n_; \
  } while (0)

#endif // TELE_RUNTIME_TESTS_FILETESTUTIL_H
