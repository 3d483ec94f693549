//===- TokenFileFuzzer.cpp - libFuzzer target of the token-file reader ----===//
//
// This file fuzzes the token-file reader and batch sampler (runtime/data)
// with the input as the bytes of a TELETOK1 file. Any bytes must either open
// or be refused with a message. Beyond crashes and sanitizer reports, these
// are findings: a file that opens with the token scan but not without it; a
// batch that is refused although the sampler accepted the file; a batch with
// a token outside the vocabulary or whose targets are not its inputs shifted
// by one.
//
//===----------------------------------------------------------------------===//

#include "data/TokenFile.h"
#include "tests/FileTestUtil.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace tele::data;

namespace {
[[noreturn]] void finding(const std::string &what) {
  std::fprintf(stderr, "token file fuzzer: %s\n", what.c_str());
  std::abort();
}

/// Checks one batch of `rows` sequences of `seqLen` tokens drawn from `file`.
void checkBatch(const TokenFile &file, const std::vector<int32_t> &inputs,
                const std::vector<int32_t> &targets, size_t seqLen) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i] < 0 || uint32_t(inputs[i]) >= file.vocabSize() ||
        targets[i] < 0 || uint32_t(targets[i]) >= file.vocabSize())
      finding("a batch holds a token outside the vocabulary");
    if (i % seqLen + 1 < seqLen && targets[i] != inputs[i + 1])
      finding("a batch's targets are not its inputs shifted by one");
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static tele::testing::TempDir dir("fuzz-tokens");
  const std::string path = dir.path("input.tok");
  tele::testing::writeBytes(
      path, std::string(reinterpret_cast<const char *>(data), size));

  TokenFile file;
  Status status = TokenFile::open(path, file);
  TokenFile unchecked;
  Status uncheckedStatus = TokenFile::open(path, unchecked, /*checkTokens=*/false);
  if (status && !uncheckedStatus)
    finding("opens with the token scan but not without: " +
            uncheckedStatus.message());
  if (!status) {
    if (status.message().empty())
      finding("refused without a message");
    return 0;
  }

  // A few batch shapes, small enough to keep each run fast.
  for (size_t batch : {1, 3})
    for (size_t seqLen : {1, 4, 16}) {
      BatchSampler sampler(file, batch, seqLen, /*seed=*/size);
      if (!sampler.status())
        continue;
      std::vector<int32_t> inputs(batch * seqLen), targets(batch * seqLen);
      for (int step = 0; step < 2; ++step) {
        if (Status st = sampler.next(inputs.data(), targets.data()); !st)
          finding("an accepted file gives no training batch: " + st.message());
        checkBatch(file, inputs, targets, seqLen);
      }
      uint64_t batches = sampler.numSequentialBatches();
      for (uint64_t i = 0; i < batches && i < 4; ++i) {
        if (Status st = sampler.sequentialBatch(i, inputs.data(), targets.data());
            !st)
          finding("validation batch " + std::to_string(i) + " of " +
                  std::to_string(batches) + " refused: " + st.message());
        checkBatch(file, inputs, targets, seqLen);
      }
      if (batches > 0 &&
          sampler.sequentialBatch(batches, inputs.data(), targets.data()))
        finding("a validation batch past the end was accepted");
    }
  return 0;
}
