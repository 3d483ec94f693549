//===- runtime/tests/CheckpointTest.cpp - safetensors checkpoint tests ----===//
//
// This file tests tele_checkpoint: round trips of every dtype with metadata,
// the typed float/int helpers and half-precision rounding, the exact header
// layout, every validation error of the reader (each with its message), the
// atomicity of the writer under failures, and, when Python's `safetensors`
// package is available, interoperability with Hugging Face's implementation.
//
//===----------------------------------------------------------------------===//
#include "checkpoint/Crc32c.h"
#include "checkpoint/Progress.h"
#include "checkpoint/SafeTensors.h"

#include "AtomicFile.h"
#include "FileTestUtil.h"
#include "StaleTempFiles.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

using namespace tele::ckpt;
using tele::testing::readBytes;
using tele::testing::TempDir;
using tele::testing::writeBytes;

namespace {

/// A tensor with recognisable bytes.
TensorRecord patterned(DType dtype, std::vector<int64_t> shape, uint8_t salt) {
  TensorRecord t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(static_cast<size_t>(t.numel()) * dtypeSize(dtype));
  for (size_t i = 0; i < t.bytes.size(); ++i)
    t.bytes[i] = static_cast<uint8_t>(i * 31 + salt);
  return t;
}

/// One tensor of every dtype, odd shapes included, plus metadata.
Checkpoint sampleCheckpoint() {
  Checkpoint c;
  c.tensors["layers.0.attn.wq"] = patterned(DType::F32, {4, 3}, 1);
  c.tensors["layers.0.norm.weight"] = patterned(DType::F64, {5}, 2);
  c.tensors["embed.weight"] = patterned(DType::BF16, {7, 2}, 3);
  c.tensors["lm_head.weight"] = patterned(DType::F16, {2, 1, 3}, 4);
  c.tensors["step"] = patterned(DType::I64, {}, 5); // scalar
  c.tensors["rng.counter"] = patterned(DType::I32, {3}, 6);
  c.tensors["mask"] = patterned(DType::U8, {9}, 7); // odd size: unaligned
  c.tensors["empty"] = patterned(DType::F32, {0, 4}, 8);
  c.metadata["format"] = "tele";
  c.metadata["config"] = R"({"dim": 64, "n_layers": 2})";
  c.metadata["note"] = "中文元数据";
  return c;
}

void expectSameCheckpoint(const Checkpoint &a, const Checkpoint &b) {
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto &[name, t] : a.tensors) {
    auto it = b.tensors.find(name);
    ASSERT_NE(it, b.tensors.end()) << name;
    EXPECT_EQ(t.dtype, it->second.dtype) << name;
    EXPECT_EQ(t.shape, it->second.shape) << name;
    EXPECT_EQ(t.bytes, it->second.bytes) << name;
  }
}

/// A safetensors file from a literal header and a data buffer of `dataSize`
/// zero bytes, for the reader's error paths.
void writeRaw(const std::string &path, const std::string &header,
              size_t dataSize) {
  std::string bytes(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  writeBytes(path, bytes + header + std::string(dataSize, '\0'));
}

std::string readError(const std::string &path) {
  Checkpoint c;
  c.metadata["untouched"] = "yes";
  tele::rt::Status st = readSafeTensors(path, c);
  EXPECT_FALSE(st);
  EXPECT_EQ(c.metadata.at("untouched"), "yes"); // out unchanged on error
  return st.message();
}

} // namespace

//===----------------------------------------------------------------------===//
// Round trips and layout
//===----------------------------------------------------------------------===//

TEST(SafeTensors, RoundTripAllDtypesAndMetadata) {
  TempDir dir("ckpt");
  std::string path = dir.path("model.safetensors");
  Checkpoint c = sampleCheckpoint();
  tele::rt::Status st = writeSafeTensors(path, c);
  ASSERT_TRUE(st) << st.message();
  Checkpoint back;
  st = readSafeTensors(path, back);
  ASSERT_TRUE(st) << st.message();
  expectSameCheckpoint(c, back);
  EXPECT_EQ(dir.list(), std::vector<std::string>{"model.safetensors"});
}

TEST(SafeTensors, EmptyCheckpointRoundTrips) {
  TempDir dir("ckpt");
  std::string path = dir.path("e.safetensors");
  ASSERT_TRUE(writeSafeTensors(path, Checkpoint{}));
  Checkpoint back;
  ASSERT_TRUE(readSafeTensors(path, back));
  EXPECT_TRUE(back.tensors.empty());
  EXPECT_TRUE(back.metadata.empty());
}

