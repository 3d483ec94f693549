//===- runtime/tests/DataTest.cpp - Tokenizer, token file, corpus tests ---===//
//
// This file tests tele_data: the byte-level tokenizer and UTF-8 validation,
// TELETOK1 token files (round trips, the documented header layout, every
// rejection path), the batch sampler's determinism and resume contract, and
// corpus preparation in plain and fortune formats.
//
//===----------------------------------------------------------------------===//
#include "data/Corpus.h"
#include "data/TokenFile.h"
#include "data/Tokenizer.h"

#include "FileTestUtil.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <type_traits>

using namespace tele::data;
using tele::testing::readBytes;
using tele::testing::TempDir;
using tele::testing::writeBytes;

namespace {

/// A raw TELETOK1 header, for building files the writer would refuse.
std::string rawHeader(const char *magic, uint32_t version, uint32_t bpt,
                      uint64_t numTokens, uint32_t vocab,
                      uint32_t reserved = 0) {
  std::string h(32, '\0');
  std::memcpy(h.data(), magic, 8);
  auto put = [&](size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      h[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(8, version, 4);
  put(12, bpt, 4);
  put(16, numTokens, 8);
  put(24, vocab, 4);
  put(28, reserved, 4);
  return h;
}

std::vector<uint32_t> iota(uint32_t n) {
  std::vector<uint32_t> v(n);
  for (uint32_t i = 0; i < n; ++i)
    v[i] = i;
  return v;
}

/// Reads every token of a token file.
std::vector<uint32_t> allTokens(const TokenFile &tf) {
  std::vector<uint32_t> v;
  for (uint64_t i = 0; i < tf.numTokens(); ++i)
    v.push_back(tf.at(i));
  return v;
}

} // namespace

//===----------------------------------------------------------------------===//
// Tokenizer
//===----------------------------------------------------------------------===//

TEST(Tokenizer, AsciiRoundTrip) {
  std::vector<uint32_t> ids = encode("Hi!\n");
  EXPECT_EQ(ids, (std::vector<uint32_t>{'H', 'i', '!', '\n'}));
  EXPECT_EQ(decode(ids), "Hi!\n");
  EXPECT_TRUE(encode("").empty());
}

TEST(Tokenizer, ChineseUtf8RoundTrip) {
  const std::string text = "床前明月光，疑是地上霜。\n举头望明月 😀";
  std::vector<uint32_t> ids = encode(text);
  ASSERT_EQ(ids.size(), text.size()); // one token per byte
  for (uint32_t id : ids)
    EXPECT_LT(id, 256u);
  EXPECT_EQ(ids[0], 0xE5u); // 床 = E5 BA 8A
  EXPECT_EQ(ids[1], 0xBAu);
  EXPECT_EQ(ids[2], 0x8Au);
  EXPECT_EQ(decode(ids), text);
  size_t bad = 12345;
  EXPECT_TRUE(validateUtf8(text, &bad));
}

TEST(Tokenizer, SpecialTokensDecodeAsNames) {
  EXPECT_EQ(kVocabSize, 260u);
  std::vector<uint32_t> ids = {'a', kBos, kEos, kPad, kUnk, 'b', 4000};
  EXPECT_EQ(decode(ids), "a<bos><eos><pad><unk>b<unk>");
  EXPECT_STREQ(specialTokenName(kEos), "<eos>");
  EXPECT_EQ(specialTokenName('a'), nullptr);
  EXPECT_EQ(specialTokenName(kVocabSize), nullptr);
}

TEST(Tokenizer, ValidateUtf8RejectsMalformedSequences) {
  struct Case {
    std::string text;
    size_t offset;
  };
  const Case cases[] = {
      {"ab\xff", 2},           // byte never valid in UTF-8
      {"x\x80y", 1},           // lone continuation byte
      {"\xc0\xaf", 0},         // overlong '/'
      {"\xe0\x80\xaf", 0},     // overlong 3-byte
      {"ok\xed\xa0\x80", 2},   // UTF-16 surrogate U+D800
      {"\xf4\x90\x80\x80", 0}, // U+110000, above the Unicode range
      {"\xe4\xb8", 0},         // truncated 中 (E4 B8 AD)
      {"中\xe4\xb8", 3},       // truncated after a valid char
      {"\xe4\x41\xad", 0},     // continuation replaced by ASCII
  };
  for (const Case &c : cases) {
    size_t bad = 999;
    EXPECT_FALSE(validateUtf8(c.text, &bad)) << c.text;
    EXPECT_EQ(bad, c.offset) << c.text;
  }
  EXPECT_TRUE(validateUtf8("\xef\xbf\xbf\xf4\x8f\xbf\xbf", nullptr));
  EXPECT_FALSE(validateUtf8("\xff", nullptr)); // null out-param is allowed
}

//===----------------------------------------------------------------------===//
// Token files
//===----------------------------------------------------------------------===//

TEST(TokenFile, RoundTripU16) {
  TempDir dir("data");
  std::string path = dir.path("a.tok");
  std::vector<uint32_t> tokens = encode("你好, tele");
  tokens.push_back(kEos);
  ASSERT_TRUE(writeTokenFile(path, tokens, kVocabSize));
  EXPECT_EQ(readBytes(path).size(), 32 + 2 * tokens.size());

  TokenFile tf;
  tele::rt::Status st = TokenFile::open(path, tf);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(tf.numTokens(), tokens.size());
  EXPECT_EQ(tf.vocabSize(), kVocabSize);
  EXPECT_EQ(tf.bytesPerToken(), 2u);
  EXPECT_EQ(allTokens(tf), tokens);
  EXPECT_EQ(decode(allTokens(tf)), "你好, tele<eos>");
}

TEST(TokenFile, RoundTripU32) {
  TempDir dir("data");
  std::string path = dir.path("big.tok");
  std::vector<uint32_t> tokens = {0, 1, 65535, 65536, 99999, 70000, 42};
  ASSERT_TRUE(writeTokenFile(path, tokens, 100000));
  EXPECT_EQ(readBytes(path).size(), 32 + 4 * tokens.size());
  TokenFile tf;
  ASSERT_TRUE(TokenFile::open(path, tf));
  EXPECT_EQ(tf.bytesPerToken(), 4u);
  EXPECT_EQ(tf.vocabSize(), 100000u);
  EXPECT_EQ(allTokens(tf), tokens);
  std::vector<int32_t> copy(3);
  tf.copyTo(2, 3, copy.data());
  EXPECT_EQ(copy, (std::vector<int32_t>{65535, 65536, 99999}));
}

TEST(TokenFile, U16IsUsedUpToVocab65536) {
  TempDir dir("data");
  std::string path = dir.path("edge.tok");
  ASSERT_TRUE(writeTokenFile(path, {0, 65535, 7}, 65536));
  TokenFile tf;
  ASSERT_TRUE(TokenFile::open(path, tf));
  EXPECT_EQ(tf.bytesPerToken(), 2u);
  EXPECT_EQ(allTokens(tf), (std::vector<uint32_t>{0, 65535, 7}));
}

TEST(TokenFile, EmptyTokenFileIsValid) {
  TempDir dir("data");
  std::string path = dir.path("empty.tok");
  ASSERT_TRUE(writeTokenFile(path, {}, kVocabSize));
  TokenFile tf;
  ASSERT_TRUE(TokenFile::open(path, tf));
  EXPECT_EQ(tf.numTokens(), 0u);
}

TEST(TokenFile, HeaderMatchesDocumentedLayout) {
  TempDir dir("data");
  std::string path = dir.path("layout.tok");
  ASSERT_TRUE(writeTokenFile(path, {0x102, 0x3}, kVocabSize));
  std::string b = readBytes(path);
  std::string expected = rawHeader("TELETOK1", 1, 2, 2, 260);
  expected += std::string("\x02\x01\x03\x00", 4); // u16 little-endian
  EXPECT_EQ(b, expected);
}

TEST(TokenFile, StreamingWriterAppendsAcrossCalls) {
  TempDir dir("data");
  std::string path = dir.path("stream.tok");
  TokenFileWriter w;
  ASSERT_TRUE(w.open(path, kVocabSize));
  ASSERT_TRUE(w.append(encode("ab")));
  ASSERT_TRUE(w.append(encode("")));
  ASSERT_TRUE(w.append(std::vector<uint32_t>{kEos}));
  EXPECT_FALSE(std::filesystem::exists(path)); // nothing visible before commit
  ASSERT_TRUE(w.commit());
  TokenFile tf;
  ASSERT_TRUE(TokenFile::open(path, tf));
  EXPECT_EQ(decode(allTokens(tf)), "ab<eos>");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"stream.tok"});
}

