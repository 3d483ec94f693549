//===- runtime/data/TokenFile.h - Token files and batch sampling ----------===//
//
// This file declares the on-disk token file (the output of corpus
// preparation, the input of training), its atomic writer, a memory-mapped
// reader, and the deterministic batch sampler that turns a token file into
// (inputs, targets) batches for training and validation.
//
// Token file format (TELETOK1), all integers little-endian:
//
//   offset  size  field
//   0       8     magic, the ASCII bytes "TELETOK1"
//   8       4     u32 version, = 1
//   12      4     u32 bytes_per_token, 2 (u16 tokens) or 4 (u32 tokens)
//   16      8     u64 num_tokens
//   24      4     u32 vocab_size; every token is < vocab_size
//   28      4     u32 reserved, = 0
//   32      ...   num_tokens tokens of bytes_per_token bytes each
//
// The file size is exactly 32 + num_tokens * bytes_per_token; readers reject
// anything else (a shorter file is truncated, a longer one is not a file this
// writer produced). The writer uses u16 tokens whenever vocab_size <= 65536,
// halving the file for byte-level and small-BPE vocabularies. Documents are
// concatenated, each followed by <eos>; there is no other framing, so a
// training window may span a document boundary, as in GPT-style pretraining.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_DATA_TOKENFILE_H
#define TELE_RUNTIME_DATA_TOKENFILE_H

#include "AtomicFile.h"
#include "Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tele::data {

using tele::rt::Status;

inline constexpr char kTokenFileMagic[8] = {'T', 'E', 'L', 'E',
                                            'T', 'O', 'K', '1'};
inline constexpr uint32_t kTokenFileVersion = 1;
inline constexpr uint64_t kTokenFileHeaderSize = 32;
/// Batches hold tokens as int32 (the compiled model's dtype), so every token
/// must be below 2^31: readers and the writer refuse larger vocabularies.
inline constexpr uint32_t kTokenFileMaxVocab = 0x80000000u;

/// Streams tokens into a token file without holding them all in memory. The
/// header's num_tokens is patched in at commit(); until then the data lives in
/// a temporary file, so a failed or abandoned write never touches `path`.
class TokenFileWriter {
public:
  /// Starts writing `path`. vocabSize must be >= 1.
  Status open(const std::string &path, uint32_t vocabSize);
  /// Appends tokens; each must be < vocabSize.
  Status append(const uint32_t *tokens, size_t count);
  Status append(const std::vector<uint32_t> &tokens) {
    return append(tokens.data(), tokens.size());
  }
  /// Writes the final header, fsyncs and renames over `path`.
  Status commit();
  /// Discards everything written so far (also done by the destructor).
  void abandon() { file_.abandon(); }
  uint64_t numTokens() const { return numTokens_; }

private:
  tele::rt::AtomicFileWriter file_;
  std::string path_;
  uint32_t vocabSize_ = 0;
  uint32_t bytesPerToken_ = 0;
  uint64_t numTokens_ = 0;
  bool open_ = false;
  std::vector<uint8_t> scratch_;
};

/// Writes `tokens` to `path` atomically (see TokenFileWriter).
Status writeTokenFile(const std::string &path,
                      const std::vector<uint32_t> &tokens, uint32_t vocabSize);

/// A read-only, memory-mapped token file. Move-only; unmaps on destruction.
class TokenFile {
public:
  TokenFile() = default;
  TokenFile(TokenFile &&other) noexcept;
  TokenFile &operator=(TokenFile &&other) noexcept;
  TokenFile(const TokenFile &) = delete;
  TokenFile &operator=(const TokenFile &) = delete;
  ~TokenFile();

  /// Maps `path` and validates magic, version, bytes_per_token, reserved and
  /// the exact file size. With `checkTokens` (the default) it also scans every
  /// token once (O(n)) and rejects any >= vocab_size, so later accessors need
  /// no checks. On error `out` is left unchanged.
  static Status open(const std::string &path, TokenFile &out,
                     bool checkTokens = true);