TEST(SafeTensors, HeaderLayoutIsPaddedAndContiguous) {
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  Checkpoint c = sampleCheckpoint();
  ASSERT_TRUE(writeSafeTensors(path, c));
  std::string b = readBytes(path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= uint64_t(static_cast<uint8_t>(b[i])) << (8 * i);
  EXPECT_EQ((8 + n) % 8, 0u); // tensor data is 8-byte aligned
  std::string header = b.substr(8, n);
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
  auto j = nlohmann::json::parse(header);
  EXPECT_EQ(j["__metadata__"]["format"], "tele");
  // Tensors are laid out in name order, back to back.
  uint64_t offset = 0;
  for (const auto &[name, t] : c.tensors) {
    EXPECT_EQ(j[name]["dtype"], dtypeName(t.dtype));
    EXPECT_EQ(j[name]["shape"].get<std::vector<int64_t>>(), t.shape);
    EXPECT_EQ(j[name]["data_offsets"][0].get<uint64_t>(), offset) << name;
    offset += t.bytes.size();
    EXPECT_EQ(j[name]["data_offsets"][1].get<uint64_t>(), offset) << name;
  }
  EXPECT_EQ(b.size(), 8 + n + offset);
  // Every tensor's checksum, the table's and the metadata's are recorded.
  EXPECT_EQ(j["__metadata__"].size(), c.metadata.size() + c.tensors.size() + 2);
  EXPECT_TRUE(j["__metadata__"].contains("tele.crc32c.metadata"));
  EXPECT_TRUE(j["__metadata__"].contains("tele.crc32c.tensors"));
}

TEST(SafeTensors, HeaderPaddingIsMinimal) {
  // Header JSON lengths of every residue mod 8, the aligned one included:
  // the padding is the 0-7 spaces that align the data, as Hugging Face's
  // writer produces, never a whole extra 8.
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  std::set<uint64_t> residues;
  for (int extra = 0; extra < 8; ++extra) {
    Checkpoint c = sampleCheckpoint();
    c.metadata["pad"] = std::string(extra, 'x');
    ASSERT_TRUE(writeSafeTensors(path, c));
    std::string b = readBytes(path);
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i)
      n |= uint64_t(static_cast<uint8_t>(b[i])) << (8 * i);
    uint64_t json = b.substr(8, n).rfind('}') + 1;
    residues.insert(json % 8);
    EXPECT_EQ(n, (json + 7) / 8 * 8) << "JSON of " << json << " bytes";
  }
  EXPECT_EQ(residues.size(), 8u);
}

TEST(SafeTensors, ReadHeaderOnly) {
  TempDir dir("ckpt");
  std::string path = dir.path("h.safetensors");
  ASSERT_TRUE(writeSafeTensors(path, sampleCheckpoint()));
  SafeTensorsHeader h;
  tele::rt::Status st = readSafeTensorsHeader(path, h);
  ASSERT_TRUE(st) << st.message();
  ASSERT_EQ(h.tensors.size(), 8u);
  EXPECT_EQ(h.tensors[0].name, "embed.weight"); // sorted by name
  EXPECT_EQ(h.tensors[0].dtype, DType::BF16);
  EXPECT_EQ(h.tensors[0].shape, (std::vector<int64_t>{7, 2}));
  EXPECT_EQ(h.tensors[0].dataEnd - h.tensors[0].dataBegin, 28u);
  EXPECT_EQ(h.metadata.at("note"), "中文元数据");
  EXPECT_EQ(h.dataStart % 8, 0u);
}

TEST(SafeTensors, DtypeNamesAndSizes) {
  const std::pair<DType, size_t> all[] = {
      {DType::F32, 4}, {DType::F64, 8}, {DType::BF16, 2}, {DType::F16, 2},
      {DType::I32, 4}, {DType::I64, 8}, {DType::U8, 1}};
  for (auto [d, size] : all) {
    EXPECT_EQ(dtypeSize(d), size);
    DType parsed;
    ASSERT_TRUE(parseDType(dtypeName(d), parsed));
    EXPECT_EQ(parsed, d);
  }
  DType d;
  EXPECT_FALSE(parseDType("f32", d)); // case-sensitive, as in the spec
  EXPECT_FALSE(parseDType("F8_E4M3", d));
}

//===----------------------------------------------------------------------===//
// Typed helpers and half precision
//===----------------------------------------------------------------------===//

TEST(SafeTensors, TypedFloatHelpers) {
  std::vector<float> values = {1.0f, -2.5f, 0.0f, 3.140625f, 1e-3f, 65504.0f};
  for (DType storage : {DType::F32, DType::F64, DType::BF16, DType::F16}) {
    TensorRecord t;
    ASSERT_TRUE(t.setFloats({2, 3}, values, storage));
    EXPECT_EQ(t.dtype, storage);
    EXPECT_EQ(t.bytes.size(), 6 * dtypeSize(storage));
    std::vector<float> back;
    ASSERT_TRUE(t.getFloats(back));
    ASSERT_EQ(back.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      float tol = storage == DType::BF16  ? std::fabs(values[i]) / 128
                  : storage == DType::F16 ? std::fabs(values[i]) / 1024 + 1e-7f
                                          : 0.0f;
      EXPECT_NEAR(back[i], values[i], tol) << dtypeName(storage) << " " << i;
    }
  }
  TensorRecord d;
  std::vector<double> dv = {0.1, -1e300, 1.0 / 3.0};
  ASSERT_TRUE(d.setDoubles({3}, dv));
  EXPECT_EQ(d.dtype, DType::F64);
  std::vector<double> dback;
  ASSERT_TRUE(d.getDoubles(dback));
  EXPECT_EQ(dback, dv); // bit-exact
}