TEST(TokenFile, MoveTransfersTheMapping) {
  static_assert(!std::is_copy_constructible_v<TokenFile>);
  static_assert(std::is_nothrow_move_constructible_v<TokenFile>);
  TempDir dir("data");
  std::string path = dir.path("m.tok");
  ASSERT_TRUE(writeTokenFile(path, {5, 6, 7}, kVocabSize));
  TokenFile a;
  ASSERT_TRUE(TokenFile::open(path, a));
  TokenFile b(std::move(a));
  EXPECT_FALSE(a.isOpen());
  ASSERT_TRUE(b.isOpen());
  EXPECT_EQ(b.at(2), 7u);
  TokenFile c;
  c = std::move(b);
  EXPECT_EQ(c.at(0), 5u);
  EXPECT_EQ(c.path(), path);
}

TEST(TokenFile, RejectsWrongMagic) {
  TempDir dir("data");
  std::string path = dir.path("magic.tok");
  writeBytes(path, rawHeader("TELETOK2", 1, 2, 0, 260));
  TokenFile tf;
  tele::rt::Status st = TokenFile::open(path, tf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), path + ": bad magic (not a TELETOK1 token file)");
  EXPECT_FALSE(tf.isOpen());
}

TEST(TokenFile, RejectsTruncatedFile) {
  TempDir dir("data");
  std::string path = dir.path("trunc.tok");
  ASSERT_TRUE(writeTokenFile(path, iota(100), kVocabSize));
  std::filesystem::resize_file(path, 32 + 200 - 1);
  TokenFile tf;
  tele::rt::Status st = TokenFile::open(path, tf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), path + ": size is 231 bytes but the header promises "
                                 "32 + 100 tokens x 2 bytes = 232 bytes "
                                 "(truncated)");
}

