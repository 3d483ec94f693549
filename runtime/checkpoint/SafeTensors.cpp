//===- runtime/checkpoint/SafeTensors.cpp - safetensors checkpoints -------===//
//
// This file implements safetensors reading and writing. The reader treats the
// file as untrusted: every field is type-checked, every size is computed with
// overflow checks, and the tensors must tile the data buffer exactly, so a
// truncated or corrupted checkpoint is reported precisely instead of loading
// garbage weights. Tensor bytes are copied as-is, which assumes a
// little-endian host (as every supported target is). The writer records
// CRC-32C checksums of every tensor, of the tensor table and of the metadata
// (see SafeTensors.h), and the reader verifies them, so corruption that
// keeps the structure valid (a flipped bit in a weight, a changed digit in a
// step counter, F32 turned into I32) is reported as well.
//
//===----------------------------------------------------------------------===//
#include "checkpoint/SafeTensors.h"

#include "AtomicFile.h"
#include "checkpoint/Crc32c.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <tuple>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(sizeof(float) == 4 && sizeof(double) == 8);

namespace tele::ckpt {

namespace {

using json = nlohmann::json;

/// Same bound as the reference implementation: a header this large is
/// certainly corrupt, and refusing it avoids a huge allocation.
constexpr uint64_t kMaxHeaderSize = 100'000'000;

uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

bool isFloatType(DType d) {
  return d == DType::F32 || d == DType::F64 || d == DType::BF16 ||
         d == DType::F16;
}

/// numel * elementSize with overflow detection; false on overflow or a
/// negative dimension.
bool byteSize(const std::vector<int64_t> &shape, size_t elementSize,
              uint64_t &out) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      return false;
  }
  return !__builtin_mul_overflow(n, static_cast<uint64_t>(elementSize), &out);
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Status checkShape(const std::vector<int64_t> &shape, size_t count,
                  DType storage, const char *what) {
  uint64_t bytes;
  if (!byteSize(shape, dtypeSize(storage), bytes))
    return Status::error(std::string(what) + ": invalid shape " +
                         shapeString(shape));
  uint64_t numel = bytes / dtypeSize(storage);
  if (numel != count)
    return Status::error(std::string(what) + ": shape " + shapeString(shape) +
                         " has " + std::to_string(numel) + " elements but " +
                         std::to_string(count) + " values were given");
  return Status::ok();
}

template <typename T> void store(uint8_t *dst, size_t i, T v) {
  std::memcpy(dst + i * sizeof(T), &v, sizeof(T));
}
template <typename T> T load(const uint8_t *src, size_t i) {
  T v;
  std::memcpy(&v, src + i * sizeof(T), sizeof(T));
  return v;
}

/// Converts floating-point values to `storage` bytes.
template <typename T>
std::vector<uint8_t> encodeFloats(const T *data, size_t count, DType storage) {
  std::vector<uint8_t> bytes(count * dtypeSize(storage));
  uint8_t *p = bytes.data();
  for (size_t i = 0; i < count; ++i) {
    switch (storage) {
    case DType::F32:
      store<float>(p, i, static_cast<float>(data[i]));
      break;
    case DType::F64:
      store<double>(p, i, static_cast<double>(data[i]));
      break;
    case DType::BF16:
      store<uint16_t>(p, i, floatToBf16(static_cast<float>(data[i])));
      break;
    case DType::F16:
      store<uint16_t>(p, i, floatToF16(static_cast<float>(data[i])));
      break;
    default:
      break;
    }
  }
  return bytes;
}

template <typename T>
Status decodeFloats(const TensorRecord &t, std::vector<T> &out) {
  if (!isFloatType(t.dtype))
    return Status::error(std::string("tensor has dtype ") + dtypeName(t.dtype) +
                         ", not a floating-point type");
  uint64_t bytes;
  if (!byteSize(t.shape, dtypeSize(t.dtype), bytes) || bytes != t.bytes.size())
    return Status::error("tensor of shape " + shapeString(t.shape) + " and " +
                         dtypeName(t.dtype) + " holds " +
                         std::to_string(t.bytes.size()) + " bytes");
  size_t n = bytes / dtypeSize(t.dtype);
  std::vector<T> result(n);
  const uint8_t *p = t.bytes.data();
  for (size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
    case DType::F32:
      result[i] = static_cast<T>(load<float>(p, i));
      break;
    case DType::F64:
      result[i] = static_cast<T>(load<double>(p, i));
      break;
    case DType::BF16:
      result[i] = static_cast<T>(bf16ToFloat(load<uint16_t>(p, i)));
      break;
    case DType::F16:
      result[i] = static_cast<T>(f16ToFloat(load<uint16_t>(p, i)));
      break;
    default:
      break;
    }
  }
  out = std::move(result);
  return Status::ok();
}