TEST(SafeTensors, TypedHelpersRejectMismatches) {
  TensorRecord t;
  std::vector<float> six(6, 1.0f);
  EXPECT_EQ(t.setFloats({2, 2}, six).message(),
            "setFloats: shape [2, 2] has 4 elements but 6 values were given");
  EXPECT_EQ(t.setFloats({-1, 6}, six).message(),
            "setFloats: invalid shape [-1, 6]");
  EXPECT_FALSE(t.setFloats({6}, six, DType::I32));
  EXPECT_TRUE(t.bytes.empty()); // unchanged after failures

  ASSERT_TRUE(t.setInts({3}, {-5, 7, 1LL << 40}));
  std::vector<int64_t> ints;
  ASSERT_TRUE(t.getInts(ints));
  EXPECT_EQ(ints, (std::vector<int64_t>{-5, 7, 1LL << 40}));
  std::vector<float> floats;
  EXPECT_EQ(t.getFloats(floats).message(),
            "tensor has dtype I64, not a floating-point type");
  EXPECT_EQ(t.setInts({1}, {300}, DType::U8).message(),
            "setInts: value 300 at 0 does not fit U8");
  ASSERT_TRUE(t.setInts({2}, {255, 0}, DType::U8));
  ASSERT_TRUE(t.getInts(ints));
  EXPECT_EQ(ints, (std::vector<int64_t>{255, 0}));

  TensorRecord bad;
  bad.dtype = DType::F32;
  bad.shape = {3};
  bad.bytes.resize(8);
  EXPECT_EQ(bad.getFloats(floats).message(),
            "tensor of shape [3] and F32 holds 8 bytes");
}

TEST(SafeTensors, HalfPrecisionRounding) {
  // bfloat16
  EXPECT_EQ(floatToBf16(1.0f), 0x3F80);
  EXPECT_EQ(floatToBf16(-2.0f), 0xC000);
  EXPECT_EQ(bf16ToFloat(0x3F80), 1.0f);
  // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties to even (1.0).
  EXPECT_EQ(floatToBf16(1.00390625f), 0x3F80);
  EXPECT_EQ(floatToBf16(1.01171875f), 0x3F82); // 1 + 3*2^-8 -> even 0x3F82
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::max()), 0x7F80); // inf
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(std::nanf("")))));
  // IEEE half
  EXPECT_EQ(floatToF16(1.0f), 0x3C00);
  EXPECT_EQ(floatToF16(-2.0f), 0xC000);
  EXPECT_EQ(floatToF16(65504.0f), 0x7BFF); // largest finite
  EXPECT_EQ(floatToF16(65519.0f), 0x7BFF); // rounds down
  EXPECT_EQ(floatToF16(65520.0f), 0x7C00); // ties to even: inf
  EXPECT_EQ(floatToF16(INFINITY), 0x7C00);
  EXPECT_EQ(floatToF16(-INFINITY), 0xFC00);
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -14)), 0x0400); // smallest normal
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -25)), 0x0000); // tie to even zero
  EXPECT_EQ(floatToF16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(floatToF16(std::ldexp(3.0f, -25)), 0x0002); // 1.5 units: to even
  EXPECT_EQ(floatToF16(-0.0f), 0x8000);
  EXPECT_EQ(floatToF16(1.0f + std::ldexp(1.0f, -11)), 0x3C00); // tie -> even
  EXPECT_EQ(floatToF16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_TRUE(std::isnan(f16ToFloat(floatToF16(std::nanf("")))));
  // Every finite half survives half -> float -> half exactly.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF))
      continue; // NaN payloads are quieted
    ASSERT_EQ(floatToF16(f16ToFloat(static_cast<uint16_t>(h))), h) << h;
  }
  EXPECT_EQ(f16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16ToFloat(0x7BFF), 65504.0f);
}

//===----------------------------------------------------------------------===//
// Reader validation: one test per failure mode, each checking the message
//===----------------------------------------------------------------------===//

TEST(SafeTensors, RejectsFileShorterThanLengthField) {
  TempDir dir("ckpt");
  std::string path = dir.path("tiny.safetensors");
  writeBytes(path, "abcde");
  EXPECT_EQ(readError(path),
            path + ": file is 5 bytes, shorter than the 8-byte header length");
}

TEST(SafeTensors, RejectsTruncationByOneByte) {
  TempDir dir("ckpt");
  std::string path = dir.path("t.safetensors");
  ASSERT_TRUE(writeSafeTensors(path, sampleCheckpoint()));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
  // The last tensor in the data buffer is "step" (names sort 'step' last).
  std::string msg = readError(path);
  EXPECT_CONTAINS(msg, path + ": tensor 'step': data_offsets end ");
  EXPECT_CONTAINS(msg, "(file truncated?)");
  SafeTensorsHeader h;
  EXPECT_FALSE(readSafeTensorsHeader(path, h));
}

TEST(SafeTensors, RejectsTrailingBytes) {
  TempDir dir("ckpt");
  std::string path = dir.path("t.safetensors");
  writeRaw(path, R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 5);
  EXPECT_EQ(readError(path), path + ": data buffer is 5 bytes but tensors "
                                    "cover 2 (3 trailing bytes)");
}

TEST(SafeTensors, RejectsHugeHeaderLength) {
  TempDir dir("ckpt");
  std::string path = dir.path("huge.safetensors");
  std::string bytes(8, '\0');
  bytes[7] = 0x10; // 2^60
  writeBytes(path, bytes + "{}");
  EXPECT_EQ(readError(path), path + ": header length 1152921504606846976 "
                                    "exceeds the 2 bytes after the length "
                                    "field (file size 10)");
}

TEST(SafeTensors, RejectsHeaderOverTheSizeLimit) {
  TempDir dir("ckpt");
  std::string path = dir.path("big.safetensors");
  const uint64_t n = 100'000'001;
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  writeBytes(path, bytes);
  std::filesystem::resize_file(path, 8 + n); // sparse: no real allocation
  EXPECT_EQ(readError(path), path + ": header length 100000001 exceeds the "
                                    "limit of 100000000 bytes");
}