TEST(TokenFile, RejectsOversizedFile) {
  TempDir dir("data");
  std::string path = dir.path("over.tok");
  ASSERT_TRUE(writeTokenFile(path, iota(10), kVocabSize));
  writeBytes(path, readBytes(path) + "x");
  TokenFile tf;
  tele::rt::Status st = TokenFile::open(path, tf);
  ASSERT_FALSE(st);
  EXPECT_CONTAINS(st.message(), "size is 53 bytes");
  EXPECT_CONTAINS(st.message(), "= 52 bytes (trailing bytes)");
}

TEST(TokenFile, RejectsFileShorterThanHeader) {
  TempDir dir("data");
  std::string path = dir.path("short.tok");
  writeBytes(path, "TELETOK1");
  TokenFile tf;
  tele::rt::Status st = TokenFile::open(path, tf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(),
            path + ": file is 8 bytes, shorter than the 32-byte header");
}

TEST(TokenFile, RejectsBadHeaderFields) {
  TempDir dir("data");
  std::string path = dir.path("hdr.tok");
  TokenFile tf;
  writeBytes(path, rawHeader("TELETOK1", 2, 2, 0, 260));
  EXPECT_EQ(TokenFile::open(path, tf).message(),
            path + ": unsupported version 2 (expected 1)");
  writeBytes(path, rawHeader("TELETOK1", 1, 3, 0, 260));
  EXPECT_EQ(TokenFile::open(path, tf).message(),
            path + ": bytes_per_token is 3 (expected 2 or 4)");
  writeBytes(path, rawHeader("TELETOK1", 1, 2, 0, 0));
  EXPECT_EQ(TokenFile::open(path, tf).message(), path + ": vocab_size is 0");
  writeBytes(path, rawHeader("TELETOK1", 1, 2, 0, 260, 7));
  EXPECT_EQ(TokenFile::open(path, tf).message(),
            path + ": reserved header field is 7 (expected 0)");
  writeBytes(path, rawHeader("TELETOK1", 1, 4, ~0ull, 260));
  EXPECT_CONTAINS(TokenFile::open(path, tf).message(), "is impossible");
  // Tokens of a larger vocabulary would turn negative in int32 batches
  // (found by tele-tokenfile-fuzzer); 2^31 itself is the largest allowed.
  writeBytes(path, rawHeader("TELETOK1", 1, 4, 0, 0x80000001u));
  EXPECT_EQ(TokenFile::open(path, tf).message(),
            path + ": vocab_size 2147483649 exceeds 2^31 (batches hold int32 "
                   "tokens)");
  writeBytes(path, rawHeader("TELETOK1", 1, 4, 0, 0x80000000u));
  EXPECT_TRUE(TokenFile::open(path, tf));
}

