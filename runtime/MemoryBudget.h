//===- runtime/MemoryBudget.h - Memory checks before allocation -----------===//
//
// This file defines the helpers with which every path that allocates a
// model's state (tele train, tele grow, tele-run) checks its need against
// the memory there is before allocating: an impossible size must be one
// error line naming both numbers, not `std::bad_alloc`, an out-of-memory
// abort or the kernel's OOM killer halfway through a run.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_MEMORYBUDGET_H
#define TELE_RUNTIME_MEMORYBUDGET_H

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>

namespace tele::rt {

/// Host memory the process can still allocate without swapping: the
/// kernel's MemAvailable estimate, else the physical memory.
inline uint64_t availableHostMemory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib;
  while (meminfo >> key >> kib) {
    if (key == "MemAvailable:")
      return kib * 1024;
    meminfo.ignore(256, '\n');
  }
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : UINT64_MAX;
}

/// `bytes` for people: "512 B", "3.2 MiB", "1.5 TiB".
inline std::string formatBytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 6) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit ? "%.1f %s" : "%.0f %s", bytes, units[unit]);
  return text;
}

} // namespace tele::rt

#endif // TELE_RUNTIME_MEMORYBUDGET_H