//===----------------------------------------------------------------------===//
// Checksums
//===----------------------------------------------------------------------===//

constexpr const char *kChecksumPrefix = "tele.crc32c.";
constexpr const char *kTensorChecksumPrefix = "tele.crc32c.tensor.";
constexpr const char *kTableChecksum = "tele.crc32c.tensors";
constexpr const char *kMetadataChecksum = "tele.crc32c.metadata";

bool startsWith(const std::string &s, const char *prefix) {
  return s.rfind(prefix, 0) == 0;
}

/// The tensor table's checksum: each tensor's name, dtype and shape in name
/// order. Offsets are left out (the tiling check covers them, and a tensor
/// moved elsewhere fails its data checksum), so a file re-laid-out by
/// another writer with the same metadata still verifies.
template <typename Entries, typename Fields>
uint32_t tableChecksum(const Entries &entries, Fields fields) {
  uint32_t crc = 0;
  for (const auto &entry : entries) {
    auto [name, dtype, shape] = fields(entry);
    std::string row = name + '\0' + dtypeName(dtype) + '\0';
    for (int64_t d : shape)
      row += std::to_string(d) + ',';
    row += '\0';
    crc = crc32cExtend(crc, row.data(), row.size());
  }
  return crc;
}

/// The metadata's checksum: every entry but kMetadataChecksum, in key order.
uint32_t metadataChecksum(const std::map<std::string, std::string> &metadata) {
  uint32_t crc = 0;
  for (const auto &[key, value] : metadata) {
    if (key == kMetadataChecksum)
      continue;
    std::string row = key + '\0' + value + '\0';
    crc = crc32cExtend(crc, row.data(), row.size());
  }
  return crc;
}

/// Parses the 8 lowercase hex digits that crc32cHex writes.
bool parseChecksum(const std::string &text, uint32_t &out) {
  if (text.size() != 8)
    return false;
  uint32_t value = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0)
      return false;
    value = value << 4 | uint32_t(digit);
  }
  out = value;
  return true;
}

/// Verifies the header's checksums (when the file has any) and moves them
/// out of the metadata. `text` is the raw header, for its padding.
Status verifyHeaderChecksums(const std::string &path, const std::string &text,
                             SafeTensorsHeader &header) {
  auto &meta = header.metadata;
  header.checksummed = std::any_of(meta.begin(), meta.end(), [](const auto &kv) {
    return startsWith(kv.first, kChecksumPrefix);
  });
  if (!header.checksummed)
    return Status::ok();
  auto recorded = [&](const std::string &key, uint32_t &out) {
    auto found = meta.find(key);
    if (found == meta.end())
      return Status::error(path + ": checksum '" + key + "' is missing");
    if (!parseChecksum(found->second, out))
      return Status::error(path + ": checksum '" + key + "' is not 8 hex digits");
    return Status::ok();
  };
  // JSON allows any whitespace, but tele pads with spaces only: anything
  // else after the closing brace is a changed byte.
  size_t last = text.find_last_not_of(' ');
  if (last == std::string::npos || text[last] != '}')
    return Status::error(path + ": header padding at file offset " +
                         std::to_string(8 + last) + " is not a space");
  uint32_t want;
  if (Status st = recorded(kMetadataChecksum, want); !st)
    return st;
  if (uint32_t have = metadataChecksum(meta); have != want)
    return Status::error(path + ": metadata checksum mismatch (crc32c " +
                         crc32cHex(have) + ", recorded " + crc32cHex(want) +
                         "): a metadata entry (progress counters or checksums) changed");
  if (Status st = recorded(kTableChecksum, want); !st)
    return st;
  uint32_t have = tableChecksum(header.tensors, [](const TensorInfo &t) {
    return std::make_tuple(t.name, t.dtype, t.shape);
  });
  if (have != want)
    return Status::error(path + ": tensor table checksum mismatch (crc32c " +
                         crc32cHex(have) + ", recorded " + crc32cHex(want) +
                         "): a tensor's name, dtype or shape changed");
  for (const TensorInfo &t : header.tensors) {
    uint32_t crc;
    if (Status st = recorded(kTensorChecksumPrefix + t.name, crc); !st)
      return st;
    header.tensorChecksums[t.name] = crc;
  }
  for (auto it = meta.begin(); it != meta.end();) {
    if (!startsWith(it->first, kChecksumPrefix)) {
      ++it;
      continue;
    }
    if (startsWith(it->first, kTensorChecksumPrefix) &&
        !header.tensorChecksums.count(it->first.substr(std::strlen(kTensorChecksumPrefix))))
      return Status::error(path + ": checksum '" + it->first + "' names no tensor of the file");
    it = meta.erase(it);
  }
  return Status::ok();
}