TEST(TokenFile, RejectsTokenOutsideVocabUnlessUnchecked) {
  TempDir dir("data");
  std::string path = dir.path("vocab.tok");
  writeBytes(path, rawHeader("TELETOK1", 1, 2, 3, 260) +
                       std::string("\x01\x00\x02\x00\x2c\x01", 6)); // 1 2 300
  TokenFile tf;
  tele::rt::Status st = TokenFile::open(path, tf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), path + ": token 2 (byte offset 36) is 300, not "
                                 "below vocab_size 260");
  ASSERT_TRUE(TokenFile::open(path, tf, /*checkTokens=*/false));
  EXPECT_EQ(tf.at(2), 300u);
}

TEST(TokenFile, MissingFileIsAnError) {
  TempDir dir("data");
  std::string path = dir.path("nope.tok");
  TokenFile tf;
  EXPECT_EQ(TokenFile::open(path, tf).message(),
            path + ": cannot open: No such file or directory");
  EXPECT_EQ(TokenFile::open(dir.dir().string(), tf).message(),
            dir.dir().string() + ": not a regular file");
}

TEST(TokenFile, WriterRejectsTokenOutsideVocab) {
  TempDir dir("data");
  std::string path = dir.path("bad.tok");
  tele::rt::Status st = writeTokenFile(path, {1, 2, 260}, kVocabSize);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), "cannot write token file '" + path +
                              "': token 2 is 260, not below vocab_size 260");
  EXPECT_TRUE(dir.list().empty()); // no target, no temp file
  EXPECT_FALSE(writeTokenFile(path, {}, 0));
  EXPECT_EQ(writeTokenFile(path, {}, 0x80000001u).message(),
            "cannot write token file '" + path +
                "': vocab_size must be in [1, 2^31], got 2147483649");
}

TEST(TokenFile, WriteIntoMissingDirectoryFails) {
  TempDir dir("data");
  std::string path = dir.path("no/such/dir/x.tok");
  tele::rt::Status st = writeTokenFile(path, {1, 2}, kVocabSize);
  ASSERT_FALSE(st);
  EXPECT_CONTAINS(st.message(),
                  "cannot create temporary file '" + path + ".tmp.");
  EXPECT_CONTAINS(st.message(), "No such file or directory");
  EXPECT_TRUE(dir.list().empty());
}

TEST(TokenFile, FailedRewriteLeavesOldFileIntact) {
  TempDir dir("data");
  std::string path = dir.path("keep.tok");
  ASSERT_TRUE(writeTokenFile(path, {1, 2, 3}, kVocabSize));
  std::string before = readBytes(path);
  // Block the temporary name so the new write cannot even start; this works
  // when running as root, where a read-only directory would not stop us.
  std::string temp = tele::rt::AtomicFileWriter::tempPathFor(path);
  std::filesystem::create_directory(temp);
  tele::rt::Status st = writeTokenFile(path, iota(50), kVocabSize);
  ASSERT_FALSE(st);
  EXPECT_CONTAINS(st.message(), "cannot create temporary file");
  EXPECT_EQ(readBytes(path), before);
  // A failure half-way through (token out of range) also keeps it.
  std::filesystem::remove(temp);
  EXPECT_FALSE(writeTokenFile(path, {4, 5, 999}, kVocabSize));
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(dir.list(), std::vector<std::string>{"keep.tok"});
}

//===----------------------------------------------------------------------===//
// Batch sampler
//===----------------------------------------------------------------------===//