TEST(SafeTensors, RejectsCorruptedHeaderJson) {
  TempDir dir("ckpt");
  std::string path = dir.path("c.safetensors");
  ASSERT_TRUE(writeSafeTensors(path, sampleCheckpoint()));
  std::string b = readBytes(path);
  b[8 + 10] = '#'; // inside the first key
  b[8 + 1] = '\x01';
  writeBytes(path, b);
  std::string msg = readError(path);
  EXPECT_CONTAINS(msg, path + ": header is not valid JSON (file offset 9): ");
  EXPECT_EQ(msg.find('\n'), std::string::npos); // one line
}

TEST(SafeTensors, RejectsHeaderThatIsNotAnObject) {
  TempDir dir("ckpt");
  std::string path = dir.path("a.safetensors");
  writeRaw(path, "[1, 2]  ", 0);
  EXPECT_EQ(readError(path), path + ": header is not a JSON object");
}

TEST(SafeTensors, RejectsMalformedEntries) {
  TempDir dir("ckpt");
  std::string path = dir.path("e.safetensors");
  struct Case {
    std::string entry;
    std::string message;
  };
  const Case cases[] = {
      {R"("x")", "entry is not a JSON object"},
      {R"({"shape":[1],"data_offsets":[0,4]})", "missing \"dtype\""},
      {R"({"dtype":4,"shape":[1],"data_offsets":[0,4]})",
       "\"dtype\" is not a string"},
      {R"({"dtype":"Q4","shape":[1],"data_offsets":[0,4]})",
       "unknown dtype 'Q4'"},
      {R"({"dtype":"F32","data_offsets":[0,4]})", "missing \"shape\""},
      {R"({"dtype":"F32","shape":"1","data_offsets":[0,4]})",
       "\"shape\" is not an array"},
      {R"({"dtype":"F32","shape":[1.0],"data_offsets":[0,4]})",
       "shape[0] is not an integer"},
      {R"({"dtype":"F32","shape":[2,-2],"data_offsets":[0,4]})",
       "negative dimension -2 in shape[1]"},
      {R"({"dtype":"F32","shape":[1]})", "missing \"data_offsets\""},
      {R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})",
       "\"data_offsets\" is not an array of two integers"},
      {R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})",
       "\"data_offsets\" must hold two non-negative integers"},
      {R"({"dtype":"F32","shape":[1],"data_offsets":[4,0]})",
       "data_offsets end 0 is before begin 4"},
      {R"({"dtype":"F32","shape":[2],"data_offsets":[0,4]})",
       "data_offsets [0, 4) span 4 bytes but shape [2] of F32 needs 8"},
      {R"({"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,4]})",
       "shape [4294967296, 4294967296] overflows"},
  };
  for (const Case &c : cases) {
    writeRaw(path, R"({"w":)" + c.entry + "}", 4);
    EXPECT_EQ(readError(path), path + ": tensor 'w': " + c.message) << c.entry;
  }
  // The writer cannot name a tensor "", so the reader refuses it too (a
  // checkpoint that loads must save; found by tele-safetensors-fuzzer).
  writeRaw(path, R"({"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
  EXPECT_EQ(readError(path), path + ": a tensor has an empty name");
}

// A zero-size tensor may have dimensions whose product overflows before the
// zero (this was signed overflow in numel(), found by the sanitizer build).
TEST(SafeTensors, ZeroSizeTensorWithHugeDimensions) {
  TensorRecord t;
  t.shape = {int64_t(1) << 62, 2, 0};
  EXPECT_EQ(t.numel(), 0);
}

TEST(SafeTensors, RejectsOverlappingTensors) {
  TempDir dir("ckpt");
  std::string path = dir.path("o.safetensors");
  writeRaw(path,
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
           R"( "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
           12);
  EXPECT_EQ(readError(path),
            path + ": tensors 'a' [0, 8) and 'b' [4, 12) overlap");
  // Two names for the same bytes also overlap.
  writeRaw(path,
           R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
           R"( "b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
           4);
  EXPECT_CONTAINS(readError(path), "overlap");
}

TEST(SafeTensors, RejectsHoles) {
  TempDir dir("ckpt");
  std::string path = dir.path("h.safetensors");
  writeRaw(path,
           R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
           R"( "b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
           12);
  EXPECT_EQ(readError(path), path + ": data buffer bytes [4, 8) belong to no "
                                    "tensor (hole before 'b')");
}

TEST(SafeTensors, RejectsBadMetadata) {
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  writeRaw(path, R"({"__metadata__":{"step":12}})", 0);
  EXPECT_EQ(readError(path),
            path + ": metadata value for 'step' is not a string");
  writeRaw(path, R"({"__metadata__":["x"]})", 0);
  EXPECT_EQ(readError(path), path + ": \"__metadata__\" is not a JSON object");
}

TEST(SafeTensors, AcceptsForeignButValidLayouts) {
  // Out-of-name-order offsets, zero-size tensors and extra keys are legal.
  TempDir dir("ckpt");
  std::string path = dir.path("f.safetensors");
  writeRaw(path,
           R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[3,5]},)"
           R"( "z":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},)"
           R"( "e":{"dtype":"F32","shape":[0],"data_offsets":[5,5],"x":1}})",
           5);
  Checkpoint c;
  tele::rt::Status st = readSafeTensors(path, c);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(c.tensors.at("a").bytes.size(), 2u);
  EXPECT_EQ(c.tensors.at("z").shape, std::vector<int64_t>{3});
  EXPECT_TRUE(c.tensors.at("e").bytes.empty());
}