Status checkTensorChecksum(const std::string &path, const std::string &name,
                           uint32_t have, uint32_t want) {
  if (have == want)
    return Status::ok();
  return Status::error(path + ": tensor '" + name +
                       "': checksum mismatch (crc32c of its data " +
                       crc32cHex(have) + ", recorded " + crc32cHex(want) +
                       "): the file is corrupt");
}

//===----------------------------------------------------------------------===//
// Header parsing
//===----------------------------------------------------------------------===//

/// Reads exactly `size` bytes at `offset`; a short read means the file
/// shrank under us, reported as truncation.
Status preadAll(int fd, const std::string &path, void *dst, size_t size,
                uint64_t offset) {
  auto *p = static_cast<uint8_t *>(dst);
  while (size > 0) {
    ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Status::error(path + ": read error at offset " +
                           std::to_string(offset) + ": " +
                           std::strerror(errno));
    if (n == 0)
      return Status::error(path + ": unexpected end of file at offset " +
                           std::to_string(offset) + " (file truncated?)");
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::ok();
}

/// Opens `path` and returns its fd and size.
Status openForRead(const std::string &path, int &fd, uint64_t &size) {
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status::error(path + ": cannot open: " + std::strerror(errno));
  struct stat sb;
  if (::fstat(fd, &sb) != 0) {
    int e = errno;
    ::close(fd);
    fd = -1;
    return Status::error(path + ": cannot stat: " + std::strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    ::close(fd);
    fd = -1;
    return Status::error(path + ": not a regular file");
  }
  size = static_cast<uint64_t>(sb.st_size);
  return Status::ok();
}

/// Parses a non-negative JSON integer.
bool getU64(const json &j, uint64_t &out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

Status parseEntry(const std::string &path, const std::string &name,
                  const json &entry, TensorInfo &info) {
  auto err = [&](const std::string &what) {
    return Status::error(path + ": tensor '" + name + "': " + what);
  };
  if (!entry.is_object())
    return err("entry is not a JSON object");
  auto dt = entry.find("dtype");
  if (dt == entry.end())
    return err("missing \"dtype\"");
  if (!dt->is_string())
    return err("\"dtype\" is not a string");
  const std::string &dtName = dt->get_ref<const std::string &>();
  if (!parseDType(dtName, info.dtype))
    return err("unknown dtype '" + dtName + "'");

  auto sh = entry.find("shape");
  if (sh == entry.end())
    return err("missing \"shape\"");
  if (!sh->is_array())
    return err("\"shape\" is not an array");
  info.shape.clear();
  for (size_t i = 0; i < sh->size(); ++i) {
    const json &d = (*sh)[i];
    if (!d.is_number_integer())
      return err("shape[" + std::to_string(i) + "] is not an integer");
    if (d.is_number_unsigned()) {
      if (d.get<uint64_t>() >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return err("shape[" + std::to_string(i) + "] is too large");
      info.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
    } else {
      int64_t v = d.get<int64_t>();
      if (v < 0)
        return err("negative dimension " + std::to_string(v) + " in shape[" +
                   std::to_string(i) + "]");
      info.shape.push_back(v);
    }
  }

  auto off = entry.find("data_offsets");
  if (off == entry.end())
    return err("missing \"data_offsets\"");
  if (!off->is_array() || off->size() != 2)
    return err("\"data_offsets\" is not an array of two integers");
  if (!getU64((*off)[0], info.dataBegin) || !getU64((*off)[1], info.dataEnd))
    return err("\"data_offsets\" must hold two non-negative integers");
  if (info.dataEnd < info.dataBegin)
    return err("data_offsets end " + std::to_string(info.dataEnd) +
               " is before begin " + std::to_string(info.dataBegin));
  uint64_t expected;
  if (!byteSize(info.shape, dtypeSize(info.dtype), expected))
    return err("shape " + shapeString(info.shape) + " overflows");
  if (info.dataEnd - info.dataBegin != expected)
    return err("data_offsets [" + std::to_string(info.dataBegin) + ", " +
               std::to_string(info.dataEnd) + ") span " +
               std::to_string(info.dataEnd - info.dataBegin) +
               " bytes but shape " + shapeString(info.shape) + " of " + dtName +
               " needs " + std::to_string(expected));
  return Status::ok();
}

/// Reads and validates the header of an open file.
Status parseHeader(int fd, const std::string &path, uint64_t fileSize,
                   SafeTensorsHeader &out) {
  if (fileSize < 8)
    return Status::error(path + ": file is " + std::to_string(fileSize) +
                         " bytes, shorter than the 8-byte header length");
  uint8_t lenBytes[8];
  if (Status st = preadAll(fd, path, lenBytes, 8, 0); !st)
    return st;
  uint64_t headerLen = 0;
  for (int i = 0; i < 8; ++i)
    headerLen |= uint64_t(lenBytes[i]) << (8 * i);
  if (headerLen > fileSize - 8)
    return Status::error(path + ": header length " + std::to_string(headerLen) +
                         " exceeds the " + std::to_string(fileSize - 8) +
                         " bytes after the length field (file size " +
                         std::to_string(fileSize) + ")");
  if (headerLen > kMaxHeaderSize)
    return Status::error(path + ": header length " + std::to_string(headerLen) +
                         " exceeds the limit of " +
                         std::to_string(kMaxHeaderSize) + " bytes");
  std::string text(static_cast<size_t>(headerLen), '\0');
  if (Status st = preadAll(fd, path, text.data(), text.size(), 8); !st)
    return st;

  json header;
  try {
    header = json::parse(text);
  } catch (const json::parse_error &e) {
    // e.byte is 1-based within the header; report a file offset.
    return Status::error(path + ": header is not valid JSON (file offset " +
                         std::to_string(8 + (e.byte ? e.byte - 1 : 0)) +
                         "): " + e.what());
  } catch (const json::exception &e) {
    // e.g. out_of_range for a number literal that overflows a double.
    return Status::error(path + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object())
    return Status::error(path + ": header is not a JSON object");

  SafeTensorsHeader result;
  result.dataStart = 8 + headerLen;
  const uint64_t dataSize = fileSize - result.dataStart;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object())
        return Status::error(path + ": \"__metadata__\" is not a JSON object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          return Status::error(path + ": metadata value for '" + m.key() +
                               "' is not a string");
        result.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    TensorInfo info;
    info.name = it.key();
    if (info.name.empty())
      return Status::error(path + ": a tensor has an empty name");
    if (Status st = parseEntry(path, info.name, *it, info); !st)
      return st;
    if (info.dataEnd > dataSize)
      return Status::error(
          path + ": tensor '" + info.name + "': data_offsets end " +
          std::to_string(info.dataEnd) + " exceeds the data buffer of " +
          std::to_string(dataSize) + " bytes (file truncated?)");
    result.tensors.push_back(std::move(info));
  }
  // nlohmann::json objects iterate in key order, so tensors are sorted.

  // The tensors must tile [0, dataSize) exactly.
  std::vector<const TensorInfo *> byOffset;
  for (const TensorInfo &t : result.tensors)
    byOffset.push_back(&t);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const TensorInfo *a, const TensorInfo *b) {
              return a->dataBegin != b->dataBegin ? a->dataBegin < b->dataBegin
                                                  : a->dataEnd < b->dataEnd;
            });
  uint64_t covered = 0;
  const TensorInfo *prev = nullptr;
  for (const TensorInfo *t : byOffset) {
    if (t->dataBegin < covered)
      return Status::error(path + ": tensors '" + prev->name + "' [" +
                           std::to_string(prev->dataBegin) + ", " +
                           std::to_string(prev->dataEnd) + ") and '" + t->name +
                           "' [" + std::to_string(t->dataBegin) + ", " +
                           std::to_string(t->dataEnd) + ") overlap");
    if (t->dataBegin > covered)
      return Status::error(
          path + ": data buffer bytes [" + std::to_string(covered) + ", " +
          std::to_string(t->dataBegin) +
          ") belong to no tensor (hole before '" + t->name + "')");
    covered = t->dataEnd;
    prev = t;
  }
  if (covered != dataSize)
    return Status::error(path + ": data buffer is " + std::to_string(dataSize) +
                         " bytes but tensors cover " + std::to_string(covered) +
                         " (" + std::to_string(dataSize - covered) +
                         " trailing bytes)");
  if (Status st = verifyHeaderChecksums(path, text, result); !st)
    return st;
  out = std::move(result);
  return Status::ok();
}

} // namespace

