//===- runtime/StaleTempFiles.h - Remove leftovers of killed writes -------===//
//
// This file defines tele::rt::removeStaleTempFiles. AtomicFileWriter
// (AtomicFile.h) streams into `<target>.tmp.<pid>` and renames it at the end;
// a process killed mid-write leaves that file behind, as large as the
// checkpoint it was writing. Commands that write into a directory call this
// first: it removes the temporary files of tele's own outputs (checkpoints
// `*.safetensors` and token files `*.tok`) whose writer is no longer alive.
// A file of a live process (another tele writing there) is left alone.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_STALETEMPFILES_H
#define TELE_RUNTIME_STALETEMPFILES_H

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

namespace tele::rt {

/// The writer's pid if `name` is `<stem>.safetensors.tmp.<pid>` or
/// `<stem>.tok.tmp.<pid>`, else 0.
inline pid_t staleTempFileOwner(const std::string &name) {
  size_t dot = name.rfind(".tmp.");
  if (dot == std::string::npos || dot + 5 == name.size())
    return 0;
  std::string target = name.substr(0, dot), digits = name.substr(dot + 5);
  auto endsWith = [&](const std::string &suffix) {
    return target.size() > suffix.size() &&
           target.compare(target.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (!endsWith(".safetensors") && !endsWith(".tok"))
    return 0;
  if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return static_cast<pid_t>(std::strtol(digits.c_str(), nullptr, 10));
}

/// Removes the temporary files of dead writers in `dir` and returns their
/// names. A missing or unreadable directory has none.
inline std::vector<std::string> removeStaleTempFiles(const std::string &dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    pid_t pid = staleTempFileOwner(name);
    if (pid <= 0 || pid == ::getpid() || !it->is_regular_file(ec))
      continue;
    // kill(pid, 0) fails with ESRCH only when no such process exists.
    if (::kill(pid, 0) == 0 || errno != ESRCH)
      continue;
    if (std::filesystem::remove(it->path(), ec))
      removed.push_back(name);
  }
  return removed;
}

} // namespace tele::rt

#endif // TELE_RUNTIME_STALETEMPFILES_H