  bool isOpen() const { return base_ != nullptr; }
  const std::string &path() const { return path_; }
  uint64_t numTokens() const { return numTokens_; }
  uint32_t vocabSize() const { return vocabSize_; }
  uint32_t bytesPerToken() const { return bytesPerToken_; }

  /// Token i. Precondition: i < numTokens() (not checked: this is the inner
  /// loop of batch assembly).
  uint32_t at(uint64_t i) const {
    const uint8_t *p = tokens_ + i * bytesPerToken_;
    if (bytesPerToken_ == 2)
      return uint32_t(p[0]) | uint32_t(p[1]) << 8;
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
           uint32_t(p[3]) << 24;
  }

  /// Copies tokens [begin, begin + count) to `out` as int32 (the dtype the
  /// compiled model takes). Precondition: begin + count <= numTokens().
  void copyTo(uint64_t begin, size_t count, int32_t *out) const;

private:
  void reset();

  std::string path_;
  void *base_ = nullptr;
  size_t mappedSize_ = 0;
  const uint8_t *tokens_ = nullptr;
  uint64_t numTokens_ = 0;
  uint32_t vocabSize_ = 0;
  uint32_t bytesPerToken_ = 0;
};

/// Produces next-token-prediction batches from a TokenFile: inputs[B*T] and
/// targets[B*T] (row-major, row b is one sequence), targets[i] being the token
/// after inputs[i].
///
/// Training batches are random windows of T+1 tokens whose start is uniform
/// in [0, numTokens - T - 1]. They are counter-based: batch number p depends
/// only on (seed, p), so the sampler's whole state is (seed, position) and
/// resuming from a checkpoint with seek(position) reproduces exactly the
/// batches an uninterrupted run would have drawn. Concretely, with
/// splitmix64's finaliser mix(): the stream state for batch p is
/// mix(mix(seed) ^ p); row b's start is drawn from successive splitmix64
/// outputs of that stream by Lemire's unbiased multiply-shift rejection
/// method over the range numTokens - T.
///
/// Validation batches (sequentialBatch) tile the file with contiguous,
/// non-overlapping windows: window w has inputs tokens[w*T, w*T + T) and
/// targets tokens[w*T + 1, w*T + T]; batch i holds windows i*B .. i*B + B-1.
/// The final partial batch is dropped so every validation batch is full.
///
/// The sampler keeps a pointer to the TokenFile, which must outlive it and
/// must not be moved while the sampler is used.
class BatchSampler {
public:
  BatchSampler(const TokenFile &file, size_t batch, size_t seqLen,
               uint64_t seed);

  /// Ok if the file holds at least one sequence of T+1 tokens and B, T >= 1;
  /// next(), batchAt() and sequentialBatch() return this error otherwise.
  const Status &status() const { return status_; }

  /// Fills the batch at position() and advances position() by one.
  Status next(int32_t *inputs, int32_t *targets);
  /// Fills the batch that next() returns at `position`, without moving.
  Status batchAt(uint64_t position, int32_t *inputs, int32_t *targets) const;
  /// Number of training batches drawn so far.
  uint64_t position() const { return position_; }
  void seek(uint64_t position) { position_ = position; }

  /// Number of full validation batches; 0 if the file is too short.
  uint64_t numSequentialBatches() const;
  /// Fills validation batch `index` (< numSequentialBatches()).
  Status sequentialBatch(uint64_t index, int32_t *inputs,
                         int32_t *targets) const;

  size_t batchSize() const { return batch_; }
  size_t seqLen() const { return seqLen_; }
  uint64_t seed() const { return seed_; }

private:
  void fillRow(uint64_t start, size_t row, int32_t *inputs,
               int32_t *targets) const;

  const TokenFile *file_;
  size_t batch_;
  size_t seqLen_;
  uint64_t seed_;
  uint64_t position_ = 0;
  Status status_;
};

} // namespace tele::data

#endif // TELE_RUNTIME_DATA_TOKENFILE_H