//===----------------------------------------------------------------------===//
// DType and conversions
//===----------------------------------------------------------------------===//

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::BF16:
  case DType::F16:
    return 2;
  case DType::U8:
    return 1;
  }
  return 1;
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::BF16:
    return "BF16";
  case DType::F16:
    return "F16";
  case DType::I32:
    return "I32";
  case DType::I64:
    return "I64";
  case DType::U8:
    return "U8";
  }
  return "?";
}

bool parseDType(std::string_view name, DType &out) {
  static constexpr DType all[] = {DType::F32, DType::F64, DType::BF16,
                                  DType::F16, DType::I32, DType::I64,
                                  DType::U8};
  for (DType d : all)
    if (name == dtypeName(d)) {
      out = d;
      return true;
    }
  return false;
}

float bf16ToFloat(uint16_t bits) { return bitsFloat(uint32_t(bits) << 16); }

uint16_t floatToBf16(float value) {
  uint32_t x = floatBits(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) // NaN: keep sign, force quiet
    return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7fffu + ((x >> 16) & 1); // round to nearest even
  return static_cast<uint16_t>(x >> 16);
}

float f16ToFloat(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000) << 16;
  uint32_t exp = (bits >> 10) & 0x1f;
  uint32_t mant = bits & 0x3ff;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in float.
    float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exp == 31)
    return bitsFloat(sign | 0x7f800000u | (mant << 13));
  return bitsFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

