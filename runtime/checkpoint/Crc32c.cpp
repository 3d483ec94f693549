//===- runtime/checkpoint/Crc32c.cpp - CRC-32C checksums ------------------===//
//
// This file implements CRC-32C with the SSE4.2 crc32 instruction where the
// CPU has it (about 20 GB/s, so checking a multi-gigabyte checkpoint costs
// less than reading it) and a slicing-by-8 table otherwise. Both compute the
// reflected polynomial 0x82F63B78 with the usual pre- and post-inversion.
//
//===----------------------------------------------------------------------===//
#include "checkpoint/Crc32c.h"

#include <array>
#include <cstdio>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace tele::ckpt {

namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

/// table[k][b]: the CRC of byte b followed by k zero bytes.
struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  Tables() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t c = b;
      for (int i = 0; i < 8; ++i)
        c = (c >> 1) ^ (kPolynomial & (0u - (c & 1u)));
      t[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; ++b)
      for (int k = 1; k < 8; ++k)
        t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
};

uint32_t extendTable(uint32_t crc, const uint8_t *p, size_t n) {
  static const Tables tables;
  const auto &t = tables.t;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8); // little-endian host (see SafeTensors.cpp)
    word ^= crc;
    crc = t[7][word & 0xff] ^ t[6][(word >> 8) & 0xff] ^
          t[5][(word >> 16) & 0xff] ^ t[4][(word >> 24) & 0xff] ^
          t[3][(word >> 32) & 0xff] ^ t[2][(word >> 40) & 0xff] ^
          t[1][(word >> 48) & 0xff] ^ t[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n--)
    crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extendHardware(uint32_t crc,
                                                          const uint8_t *p,
                                                          size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--)
    c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
#endif

} // namespace

uint32_t crc32cExtend(uint32_t crc, const void *data, size_t size) {
  const auto *p = static_cast<const uint8_t *>(data);
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  crc = hardware ? extendHardware(crc, p, size) : extendTable(crc, p, size);
#else
  crc = extendTable(crc, p, size);
#endif
  return ~crc;
}

std::string crc32cHex(uint32_t crc) {
  char text[9];
  std::snprintf(text, sizeof(text), "%08x", crc);
  return text;
}

} // namespace tele::ckpt