TEST(SafeTensors, MissingFileAndDirectory) {
  TempDir dir("ckpt");
  std::string path = dir.path("none.safetensors");
  EXPECT_EQ(readError(path), path + ": cannot open: No such file or directory");
  EXPECT_EQ(readError(dir.dir().string()),
            dir.dir().string() + ": not a regular file");
}

//===----------------------------------------------------------------------===//
// Writer validation and atomicity
//===----------------------------------------------------------------------===//

TEST(SafeTensors, WriterRejectsInconsistentTensors) {
  TempDir dir("ckpt");
  std::string path = dir.path("w.safetensors");
  Checkpoint c;
  c.tensors["x"] = patterned(DType::F32, {2, 2}, 0);
  c.tensors["x"].bytes.pop_back();
  EXPECT_EQ(writeSafeTensors(path, c).message(),
            path + ": tensor 'x' of shape [2, 2] and dtype F32 needs 16 bytes "
                   "but holds 15");
  c.tensors.clear();
  c.tensors["__metadata__"] = patterned(DType::U8, {1}, 0);
  EXPECT_EQ(writeSafeTensors(path, c).message(),
            path + ": '__metadata__' is reserved and cannot name a tensor");
  c.tensors.clear();
  c.tensors[""] = patterned(DType::U8, {1}, 0);
  EXPECT_FALSE(writeSafeTensors(path, c));
  c.tensors.clear();
  TensorRecord neg;
  neg.shape = {-1};
  c.tensors["n"] = neg;
  EXPECT_EQ(writeSafeTensors(path, c).message(),
            path + ": tensor 'n' has invalid shape [-1]");
  c.tensors.clear();
  c.metadata["bad"] = "\xff\xfe";
  EXPECT_CONTAINS(writeSafeTensors(path, c).message(),
                  path + ": tensor name or metadata is not valid UTF-8");
  EXPECT_TRUE(dir.list().empty());
}

TEST(SafeTensors, WriteIntoMissingDirectoryFails) {
  TempDir dir("ckpt");
  std::string path = dir.path("gone/model.safetensors");
  tele::rt::Status st = writeSafeTensors(path, sampleCheckpoint());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), "cannot create temporary file '" +
                              tele::rt::AtomicFileWriter::tempPathFor(path) +
                              "' for '" + path +
                              "': No such file or directory");
  EXPECT_TRUE(dir.list().empty());
}

TEST(SafeTensors, OverwriteReplacesAndLeavesNoTempFile) {
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  Checkpoint c1 = sampleCheckpoint();
  ASSERT_TRUE(writeSafeTensors(path, c1));
  Checkpoint c2;
  ASSERT_TRUE(c2.tensors["w"].setFloats({2}, std::vector<float>{1, 2}));
  ASSERT_TRUE(writeSafeTensors(path, c2));
  Checkpoint back;
  ASSERT_TRUE(readSafeTensors(path, back));
  expectSameCheckpoint(c2, back);
  EXPECT_EQ(dir.list(), std::vector<std::string>{"m.safetensors"});
}

TEST(SafeTensors, FailedWriteLeavesOldFileIntactWhenTempCannotBeCreated) {
  // Stands in for "directory became unwritable" in a way that also works as
  // root (root ignores a read-only directory's permission bits).
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  ASSERT_TRUE(writeSafeTensors(path, sampleCheckpoint()));
  std::string before = readBytes(path);
  std::string temp = tele::rt::AtomicFileWriter::tempPathFor(path);
  std::filesystem::create_directory(temp);
  Checkpoint c2;
  ASSERT_TRUE(c2.tensors["w"].setFloats({1}, std::vector<float>{1}));
  tele::rt::Status st = writeSafeTensors(path, c2);
  ASSERT_FALSE(st);
  EXPECT_CONTAINS(st.message(), "cannot create temporary file '" + temp + "'");
  EXPECT_EQ(readBytes(path), before);
}

/// Refuses to create files in one directory with EACCES, as the kernel does
/// for a read-only directory to anyone but root.
class ReadOnlyDirectoryOps : public tele::rt::FileOps {
public:
  explicit ReadOnlyDirectoryOps(std::filesystem::path dir) : dir_(std::move(dir)) {}
  int open(const char *path, int flags, mode_t mode) override {
    if ((flags & O_CREAT) && std::filesystem::path(path).parent_path() == dir_) {
      errno = EACCES;
      return -1;
    }
    return FileOps::open(path, flags, mode);
  }

private:
  std::filesystem::path dir_;
};

