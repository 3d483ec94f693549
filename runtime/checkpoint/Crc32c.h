//===- runtime/checkpoint/Crc32c.h - CRC-32C checksums ----------*- C++ -*-===//
//
// This file declares CRC-32C (Castagnoli, the checksum of iSCSI, ext4 and
// many storage formats), with which checkpoints record each tensor, their
// tensor table and their metadata. It lives in the runtime because the
// runtime must build without LLVM; it detects every burst of up to 32 bits,
// so every single-byte corruption.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_CHECKPOINT_CRC32C_H
#define TELE_RUNTIME_CHECKPOINT_CRC32C_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace tele::ckpt {

/// Extends `crc` (the checksum of the bytes so far, 0 for none) by `size`
/// bytes: crc32c(a + b) == crc32cExtend(crc32cExtend(0, a), b).
uint32_t crc32cExtend(uint32_t crc, const void *data, size_t size);

inline uint32_t crc32c(const void *data, size_t size) {
  return crc32cExtend(0, data, size);
}

/// The checksum as 8 lowercase hex digits, as checkpoints record it.
std::string crc32cHex(uint32_t crc);

} // namespace tele::ckpt

#endif // TELE_RUNTIME_CHECKPOINT_CRC32C_H