namespace {

/// A token file whose tokens are 0..n-1, so every value names its position.
void makeIotaFile(const std::string &path, uint32_t n, TokenFile &tf) {
  ASSERT_TRUE(writeTokenFile(path, iota(n), n));
  ASSERT_TRUE(TokenFile::open(path, tf));
}

} // namespace

TEST(BatchSampler, RowsAreContiguousWindowsAndTargetsShiftByOne) {
  TempDir dir("data");
  TokenFile tf;
  makeIotaFile(dir.path("s.tok"), 1000, tf);
  const size_t B = 4, T = 16;
  BatchSampler sampler(tf, B, T, 1234);
  ASSERT_TRUE(sampler.status());
  std::vector<int32_t> in(B * T), tg(B * T);
  for (int step = 0; step < 50; ++step) {
    ASSERT_TRUE(sampler.next(in.data(), tg.data()));
    for (size_t b = 0; b < B; ++b) {
      int32_t start = in[b * T];
      EXPECT_GE(start, 0);
      EXPECT_LE(start, 1000 - int32_t(T) - 1);
      for (size_t t = 0; t < T; ++t) {
        EXPECT_EQ(in[b * T + t], start + int32_t(t));
        EXPECT_EQ(tg[b * T + t], in[b * T + t] + 1);
      }
    }
  }
  EXPECT_EQ(sampler.position(), 50u);
}

TEST(BatchSampler, SeekReproducesTheExactBatches) {
  TempDir dir("data");
  TokenFile tf;
  makeIotaFile(dir.path("s.tok"), 5000, tf);
  const size_t B = 3, T = 8;
  std::vector<std::vector<int32_t>> inputs, targets;
  {
    BatchSampler s(tf, B, T, 42);
    for (int k = 0; k < 20; ++k) {
      std::vector<int32_t> in(B * T), tg(B * T);
      ASSERT_TRUE(s.next(in.data(), tg.data()));
      inputs.push_back(in);
      targets.push_back(tg);
    }
  }
  // Consecutive batches differ (the stream really advances).
  EXPECT_NE(inputs[0], inputs[1]);
  // A fresh sampler seeked to k (as on resume) continues identically.
  for (uint64_t k : {0u, 1u, 7u, 19u}) {
    BatchSampler s(tf, B, T, 42);
    s.seek(k);
    EXPECT_EQ(s.position(), k);
    for (uint64_t j = k; j < 20; ++j) {
      std::vector<int32_t> in(B * T), tg(B * T);
      ASSERT_TRUE(s.next(in.data(), tg.data()));
      EXPECT_EQ(in, inputs[j]) << "k=" << k << " j=" << j;
      EXPECT_EQ(tg, targets[j]);
    }
  }
  // batchAt is the same function without moving.
  BatchSampler s(tf, B, T, 42);
  std::vector<int32_t> in(B * T), tg(B * T);
  ASSERT_TRUE(s.batchAt(13, in.data(), tg.data()));
  EXPECT_EQ(in, inputs[13]);
  EXPECT_EQ(s.position(), 0u);
  // Seeking backwards also works (replay after a rollback).
  s.seek(19);
  s.seek(5);
  ASSERT_TRUE(s.next(in.data(), tg.data()));
  EXPECT_EQ(in, inputs[5]);
}

TEST(BatchSampler, DifferentSeedsGiveDifferentBatches) {
  TempDir dir("data");
  TokenFile tf;
  makeIotaFile(dir.path("s.tok"), 100000, tf);
  std::vector<int32_t> a(64), b(64), t(64);
  ASSERT_TRUE(BatchSampler(tf, 4, 16, 1).batchAt(0, a.data(), t.data()));
  ASSERT_TRUE(BatchSampler(tf, 4, 16, 2).batchAt(0, b.data(), t.data()));
  EXPECT_NE(a, b);
  // Shifting both seed and position must not just shift the stream.
  ASSERT_TRUE(BatchSampler(tf, 4, 16, 0).batchAt(1, a.data(), t.data()));
  ASSERT_TRUE(BatchSampler(tf, 4, 16, 1).batchAt(0, b.data(), t.data()));
  EXPECT_NE(a, b);
}