TEST(SafeTensors, FailedWriteLeavesOldFileIntactWhenDirectoryUnwritable) {
  TempDir dir("ckpt");
  std::filesystem::path sub = dir.dir() / "ro";
  std::filesystem::create_directory(sub);
  std::string path = (sub / "m.safetensors").string();
  ASSERT_TRUE(writeSafeTensors(path, sampleCheckpoint()));
  std::string before = readBytes(path);
  std::filesystem::permissions(sub, std::filesystem::perms::owner_read |
                                        std::filesystem::perms::owner_exec);
  // Root (e.g. CI containers) bypasses permission bits; there the refusal
  // the kernel would give comes from the FileOps seam instead.
  std::string probe = (sub / "probe").string();
  bool enforced = true;
  if (std::FILE *f = std::fopen(probe.c_str(), "w")) {
    std::fclose(f);
    std::filesystem::remove(probe);
    enforced = false;
  }
  ReadOnlyDirectoryOps readOnly(sub);
  std::optional<tele::rt::ScopedFileOps> seam;
  if (!enforced)
    seam.emplace(readOnly);
  Checkpoint c2;
  ASSERT_TRUE(c2.tensors["w"].setFloats({1}, std::vector<float>{1}));
  tele::rt::Status st = writeSafeTensors(path, c2);
  seam.reset();
  std::filesystem::permissions(sub, std::filesystem::perms::owner_all);
  ASSERT_FALSE(st);
  EXPECT_CONTAINS(st.message(), "Permission denied");
  EXPECT_EQ(readBytes(path), before);
  std::vector<std::string> left;
  for (const auto &e : std::filesystem::directory_iterator(sub))
    left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"m.safetensors"});
}

TEST(SafeTensors, FailedWriteMidwayLeavesOldFileIntactAndNoTemp) {
  // RLIMIT_FSIZE makes a write fail part-way (EFBIG), like a full disk.
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  ASSERT_TRUE(writeSafeTensors(path, sampleCheckpoint()));
  std::string before = readBytes(path);
  Checkpoint big;
  ASSERT_TRUE(
      big.tensors["w"].setFloats({1 << 20}, std::vector<float>(1 << 20, 0.5f)));

  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = old;
  limited.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  tele::rt::Status st = writeSafeTensors(path, big);
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, oldHandler);

  ASSERT_FALSE(st);
  EXPECT_CONTAINS(st.message(),
                  "cannot write '" +
                      tele::rt::AtomicFileWriter::tempPathFor(path) +
                      "' at offset ");
  EXPECT_CONTAINS(st.message(), "File too large");
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(dir.list(), std::vector<std::string>{"m.safetensors"});
}

//===----------------------------------------------------------------------===//
// Interoperability with Hugging Face safetensors
//===----------------------------------------------------------------------===//

TEST(SafeTensors, PythonSafetensorsInterop) {
  // $TELE_PYTHON selects the interpreter; by default the build's test venv
  // (./dev.sh test installs safetensors there), else python3.
  const char *env = std::getenv("TELE_PYTHON");
  std::string python = env && *env ? env
                       : std::filesystem::exists(TELE_TEST_VENV_PYTHON)
                           ? TELE_TEST_VENV_PYTHON
                           : "python3";
  TempDir dir("ckpt");
  std::string ours = dir.path("ours.safetensors");
  std::string theirs = dir.path("theirs.safetensors");
  Checkpoint c = sampleCheckpoint();
  ASSERT_TRUE(writeSafeTensors(ours, c));
  std::string cmd = "'" + python + "' '" TELE_SAFETENSORS_INTEROP_PY "' '" +
                    ours + "' '" + theirs + "'";
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc)) << cmd;
  if (WEXITSTATUS(rc) == 77 || WEXITSTATUS(rc) == 127)
    GTEST_SKIP() << "python `safetensors` package not available";
  ASSERT_EQ(WEXITSTATUS(rc), 0) << cmd;
  Checkpoint back;
  tele::rt::Status st = readSafeTensors(theirs, back);
  ASSERT_TRUE(st) << st.message();
  expectSameCheckpoint(c, back);
}

//===----------------------------------------------------------------------===//
// Checksums
//===----------------------------------------------------------------------===//

TEST(Crc32c, KnownValues) {
  // The check value of CRC-32C (RFC 3720, B.4) and its 32-byte vectors.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), up(32);
  for (int i = 0; i < 32; ++i)
    up[i] = uint8_t(i);
  EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(up.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
  // Extending piecewise gives the checksum of the whole, at any split.
  for (size_t cut = 0; cut <= 32; ++cut)
    EXPECT_EQ(crc32cExtend(crc32c(up.data(), cut), up.data() + cut, 32 - cut),
              0x46DD794Eu);
  EXPECT_EQ(crc32cHex(0x0000abcdu), "0000abcd");
}

TEST(SafeTensors, ChecksumsAreVerifiedAndStripped) {
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  Checkpoint c = sampleCheckpoint();
  ASSERT_TRUE(writeSafeTensors(path, c));
  Checkpoint back;
  ASSERT_TRUE(readSafeTensors(path, back));
  EXPECT_TRUE(back.checksummed);
  EXPECT_EQ(back.metadata, c.metadata); // tele.crc32c.* are not returned
  SafeTensorsHeader h;
  ASSERT_TRUE(verifySafeTensors(path, h));
  EXPECT_TRUE(h.checksummed);
  EXPECT_EQ(h.tensorChecksums.size(), c.tensors.size());
  // Rewriting a checkpoint that was read gives the same file.
  std::string bytes = readBytes(path);
  ASSERT_TRUE(writeSafeTensors(path, back));
  EXPECT_EQ(readBytes(path), bytes);
}

TEST(SafeTensors, FilesWithoutChecksumsStillLoad) {
  // An older tele's file (or another writer's): no tele.crc32c.* keys.
  TempDir dir("ckpt");
  std::string path = dir.path("old.safetensors");
  writeRaw(path,
           R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
           R"("__metadata__":{"tele.step":"3"}})",
           2);
  Checkpoint back;
  ASSERT_TRUE(readSafeTensors(path, back)) << readError(path);
  EXPECT_FALSE(back.checksummed);
  EXPECT_EQ(back.metadata.at("tele.step"), "3");
  SafeTensorsHeader h;
  ASSERT_TRUE(verifySafeTensors(path, h));
  EXPECT_FALSE(h.checksummed);
}

/// The header JSON of a file tele wrote, and the offset of its data.
std::string headerOf(const std::string &bytes, uint64_t &dataStart) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= uint64_t(static_cast<uint8_t>(bytes[i])) << (8 * i);
  dataStart = 8 + n;
  return bytes.substr(8, n);
}

