//===- runtime/data/TokenFile.cpp - Token files and batch sampling --------===//
//
// This file implements the TELETOK1 writer and memory-mapped reader and the
// counter-based batch sampler. See TokenFile.h for the format and the exact
// sampling scheme (which is part of the resume contract: changing it changes
// which batches a resumed run sees).
//
//===----------------------------------------------------------------------===//
#include "data/TokenFile.h"

#include <cerrno>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tele::data {

namespace {

void putU32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void putU64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t getU32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t(p[i]) << (8 * i);
  return v;
}
uint64_t getU64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t(p[i]) << (8 * i);
  return v;
}

void encodeHeader(uint8_t *h, uint32_t bytesPerToken, uint64_t numTokens,
                  uint32_t vocabSize) {
  std::memcpy(h, kTokenFileMagic, 8);
  putU32(h + 8, kTokenFileVersion);
  putU32(h + 12, bytesPerToken);
  putU64(h + 16, numTokens);
  putU32(h + 24, vocabSize);
  putU32(h + 28, 0);
}

/// splitmix64's output function: a bijective 64-bit mixer.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// splitmix64 stream: stateless given its starting state, so a batch's
/// random numbers are a pure function of (seed, position).
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    state += 0x9E3779B97F4A7C15ULL;
    return mix64(state);
  }
  /// Uniform in [0, range), range >= 1 (Lemire 2019, unbiased).
  uint64_t below(uint64_t range) {
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * range;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < range) {
      uint64_t threshold = (0 - range) % range;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * range;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

Status TokenFileWriter::open(const std::string &path, uint32_t vocabSize) {
  open_ = false;
  if (vocabSize == 0 || vocabSize > kTokenFileMaxVocab)
    return Status::error("cannot write token file '" + path +
                         "': vocab_size must be in [1, 2^31], got " +
                         std::to_string(vocabSize));
  path_ = path;
  vocabSize_ = vocabSize;
  bytesPerToken_ = vocabSize <= 65536 ? 2 : 4;
  numTokens_ = 0;
  if (Status st = file_.open(path); !st)
    return st;
  // Placeholder header; num_tokens is patched in by commit().
  uint8_t header[kTokenFileHeaderSize];
  encodeHeader(header, bytesPerToken_, 0, vocabSize_);
  if (Status st = file_.write(header, sizeof(header)); !st)
    return st;
  open_ = true;
  return Status::ok();
}

Status TokenFileWriter::append(const uint32_t *tokens, size_t count) {
  if (!open_)
    return Status::error("token file writer for '" + path_ + "' is not open");
  scratch_.resize(count * bytesPerToken_);
  uint8_t *p = scratch_.data();
  for (size_t i = 0; i < count; ++i) {
    uint32_t t = tokens[i];
    if (t >= vocabSize_) {
      open_ = false;
      file_.abandon();
      return Status::error("cannot write token file '" + path_ + "': token " +
                           std::to_string(numTokens_ + i) + " is " +
                           std::to_string(t) + ", not below vocab_size " +
                           std::to_string(vocabSize_));
    }
    p[0] = static_cast<uint8_t>(t);
    p[1] = static_cast<uint8_t>(t >> 8);
    if (bytesPerToken_ == 4) {
      p[2] = static_cast<uint8_t>(t >> 16);
      p[3] = static_cast<uint8_t>(t >> 24);
    }
    p += bytesPerToken_;
  }
  if (Status st = file_.write(scratch_.data(), scratch_.size()); !st) {
    open_ = false;
    return st;
  }
  numTokens_ += count;
  return Status::ok();
}

Status TokenFileWriter::commit() {
  if (!open_)
    return Status::error("token file writer for '" + path_ + "' is not open");
  open_ = false;
  uint8_t header[kTokenFileHeaderSize];
  encodeHeader(header, bytesPerToken_, numTokens_, vocabSize_);
  if (Status st = file_.writeAt(0, header, sizeof(header)); !st)
    return st;
  return file_.commit();
}

Status writeTokenFile(const std::string &path,
                      const std::vector<uint32_t> &tokens, uint32_t vocabSize) {
  TokenFileWriter writer;
  if (Status st = writer.open(path, vocabSize); !st)
    return st;
  if (Status st = writer.append(tokens); !st)
    return st;
  return writer.commit();
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

TokenFile::TokenFile(TokenFile &&other) noexcept { *this = std::move(other); }

TokenFile &TokenFile::operator=(TokenFile &&other) noexcept {
  if (this == &other)
    return *this;
  reset();
  path_ = std::move(other.path_);
  base_ = other.base_;
  mappedSize_ = other.mappedSize_;
  tokens_ = other.tokens_;
  numTokens_ = other.numTokens_;
  vocabSize_ = other.vocabSize_;
  bytesPerToken_ = other.bytesPerToken_;
  other.base_ = nullptr;
  other.mappedSize_ = 0;
  other.tokens_ = nullptr;
  other.numTokens_ = 0;
  other.vocabSize_ = 0;
  other.bytesPerToken_ = 0;
  return *this;
}

TokenFile::~TokenFile() { reset(); }

void TokenFile::reset() {
  if (base_)
    ::munmap(base_, mappedSize_);
  base_ = nullptr;
  mappedSize_ = 0;
  tokens_ = nullptr;
  numTokens_ = 0;
  vocabSize_ = 0;
  bytesPerToken_ = 0;
}

Status TokenFile::open(const std::string &path, TokenFile &out,
                       bool checkTokens) {
  auto err = [&](const std::string &what) {
    return Status::error(path + ": " + what);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return err(std::string("cannot open: ") + std::strerror(errno));
  struct stat sb;
  if (::fstat(fd, &sb) != 0) {
    int e = errno;
    ::close(fd);
    return err(std::string("cannot stat: ") + std::strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    ::close(fd);
    return err("not a regular file");
  }
  uint64_t fileSize = static_cast<uint64_t>(sb.st_size);
  if (fileSize < kTokenFileHeaderSize) {
    ::close(fd);
    return err("file is " + std::to_string(fileSize) +
               " bytes, shorter than the 32-byte header");
  }
  if (fileSize > std::numeric_limits<size_t>::max()) {
    ::close(fd);
    return err("file is too large to map");
  }
  void *base = ::mmap(nullptr, static_cast<size_t>(fileSize), PROT_READ,
                      MAP_PRIVATE, fd, 0);
  int mapErr = errno;
  ::close(fd); // the mapping keeps the file alive
  if (base == MAP_FAILED)
    return err(std::string("cannot mmap: ") + std::strerror(mapErr));

  // From here on, every early return must unmap.
  TokenFile tf;
  tf.path_ = path;
  tf.base_ = base;
  tf.mappedSize_ = static_cast<size_t>(fileSize);
  const auto *h = static_cast<const uint8_t *>(base);

  if (std::memcmp(h, kTokenFileMagic, 8) != 0)
    return err("bad magic (not a TELETOK1 token file)");
  uint32_t version = getU32(h + 8);
  if (version != kTokenFileVersion)
    return err("unsupported version " + std::to_string(version) +
               " (expected " + std::to_string(kTokenFileVersion) + ")");
  uint32_t bpt = getU32(h + 12);
  if (bpt != 2 && bpt != 4)
    return err("bytes_per_token is " + std::to_string(bpt) +
               " (expected 2 or 4)");
  uint64_t numTokens = getU64(h + 16);
  uint32_t vocab = getU32(h + 24);
  if (vocab == 0)
    return err("vocab_size is 0");
  if (vocab > kTokenFileMaxVocab)
    return err("vocab_size " + std::to_string(vocab) +
               " exceeds 2^31 (batches hold int32 tokens)");
  uint32_t reserved = getU32(h + 28);
  if (reserved != 0)
    return err("reserved header field is " + std::to_string(reserved) +
               " (expected 0)");
  if (numTokens >
      (std::numeric_limits<uint64_t>::max() - kTokenFileHeaderSize) / bpt)
    return err("num_tokens " + std::to_string(numTokens) + " is impossible");
  uint64_t expected = kTokenFileHeaderSize + numTokens * bpt;
  if (fileSize != expected)
    return err("size is " + std::to_string(fileSize) +
               " bytes but the header promises 32 + " +
               std::to_string(numTokens) + " tokens x " + std::to_string(bpt) +
               " bytes = " + std::to_string(expected) + " bytes" +
               (fileSize < expected ? " (truncated)" : " (trailing bytes)"));

  tf.tokens_ = h + kTokenFileHeaderSize;
  tf.numTokens_ = numTokens;
  tf.vocabSize_ = vocab;
  tf.bytesPerToken_ = bpt;
  if (checkTokens) {
    // A u16 file cannot exceed vocab 65536; skip the scan when it cannot fail.
    bool canFail = !(bpt == 2 && vocab >= 65536);
    for (uint64_t i = 0; canFail && i < numTokens; ++i) {
      uint32_t t = tf.at(i);
      if (t >= vocab)
        return err("token " + std::to_string(i) + " (byte offset " +
                   std::to_string(kTokenFileHeaderSize + i * bpt) + ") is " +
                   std::to_string(t) + ", not below vocab_size " +
                   std::to_string(vocab));
    }
  }
  out = std::move(tf);
  return Status::ok();
}

void TokenFile::copyTo(uint64_t begin, size_t count, int32_t *out) const {
  if (bytesPerToken_ == 2) {
    const uint8_t *p = tokens_ + begin * 2;
    for (size_t i = 0; i < count; ++i, p += 2)
      out[i] = static_cast<int32_t>(uint32_t(p[0]) | uint32_t(p[1]) << 8);
    return;
  }
  for (size_t i = 0; i < count; ++i)
    out[i] = static_cast<int32_t>(at(begin + i));
}

//===----------------------------------------------------------------------===//
// Batch sampler
//===----------------------------------------------------------------------===//

BatchSampler::BatchSampler(const TokenFile &file, size_t batch, size_t seqLen,
                           uint64_t seed)
    : file_(&file), batch_(batch), seqLen_(seqLen), seed_(seed) {
  if (!file.isOpen())
    status_ = Status::error("batch sampler: token file is not open");
  else if (batch == 0 || seqLen == 0)
    status_ = Status::error("batch sampler: batch size (" +
                            std::to_string(batch) + ") and sequence length (" +
                            std::to_string(seqLen) + ") must be at least 1");
  else if (file.numTokens() < static_cast<uint64_t>(seqLen) + 1)
    status_ = Status::error("data file " + file.path() + " has " +
                            std::to_string(file.numTokens()) +
                            " tokens, fewer than one sequence of " +
                            std::to_string(seqLen) + "+1");
}

void BatchSampler::fillRow(uint64_t start, size_t row, int32_t *inputs,
                           int32_t *targets) const {
  file_->copyTo(start, seqLen_, inputs + row * seqLen_);
  file_->copyTo(start + 1, seqLen_, targets + row * seqLen_);
}

Status BatchSampler::batchAt(uint64_t position, int32_t *inputs,
                             int32_t *targets) const {
  if (!status_)
    return status_;
  // Starts are uniform in [0, numTokens - T - 1]: numTokens - T choices.
  uint64_t range = file_->numTokens() - seqLen_;
  SplitMix64 rng{mix64(mix64(seed_) ^ position)};
  for (size_t b = 0; b < batch_; ++b)
    fillRow(rng.below(range), b, inputs, targets);
  return Status::ok();
}

Status BatchSampler::next(int32_t *inputs, int32_t *targets) {
  if (Status st = batchAt(position_, inputs, targets); !st)
    return st;
  ++position_;
  return Status::ok();
}

uint64_t BatchSampler::numSequentialBatches() const {
  if (!status_)
    return 0;
  uint64_t windows = (file_->numTokens() - 1) / seqLen_;
  return windows / batch_;
}

Status BatchSampler::sequentialBatch(uint64_t index, int32_t *inputs,
                                     int32_t *targets) const {
  if (!status_)
    return status_;
  uint64_t n = numSequentialBatches();
  if (index >= n)
    return Status::error("validation batch " + std::to_string(index) +
                         " out of range: data file " + file_->path() + " has " +
                         std::to_string(n) + " full batches of " +
                         std::to_string(batch_) + "x" +
                         std::to_string(seqLen_));
  for (size_t b = 0; b < batch_; ++b) {
    uint64_t window = index * batch_ + b;
    fillRow(window * seqLen_, b, inputs, targets);
  }
  return Status::ok();
}

} // namespace tele::data