TEST(BatchSampler, StartsCoverTheWholeRange) {
  TempDir dir("data");
  TokenFile tf;
  const size_t T = 10;
  makeIotaFile(dir.path("s.tok"), T + 1 + 3, tf); // starts 0..3
  BatchSampler sampler(tf, 2, T, 7);
  std::set<int32_t> starts;
  std::vector<int32_t> in(2 * T), tg(2 * T);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(sampler.next(in.data(), tg.data()));
    starts.insert(in[0]);
    starts.insert(in[T]);
  }
  EXPECT_EQ(starts, (std::set<int32_t>{0, 1, 2, 3}));
}

TEST(BatchSampler, ExactlyOneSequenceIsEnough) {
  TempDir dir("data");
  TokenFile tf;
  makeIotaFile(dir.path("s.tok"), 9, tf);
  BatchSampler sampler(tf, 2, 8, 3);
  std::vector<int32_t> in(16), tg(16);
  ASSERT_TRUE(sampler.next(in.data(), tg.data()));
  EXPECT_EQ(in[0], 0);
  EXPECT_EQ(in[8], 0);
  EXPECT_EQ(tg[15], 8);
  EXPECT_EQ(sampler.numSequentialBatches(), 0u); // one window, B = 2
}

TEST(BatchSampler, FileShorterThanOneSequenceIsAnError) {
  TempDir dir("data");
  TokenFile tf;
  std::string path = dir.path("tiny.tok");
  makeIotaFile(path, 8, tf);
  BatchSampler sampler(tf, 2, 8, 3);
  const std::string expected =
      "data file " + path + " has 8 tokens, fewer than one sequence of 8+1";
  EXPECT_EQ(sampler.status().message(), expected);
  std::vector<int32_t> in(16), tg(16);
  tele::rt::Status st = sampler.next(in.data(), tg.data());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), expected);
  EXPECT_EQ(sampler.position(), 0u);
  EXPECT_EQ(sampler.sequentialBatch(0, in.data(), tg.data()).message(),
            expected);
  EXPECT_FALSE(BatchSampler(tf, 0, 4, 1).status());
  TokenFile closed;
  EXPECT_FALSE(BatchSampler(closed, 1, 4, 1).status());
}

TEST(BatchSampler, SequentialBatchesTileTheFile) {
  TempDir dir("data");
  TokenFile tf;
  std::string path = dir.path("val.tok");
  makeIotaFile(path, 100, tf);
  const size_t B = 2, T = 10;
  BatchSampler sampler(tf, B, T, 0);
  // (100 - 1) / 10 = 9 windows -> 4 full batches of 2.
  ASSERT_EQ(sampler.numSequentialBatches(), 4u);
  std::vector<int32_t> in(B * T), tg(B * T);
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(sampler.sequentialBatch(i, in.data(), tg.data()));
    for (size_t b = 0; b < B; ++b)
      for (size_t t = 0; t < T; ++t) {
        int32_t expected = int32_t((i * B + b) * T + t);
        EXPECT_EQ(in[b * T + t], expected);
        EXPECT_EQ(tg[b * T + t], expected + 1);
      }
  }
  tele::rt::Status st = sampler.sequentialBatch(4, in.data(), tg.data());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), "validation batch 4 out of range: data file " + path +
                              " has 4 full batches of 2x10");
  EXPECT_EQ(sampler.position(), 0u); // validation does not move training
}

//===----------------------------------------------------------------------===//
// Corpus preparation
//===----------------------------------------------------------------------===//

namespace {

/// Splits a token file's contents at <eos> into decoded documents.
std::vector<std::string> documentsOf(const std::string &path) {
  TokenFile tf;
  tele::rt::Status st = TokenFile::open(path, tf);
  EXPECT_TRUE(st) << st.message();
  std::vector<std::string> docs(1);
  for (uint64_t i = 0; i < tf.numTokens(); ++i) {
    uint32_t t = tf.at(i);
    if (t == kEos)
      docs.emplace_back();
    else
      docs.back() += decode(std::vector<uint32_t>{t});
  }
  EXPECT_TRUE(docs.back().empty()); // every document ends in <eos>
  docs.pop_back();
  return docs;
}

} // namespace