/// Replaces the first `from` of the header by `to` (same length).
void patchHeader(const std::string &path, const std::string &from,
                 const std::string &to) {
  ASSERT_EQ(from.size(), to.size());
  std::string bytes = readBytes(path);
  uint64_t dataStart;
  size_t at = headerOf(bytes, dataStart).find(from);
  ASSERT_NE(at, std::string::npos) << from;
  bytes.replace(8 + at, from.size(), to);
  writeBytes(path, bytes);
}

TEST(SafeTensors, ChecksumMismatchesAreNamed) {
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  Checkpoint c;
  c.tensors["w"] = patterned(DType::F32, {4, 4}, 1);
  c.tensors["x"] = patterned(DType::I32, {4, 4}, 2);
  c.metadata["tele.step"] = "12";
  auto fresh = [&] { ASSERT_TRUE(writeSafeTensors(path, c)); };

  // A flipped bit in a weight: the tensor is named.
  fresh();
  std::string bytes = readBytes(path);
  uint64_t dataStart;
  headerOf(bytes, dataStart);
  bytes[dataStart + 5] ^= 0x10;
  writeBytes(path, bytes);
  std::string err = readError(path);
  EXPECT_NE(err.find(path + ": tensor 'w': checksum mismatch (crc32c of its data "), std::string::npos) << err;
  EXPECT_NE(err.find("): the file is corrupt"), std::string::npos) << err;
  SafeTensorsHeader h;
  Status st = verifySafeTensors(path, h);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), err);

  // A changed digit in the metadata.
  fresh();
  patchHeader(path, R"("tele.step":"12")", R"("tele.step":"13")");
  EXPECT_NE(readError(path).find(path + ": metadata checksum mismatch"), std::string::npos);
  // F32 and I32 have the same size, so only the table checksum sees this.
  fresh();
  patchHeader(path, R"("dtype":"I32")", R"("dtype":"F32")");
  EXPECT_NE(readError(path).find(path + ": tensor table checksum mismatch"), std::string::npos)
      << readError(path);
  // Whitespace other than spaces in the padding.
  fresh();
  bytes = readBytes(path);
  std::string header = headerOf(bytes, dataStart);
  size_t pad = header.find_last_not_of(' ') + 1;
  if (pad < header.size()) {
    bytes[8 + pad] = '\t';
    writeBytes(path, bytes);
    EXPECT_EQ(readError(path), path + ": header padding at file offset " +
                                   std::to_string(8 + pad) + " is not a space");
  }
  // A checksum that is missing or malformed.
  fresh();
  patchHeader(path, "tele.crc32c.tensor.x", "tele.crc32c.tensor.y");
  EXPECT_NE(readError(path).find("metadata checksum mismatch"), std::string::npos);
  fresh();
  patchHeader(path, "\"tele.crc32c.tensors\"", "\"tele.crc32c.tensorz\"");
  EXPECT_NE(readError(path).find("metadata checksum mismatch"), std::string::npos);
  fresh();
  patchHeader(path, "\"tele.crc32c.metadata\"", "\"tele.crc32c.metadatA\"");
  EXPECT_EQ(readError(path), path + ": checksum 'tele.crc32c.metadata' is missing");
}

/// Every single-byte change of a checkpoint is reported, never loaded: 100
/// random positions and values (fixed seed), and the 8-byte length field.
TEST(SafeTensors, EverySingleByteCorruptionIsDetected) {
  TempDir dir("ckpt");
  std::string path = dir.path("m.safetensors");
  Checkpoint c = sampleCheckpoint();
  Progress p;
  p.step = p.samplerPosition = 350;
  p.stageIndex = 2;
  p.stageStep = 150;
  p.tokens = 350 * 2048;
  writeProgress(p, c.metadata);
  ASSERT_TRUE(writeSafeTensors(path, c));
  const std::string original = readBytes(path);
  uint64_t dataStart;
  headerOf(original, dataStart);
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  std::vector<size_t> offsets = {0, 1, 7};
  while (offsets.size() < 103)
    offsets.push_back(size_t(next() % original.size()));
  int detected = 0, inHeader = 0;
  for (size_t at : offsets) {
    std::string bytes = original;
    bytes[at] = char(uint8_t(bytes[at]) ^ uint8_t(1 + next() % 255));
    writeBytes(path, bytes);
    Checkpoint back;
    Status st = readSafeTensors(path, back);
    if (st)
      st = readProgress(back.metadata, path, p);
    SafeTensorsHeader h;
    bool verified = bool(verifySafeTensors(path, h));
    if (!st && !verified)
      ++detected;
    else
      ADD_FAILURE() << "byte " << at << " changed, but the file loads";
    inHeader += at < dataStart;
  }
  EXPECT_EQ(detected, 103);
  // Both regions were hit.
  EXPECT_GT(inHeader, 3);
  EXPECT_LT(inHeader, 103);
}