uint16_t floatToF16(float value) {
  uint32_t x = floatBits(value);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) // NaN: keep payload top bits, force quiet
    return sign | 0x7e00 | static_cast<uint16_t>((ax >> 13) & 0x3ff);
  if (ax >= 0x47800000u) // >= 2^16 (and inf): overflows to inf
    return sign | 0x7c00;
  if (ax >= 0x38800000u) { // normal half range, >= 2^-14
    uint32_t mant = ax & 0x7fffffu;
    uint32_t exp = (ax >> 23) - 127 + 15;
    uint32_t h = (exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
      ++h; // a carry into the exponent is correct, up to inf
    return static_cast<uint16_t>(sign | h);
  }
  if (ax < 0x33000000u) // < 2^-25 rounds to (signed) zero; 2^-25 ties to 0
    return sign;
  // Subnormal half: count units of 2^-24.
  uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
  int shift = 126 - static_cast<int>(ax >> 23); // 14..24
  uint32_t h = mant >> shift;
  uint32_t rem = mant & ((1u << shift) - 1);
  uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (h & 1)))
    ++h; // may carry into the smallest normal, which is correct
  return static_cast<uint16_t>(sign | h);
}

//===----------------------------------------------------------------------===//
// TensorRecord
//===----------------------------------------------------------------------===//