TEST(Corpus, PlainFilesAreDocumentsWithDeterministicSplit) {
  TempDir dir("data");
  std::vector<std::string> files;
  for (int i = 0; i < 10; ++i) {
    files.push_back(dir.path("doc" + std::to_string(i) + ".txt"));
    writeBytes(files.back(), "文档 " + std::to_string(i) + "\n");
  }
  CorpusOptions opts;
  opts.valFraction = 0.25; // n = 4: documents 3 and 7 go to validation
  CorpusStats stats;
  std::string train = dir.path("train.tok"), val = dir.path("val.tok");
  tele::rt::Status st = prepareCorpus(files, opts, train, val, &stats);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(stats.documents, 10u);
  EXPECT_EQ(stats.trainDocuments, 8u);
  EXPECT_EQ(stats.valDocuments, 2u);
  const uint64_t docBytes = std::string("文档 0\n").size(); // 9
  EXPECT_EQ(stats.bytes, 10 * docBytes);
  EXPECT_EQ(stats.trainTokens, 8 * (docBytes + 1));
  EXPECT_EQ(stats.valTokens, 2 * (docBytes + 1));
  EXPECT_EQ(documentsOf(val),
            (std::vector<std::string>{"文档 3\n", "文档 7\n"}));
  std::vector<std::string> trainDocs = documentsOf(train);
  ASSERT_EQ(trainDocs.size(), 8u);
  EXPECT_EQ(trainDocs[0], "文档 0\n");
  EXPECT_EQ(trainDocs[3], "文档 4\n");
  // Same inputs, same outputs.
  std::string before = readBytes(train);
  ASSERT_TRUE(prepareCorpus(files, opts, train, val, nullptr));
  EXPECT_EQ(readBytes(train), before);
}

TEST(Corpus, FortuneFormatSplitsOnPercentLinesAndStripsAnsi) {
  TempDir dir("data");
  std::string in = dir.path("fortunes");
  writeBytes(in, "\x1b[32m《静夜思》\x1b[m\n"
                 "\x1b[33m作者：李白\x1b[m\n"
                 "床前明月光。\n"
                 "%\n"
                 "second\r\n"
                 "%\r\n"
                 "  \n"
                 "%\n"
                 "\x1b[;\x1b[34;1mthird\x1b[m 100%\n"
                 "%\n"
                 "fourth, no final newline");
  CorpusOptions opts;
  opts.format = CorpusFormat::Fortune;
  opts.valFraction = 0.5; // n = 2: odd-numbered documents validate
  CorpusStats stats;
  std::string train = dir.path("t.tok"), val = dir.path("v.tok");
  tele::rt::Status st = prepareCorpus({in}, opts, train, val, &stats);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(stats.documents, 4u); // the blank one is skipped
  EXPECT_EQ(documentsOf(train),
            (std::vector<std::string>{"《静夜思》\n作者：李白\n床前明月光。\n",
                                      "third 100%\n"}));
  EXPECT_EQ(documentsOf(val), (std::vector<std::string>{
                                  "second\r\n", "fourth, no final newline"}));
}

TEST(Corpus, StripAnsiEscapes) {
  EXPECT_EQ(stripAnsiEscapes("a\x1b[1;36mb\x1b[mc"), "abc");
  EXPECT_EQ(stripAnsiEscapes("\x1b[;\x1b[34;1m诗"), "诗");
  EXPECT_EQ(stripAnsiEscapes("x\x1b"), "x");    // lone ESC at the end
  EXPECT_EQ(stripAnsiEscapes("x\x1b[12"), "x"); // unterminated CSI
  EXPECT_EQ(stripAnsiEscapes("no escapes"), "no escapes");
}

TEST(Corpus, InvalidUtf8IsRejectedWithOffset) {
  TempDir dir("data");
  std::string good = dir.path("good.txt"), bad = dir.path("bad.txt");
  writeBytes(good, "fine\n");
  writeBytes(bad, "héllo\n\xe4\xb8 broken");
  std::string train = dir.path("t.tok"), val = dir.path("v.tok");
  tele::rt::Status st =
      prepareCorpus({good, bad}, CorpusOptions{}, train, val, nullptr);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), bad + ": invalid UTF-8 at byte offset 7");
  EXPECT_FALSE(std::filesystem::exists(train));
  EXPECT_FALSE(std::filesystem::exists(val));
  EXPECT_EQ(dir.list().size(), 2u); // no temporary files left
}