//===----------------------------------------------------------------------===//
// Leftovers of killed writes
//===----------------------------------------------------------------------===//

TEST(StaleTempFiles, OnlyTelesOwnPatternIsRecognised) {
  using tele::rt::staleTempFileOwner;
  EXPECT_EQ(staleTempFileOwner("ckpt-00000002.safetensors.tmp.4242"), 4242);
  EXPECT_EQ(staleTempFileOwner("train.tok.tmp.7"), 7);
  EXPECT_EQ(staleTempFileOwner("notes.txt.tmp.7"), 0);
  EXPECT_EQ(staleTempFileOwner(".safetensors.tmp.7"), 0);
  EXPECT_EQ(staleTempFileOwner("a.safetensors.tmp."), 0);
  EXPECT_EQ(staleTempFileOwner("a.safetensors.tmp.12a"), 0);
  EXPECT_EQ(staleTempFileOwner("a.safetensors.tmp.1234567890"), 0);
  EXPECT_EQ(staleTempFileOwner("a.safetensors"), 0);
}

TEST(StaleTempFiles, RemovesOnlyDeadWritersFiles) {
  TempDir dir("stale");
  // pid 999999999 is above any pid_max; pid 1 and this process are alive.
  std::string dead = "ckpt-1.safetensors.tmp.999999999";
  std::string live = "ckpt-2.safetensors.tmp.1";
  std::string mine = tele::rt::AtomicFileWriter::tempPathFor("ckpt-3.safetensors");
  std::string other = "notes.txt.tmp.999999999";
  for (const std::string &name : {dead, live, mine, other})
    writeBytes(dir.path(name), "x");
  EXPECT_EQ(tele::rt::removeStaleTempFiles(dir.path("")), std::vector<std::string>{dead});
  for (const std::string &name : {live, mine, other})
    EXPECT_EQ(readBytes(dir.path(name)), "x") << name;
  EXPECT_TRUE(tele::rt::removeStaleTempFiles(dir.path("missing")).empty());
}

//===----------------------------------------------------------------------===//
// Training progress metadata
//===----------------------------------------------------------------------===//

TEST(Progress, RoundTripsThroughMetadata) {
  Progress p;
  p.step = 1234;
  p.stageIndex = 2;
  p.stageStep = 34;
  p.tokens = int64_t(1) << 40;
  p.samplerPosition = 1234;
  p.seed = 42;
  Metadata meta;
  writeProgress(p, meta);
  Progress back;
  ASSERT_TRUE(readProgress(meta, "c.safetensors", back).isOk());
  EXPECT_EQ(back.step, 1234);
  EXPECT_EQ(back.stageIndex, 2);
  EXPECT_EQ(back.stageStep, 34);
  EXPECT_EQ(back.tokens, int64_t(1) << 40);
  EXPECT_EQ(back.samplerPosition, 1234u);
  EXPECT_EQ(back.seed, 42u);
}

TEST(Progress, BadMetadataIsNamed) {
  Metadata good;
  writeProgress(Progress{}, good);
  Progress out;
  Metadata notOurs;
  auto st = readProgress(notOurs, "x.safetensors", out);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("x.safetensors: not a tele training checkpoint"), std::string::npos)
      << st.message();
  for (const char *bad : {"", "-1", "12x", "99999999999999999999", "9223372036854775808"}) {
    Metadata meta = good;
    meta["tele.stage_step"] = bad;
    st = readProgress(meta, "x.safetensors", out);
    ASSERT_FALSE(st.isOk()) << "'" << bad << "' accepted";
    EXPECT_EQ(st.message(), "x.safetensors: metadata 'tele.stage_step' is missing or invalid");
  }
  Metadata missing = good;
  missing.erase("tele.seed");
  st = readProgress(missing, "x.safetensors", out);
  EXPECT_EQ(st.message(), "x.safetensors: metadata 'tele.seed' is missing or invalid");
}

TEST(Progress, CountersMustAgree) {
  Progress ok;
  ok.step = ok.samplerPosition = 10;
  ok.stageIndex = 1;
  ok.stageStep = 4;
  ok.tokens = 320;
  EXPECT_TRUE(checkProgress(ok, "x").isOk());
  EXPECT_TRUE(checkProgress(Progress{}, "x").isOk());
  auto message = [](Progress p) { return checkProgress(p, "x").message(); };
  Progress p = ok;
  p.samplerPosition = 11;
  EXPECT_EQ(message(p), "x: inconsistent progress metadata: sampler position 11 but step 10");
  p = ok;
  p.stageStep = 11;
  EXPECT_EQ(message(p), "x: inconsistent progress metadata: stage step 11 exceeds step 10");
  p = ok;
  p.stageIndex = 11;
  EXPECT_EQ(message(p), "x: inconsistent progress metadata: stage 11 after only 10 steps");
  p = ok;
  p.tokens = 0;
  EXPECT_EQ(message(p), "x: inconsistent progress metadata: 0 tokens in 10 steps");
  // readProgress applies the same checks.
  Metadata meta;
  p = ok;
  p.samplerPosition = 9;
  writeProgress(p, meta);
  EXPECT_EQ(readProgress(meta, "x", p).message(),
            "x: inconsistent progress metadata: sampler position 9 but step 10");
}