int64_t TensorRecord::numel() const {
  // A zero dimension anywhere makes the tensor empty, however large the
  // others (whose product alone may not fit in 64 bits).
  if (std::find(shape.begin(), shape.end(), 0) != shape.end())
    return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Status TensorRecord::setFloats(std::vector<int64_t> newShape, const float *data,
                               size_t count, DType storage) {
  if (!isFloatType(storage))
    return Status::error(std::string("setFloats: storage dtype ") +
                         dtypeName(storage) + " is not floating-point");
  if (Status st = checkShape(newShape, count, storage, "setFloats"); !st)
    return st;
  bytes = encodeFloats(data, count, storage);
  dtype = storage;
  shape = std::move(newShape);
  return Status::ok();
}

Status TensorRecord::setDoubles(std::vector<int64_t> newShape,
                                const double *data, size_t count,
                                DType storage) {
  if (!isFloatType(storage))
    return Status::error(std::string("setDoubles: storage dtype ") +
                         dtypeName(storage) + " is not floating-point");
  if (Status st = checkShape(newShape, count, storage, "setDoubles"); !st)
    return st;
  bytes = encodeFloats(data, count, storage);
  dtype = storage;
  shape = std::move(newShape);
  return Status::ok();
}

Status TensorRecord::setInts(std::vector<int64_t> newShape,
                             const std::vector<int64_t> &data, DType storage) {
  if (storage != DType::I32 && storage != DType::I64 && storage != DType::U8)
    return Status::error(std::string("setInts: storage dtype ") +
                         dtypeName(storage) + " is not an integer type");
  if (Status st = checkShape(newShape, data.size(), storage, "setInts"); !st)
    return st;
  std::vector<uint8_t> out(data.size() * dtypeSize(storage));
  for (size_t i = 0; i < data.size(); ++i) {
    int64_t v = data[i];
    bool fits = storage == DType::I64 ||
                (storage == DType::I32 && v >= INT32_MIN && v <= INT32_MAX) ||
                (storage == DType::U8 && v >= 0 && v <= 255);
    if (!fits)
      return Status::error("setInts: value " + std::to_string(v) + " at " +
                           std::to_string(i) + " does not fit " +
                           dtypeName(storage));
    if (storage == DType::I64)
      store<int64_t>(out.data(), i, v);
    else if (storage == DType::I32)
      store<int32_t>(out.data(), i, static_cast<int32_t>(v));
    else
      out[i] = static_cast<uint8_t>(v);
  }
  bytes = std::move(out);
  dtype = storage;
  shape = std::move(newShape);
  return Status::ok();
}

Status TensorRecord::getFloats(std::vector<float> &out) const {
  return decodeFloats(*this, out);
}

Status TensorRecord::getDoubles(std::vector<double> &out) const {
  return decodeFloats(*this, out);
}

Status TensorRecord::getInts(std::vector<int64_t> &out) const {
  if (dtype != DType::I32 && dtype != DType::I64 && dtype != DType::U8)
    return Status::error(std::string("tensor has dtype ") + dtypeName(dtype) +
                         ", not an integer type");
  uint64_t size;
  if (!byteSize(shape, dtypeSize(dtype), size) || size != bytes.size())
    return Status::error("tensor of shape " + shapeString(shape) + " and " +
                         dtypeName(dtype) + " holds " +
                         std::to_string(bytes.size()) + " bytes");
  size_t n = size / dtypeSize(dtype);
  std::vector<int64_t> result(n);
  for (size_t i = 0; i < n; ++i) {
    if (dtype == DType::I64)
      result[i] = load<int64_t>(bytes.data(), i);
    else if (dtype == DType::I32)
      result[i] = load<int32_t>(bytes.data(), i);
    else
      result[i] = bytes[i];
  }
  out = std::move(result);
  return Status::ok();
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Status writeSafeTensors(const std::string &path, const Checkpoint &ckpt) {
  auto err = [&](const std::string &what) {
    return Status::error(path + ": " + what);
  };
  json header = json::object();
  uint64_t offset = 0;
  for (const auto &[name, t] : ckpt.tensors) {
    if (name.empty())
      return err("cannot write a tensor with an empty name");
    if (name == "__metadata__")
      return err("'__metadata__' is reserved and cannot name a tensor");
    uint64_t size;
    if (!byteSize(t.shape, dtypeSize(t.dtype), size))
      return err("tensor '" + name + "' has invalid shape " +
                 shapeString(t.shape));
    if (size != t.bytes.size())
      return err("tensor '" + name + "' of shape " + shapeString(t.shape) +
                 " and dtype " + dtypeName(t.dtype) + " needs " +
                 std::to_string(size) + " bytes but holds " +
                 std::to_string(t.bytes.size()));
    header[name] = {{"dtype", dtypeName(t.dtype)},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::map<std::string, std::string> metadata;
  for (const auto &[key, value] : ckpt.metadata)
    if (!startsWith(key, kChecksumPrefix))
      metadata[key] = value;
  for (const auto &[name, t] : ckpt.tensors)
    metadata[kTensorChecksumPrefix + name] =
        crc32cHex(crc32c(t.bytes.data(), t.bytes.size()));
  metadata[kTableChecksum] = crc32cHex(tableChecksum(ckpt.tensors, [](const auto &entry) {
    return std::make_tuple(entry.first, entry.second.dtype, entry.second.shape);
  }));
  metadata[kMetadataChecksum] = crc32cHex(metadataChecksum(metadata));
  header["__metadata__"] = metadata;

  std::string text;
  try {
    text = header.dump();
  } catch (const json::type_error &e) {
    // dump() validates UTF-8 in keys and strings (error 316).
    return err("tensor name or metadata is not valid UTF-8: " +
               std::string(e.what()));
  }
  // Pad so the data buffer starts 8-byte aligned in the file.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t lenBytes[8];
  for (int i = 0; i < 8; ++i)
    lenBytes[i] = static_cast<uint8_t>(uint64_t(text.size()) >> (8 * i));

  tele::rt::AtomicFileWriter file;
  if (Status st = file.open(path); !st)
    return st;
  if (Status st = file.write(lenBytes, 8); !st)
    return st;
  if (Status st = file.write(text.data(), text.size()); !st)
    return st;
  for (const auto &entry : ckpt.tensors) {
    const std::vector<uint8_t> &b = entry.second.bytes;
    if (Status st = file.write(b.data(), b.size()); !st)
      return st;
  }
  return file.commit();
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

Status readSafeTensorsHeader(const std::string &path, SafeTensorsHeader &out) {
  int fd;
  uint64_t size;
  if (Status st = openForRead(path, fd, size); !st)
    return st;
  Status st = parseHeader(fd, path, size, out);
  ::close(fd);
  return st;
}

Status readSafeTensors(const std::string &path, Checkpoint &out) {
  int fd;
  uint64_t size;
  if (Status st = openForRead(path, fd, size); !st)
    return st;
  SafeTensorsHeader header;
  Status st = parseHeader(fd, path, size, header);
  Checkpoint result;
  for (size_t i = 0; st && i < header.tensors.size(); ++i) {
    TensorInfo &info = header.tensors[i];
    TensorRecord rec;
    rec.dtype = info.dtype;
    rec.shape = std::move(info.shape);
    rec.bytes.resize(static_cast<size_t>(info.dataEnd - info.dataBegin));
    st = preadAll(fd, path, rec.bytes.data(), rec.bytes.size(),
                  header.dataStart + info.dataBegin);
    if (st && header.checksummed)
      st = checkTensorChecksum(path, info.name,
                               crc32c(rec.bytes.data(), rec.bytes.size()),
                               header.tensorChecksums.at(info.name));
    result.tensors.emplace(std::move(info.name), std::move(rec));
  }
  ::close(fd);
  if (!st)
    return st;
  result.metadata = std::move(header.metadata);
  result.checksummed = header.checksummed;
  out = std::move(result);
  return Status::ok();
}

Status verifySafeTensors(const std::string &path, SafeTensorsHeader &out) {
  int fd;
  uint64_t size;
  if (Status st = openForRead(path, fd, size); !st)
    return st;
  SafeTensorsHeader header;
  Status st = parseHeader(fd, path, size, header);
  // Bounded memory whatever the tensor sizes.
  std::vector<uint8_t> chunk(header.checksummed ? size_t(1) << 20 : 0);
  for (size_t i = 0; st && header.checksummed && i < header.tensors.size(); ++i) {
    const TensorInfo &info = header.tensors[i];
    uint32_t crc = 0;
    for (uint64_t at = info.dataBegin; st && at < info.dataEnd;) {
      size_t n = size_t(std::min<uint64_t>(chunk.size(), info.dataEnd - at));
      st = preadAll(fd, path, chunk.data(), n, header.dataStart + at);
      crc = crc32cExtend(crc, chunk.data(), n);
      at += n;
    }
    if (st)
      st = checkTensorChecksum(path, info.name, crc, header.tensorChecksums.at(info.name));
  }
  ::close(fd);
  if (!st)
    return st;
  out = std::move(header);
  return Status::ok();
}

} // namespace tele::ckpt