TEST(Corpus, EmptySplitIsAnError) {
  TempDir dir("data");
  std::string a = dir.path("a.txt");
  writeBytes(a, "only one document");
  std::string train = dir.path("t.tok"), val = dir.path("v.tok");
  tele::rt::Status st =
      prepareCorpus({a}, CorpusOptions{}, train, val, nullptr);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), "corpus: 1 documents give 1 training and 0 "
                          "validation documents with valFraction 0.05; both "
                          "splits must be non-empty");
  EXPECT_FALSE(std::filesystem::exists(train));
  // valFraction 1 puts everything in validation: training is empty.
  CorpusOptions all;
  all.valFraction = 1.0;
  EXPECT_CONTAINS(prepareCorpus({a}, all, train, val, nullptr).message(),
                  "0 training and 1 validation");
}

TEST(Corpus, BlankDocumentsAreSkipped) {
  TempDir dir("data");
  std::string a = dir.path("a.txt"), b = dir.path("b.txt"),
              c = dir.path("c.txt"), blank = dir.path("blank.txt");
  writeBytes(a, "A");
  writeBytes(blank, " \n\t\n");
  writeBytes(b, "B");
  writeBytes(c, "");
  CorpusOptions opts;
  opts.valFraction = 0.5;
  CorpusStats stats;
  std::string train = dir.path("t.tok"), val = dir.path("v.tok");
  ASSERT_TRUE(prepareCorpus({a, blank, c, b}, opts, train, val, &stats));
  EXPECT_EQ(stats.documents, 2u);
  EXPECT_EQ(documentsOf(train), std::vector<std::string>{"A"});
  EXPECT_EQ(documentsOf(val), std::vector<std::string>{"B"});
}

TEST(Corpus, BadOptionsAndMissingInputs) {
  TempDir dir("data");
  std::string a = dir.path("a.txt");
  writeBytes(a, "x");
  std::string train = dir.path("t.tok"), val = dir.path("v.tok");
  CorpusOptions opts;
  opts.valFraction = 0.0;
  EXPECT_EQ(prepareCorpus({a}, opts, train, val, nullptr).message(),
            "corpus: valFraction must be in (0, 1], got 0");
  opts.valFraction = 1.5;
  EXPECT_FALSE(prepareCorpus({a}, opts, train, val, nullptr));
  EXPECT_EQ(prepareCorpus({}, CorpusOptions{}, train, val, nullptr).message(),
            "corpus: no input files");
  EXPECT_CONTAINS(
      prepareCorpus({a}, CorpusOptions{}, train, train, nullptr).message(),
      "are the same file");
  std::string missing = dir.path("missing.txt");
  EXPECT_EQ(
      prepareCorpus({missing}, CorpusOptions{}, train, val, nullptr).message(),
      missing + ": cannot open: No such file or directory");
  EXPECT_CONTAINS(prepareCorpus({a}, CorpusOptions{}, dir.path("no/dir/t.tok"),
                                val, nullptr)
                      .message(),
                  "No such file or directory");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"a.txt"});
}

TEST(Corpus, DebianFortunesZhIfInstalled) {
  const std::string path = "/usr/share/games/fortunes/tang300";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " not installed (Debian package fortunes-zh)";
  TempDir dir("data");
  CorpusOptions opts;
  opts.format = CorpusFormat::Fortune;
  CorpusStats stats;
  std::string train = dir.path("t.tok"), val = dir.path("v.tok");
  tele::rt::Status st = prepareCorpus({path}, opts, train, val, &stats);
  ASSERT_TRUE(st) << st.message();
  EXPECT_GT(stats.documents, 250u); // 300 Tang poems
  EXPECT_EQ(stats.valDocuments, stats.documents / 20);
  TokenFile tf;
  ASSERT_TRUE(TokenFile::open(train, tf));
  EXPECT_EQ(tf.numTokens(), stats.trainTokens);
  for (uint64_t i = 0; i < tf.numTokens(); ++i)
    ASSERT_NE(tf.at(i), 0x1bu) << "ANSI escape left at token " << i;
}
