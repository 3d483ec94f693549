//===- SafeTensorsFuzzer.cpp - libFuzzer target of the safetensors reader -===//
//
// This file fuzzes the checkpoint reader (runtime/checkpoint) with the input
// as the bytes of a .safetensors file. The reader treats files as untrusted,
// so any bytes must either load or be refused with a message. Beyond crashes
// and sanitizer reports, these are findings: the header-only reader and the
// full reader disagree on whether the file is valid; a loaded tensor whose
// values cannot be converted for its dtype; a checkpoint that loads but does
// not write back, or reads back different after writing.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/SafeTensors.h"
#include "tests/FileTestUtil.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace tele::ckpt;

namespace {
[[noreturn]] void finding(const std::string &what) {
  std::fprintf(stderr, "safetensors fuzzer: %s\n", what.c_str());
  std::abort();
}

bool isFloat(DType d) {
  return d == DType::F32 || d == DType::F64 || d == DType::BF16 ||
         d == DType::F16;
}

bool sameCheckpoint(const Checkpoint &a, const Checkpoint &b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size())
    return false;
  for (const auto &[name, t] : a.tensors) {
    auto it = b.tensors.find(name);
    if (it == b.tensors.end() || it->second.dtype != t.dtype ||
        it->second.shape != t.shape || it->second.bytes != t.bytes)
      return false;
  }
  return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static tele::testing::TempDir dir("fuzz-safetensors");
  const std::string path = dir.path("input.safetensors");
  tele::testing::writeBytes(
      path, std::string(reinterpret_cast<const char *>(data), size));

  SafeTensorsHeader header;
  Status headerStatus = readSafeTensorsHeader(path, header);
  Checkpoint ckpt;
  Status status = readSafeTensors(path, ckpt);
  if (bool(headerStatus) != bool(status))
    finding("the header reader says '" + headerStatus.message() +
            "' but the full reader says '" + status.message() + "'");
  if (!status) {
    if (status.message().empty())
      finding("refused without a message");
    return 0;
  }

  for (const auto &[name, t] : ckpt.tensors) {
    std::vector<double> doubles;
    std::vector<int64_t> ints;
    Status converted = isFloat(t.dtype) ? t.getDoubles(doubles)
                                        : t.getInts(ints);
    if (!converted)
      finding("tensor '" + name + "' loaded but does not convert: " +
              converted.message());
    size_t count = isFloat(t.dtype) ? doubles.size() : ints.size();
    if (static_cast<int64_t>(count) != t.numel())
      finding("tensor '" + name + "' converts to the wrong element count");
  }

  const std::string copyPath = dir.path("copy.safetensors");
  if (Status st = writeSafeTensors(copyPath, ckpt); !st)
    finding("a loaded checkpoint does not write back: " + st.message());
  Checkpoint reread;
  if (Status st = readSafeTensors(copyPath, reread); !st)
    finding("a written checkpoint does not read back: " + st.message());
  if (!sameCheckpoint(ckpt, reread))
    finding("a checkpoint reads back different after writing");
  return 0;
}
