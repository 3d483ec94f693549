//===- runtime/checkpoint/SafeTensors.h - safetensors checkpoints ---------===//
//
// This file declares the in-memory checkpoint (named tensors plus string
// metadata) and its reader and writer for the safetensors format, the format
// Hugging Face uses, so tele checkpoints load directly with Python's
// `safetensors` library and HF-exported weights load into tele.
//
// Format (https://github.com/huggingface/safetensors):
//
//   u64 LE  N, the header length in bytes
//   N bytes JSON object, UTF-8, padded at the end with spaces; the writer pads
//           so that 8 + N is a multiple of 8 (aligned tensor data):
//             { "<name>": { "dtype": "F32", "shape": [2, 3],
//                           "data_offsets": [begin, end] }, ...,
//               "__metadata__": { "<key>": "<string value>", ... } }
//   data    the tensors' bytes, row-major, little-endian; data_offsets are
//           relative to the start of this buffer, [begin, end) per tensor.
//
// Tensors must tile the data buffer exactly: no overlaps, no holes, no
// trailing bytes, and end - begin == numel * dtype size. The writer lays the
// tensors out in name order and omits "__metadata__" when there is none.
// Supported dtypes: F32 F64 BF16 F16 I32 I64 U8.
//
// Checksums: the writer records CRC-32C checksums (8 hex digits) in the
// metadata, so that a flipped byte anywhere is reported, not loaded; other
// readers see ordinary metadata and still load the file:
//   tele.crc32c.tensor.<name>  the tensor's data bytes
//   tele.crc32c.tensors        the tensor table: each name, dtype and shape
//   tele.crc32c.metadata       every other metadata entry (progress counters
//                              and the checksums above)
// A file with any tele.crc32c.* key must carry all of them (and its header
// padding must be spaces); readers verify them and strip them from the
// metadata they return. Files without them (older tele, other writers) load
// unchecked, with `checksummed` false.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_CHECKPOINT_SAFETENSORS_H
#define TELE_RUNTIME_CHECKPOINT_SAFETENSORS_H

#include "Status.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tele::ckpt {

using tele::rt::Status;

enum class DType { F32, F64, BF16, F16, I32, I64, U8 };

/// Bytes per element.
size_t dtypeSize(DType dtype);
/// The safetensors spelling ("F32", "BF16", ...).
const char *dtypeName(DType dtype);
/// Parses a safetensors dtype name; false if unknown/unsupported.
bool parseDType(std::string_view name, DType &out);

/// IEEE half and bfloat16 conversions (round to nearest even; NaN stays NaN).
float bf16ToFloat(uint16_t bits);
uint16_t floatToBf16(float value);
float f16ToFloat(uint16_t bits);
uint16_t floatToF16(float value);

/// One tensor: dtype, shape and its raw little-endian bytes, exactly as they
/// appear in the file's data buffer.
struct TensorRecord {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  /// Product of the dimensions (1 for a scalar, shape {}).
  int64_t numel() const;

  /// Replaces the tensor with `count` values stored as `storage`
  /// (F32/F64/BF16/F16; BF16/F16 round to nearest even). Fails, leaving the
  /// tensor unchanged, if count != product(newShape), a dim is negative or
  /// `storage` is not a floating-point dtype.
  Status setFloats(std::vector<int64_t> newShape, const float *data,
                   size_t count, DType storage = DType::F32);
  Status setFloats(std::vector<int64_t> newShape,
                   const std::vector<float> &data, DType storage = DType::F32) {
    return setFloats(std::move(newShape), data.data(), data.size(), storage);
  }
  Status setDoubles(std::vector<int64_t> newShape, const double *data,
                    size_t count, DType storage = DType::F64);
  Status setDoubles(std::vector<int64_t> newShape,
                    const std::vector<double> &data,
                    DType storage = DType::F64) {
    return setDoubles(std::move(newShape), data.data(), data.size(), storage);
  }
  /// Same for integers, stored as I32/I64/U8 (values must fit `storage`).
  Status setInts(std::vector<int64_t> newShape,
                 const std::vector<int64_t> &data, DType storage = DType::I64);

  /// Converts any floating-point dtype to float/double. Fails for integer
  /// dtypes or if bytes.size() does not match the shape.
  Status getFloats(std::vector<float> &out) const;
  Status getDoubles(std::vector<double> &out) const;
  /// Converts any integer dtype (I32/I64/U8) to int64.
  Status getInts(std::vector<int64_t> &out) const;
};

/// A checkpoint: tensors by name (std::map so iteration, and thus the file
/// layout, is deterministic) and free-form string metadata.
struct Checkpoint {
  std::map<std::string, TensorRecord> tensors;
  std::map<std::string, std::string> metadata;
  /// Set by readSafeTensors: the file carried checksums (all verified).
  bool checksummed = false;
};

/// Writes `ckpt` to `path` atomically: the file is written to
/// `path + ".tmp.<pid>"` in the same directory, fsynced, renamed over `path`
/// and the directory fsynced. On any failure the temporary file is removed and
/// an existing `path` is left untouched. Fails without writing if a tensor is
/// inconsistent (bytes.size() != numel * dtype size, negative dim, empty name
/// or the reserved name "__metadata__") or a name/metadata string is not
/// valid UTF-8. Records the checksums of the file comment (replacing any
/// tele.crc32c.* entries of `ckpt.metadata`).
Status writeSafeTensors(const std::string &path, const Checkpoint &ckpt);

/// Reads and fully validates `path` (see the file comment for the rules),
/// checksums included. On failure `out` is unchanged and the message names
/// the file and the offending tensor or offset.
Status readSafeTensors(const std::string &path, Checkpoint &out);

/// A tensor's entry in the header, without its data.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t dataBegin = 0; ///< data_offsets, relative to the data buffer.
  uint64_t dataEnd = 0;
};

struct SafeTensorsHeader {
  std::vector<TensorInfo> tensors; ///< Sorted by name.
  std::map<std::string, std::string> metadata; ///< Without tele.crc32c.*.
  uint64_t dataStart = 0; ///< File offset of the data buffer (8 + N).
  /// Whether the file carries checksums; then the header's own (metadata,
  /// tensor table) are verified and each tensor's is here, by name.
  bool checksummed = false;
  std::map<std::string, uint32_t> tensorChecksums;
};

/// Reads and validates only the header (names, dtypes, shapes, offsets and
/// their consistency with the file size, the metadata and tensor-table
/// checksums); does not read tensor data.
Status readSafeTensorsHeader(const std::string &path, SafeTensorsHeader &out);

/// Validates `path` like readSafeTensors, streaming the tensor data through
/// its checksums instead of loading it (for `tele check`); `out` describes
/// the file.
Status verifySafeTensors(const std::string &path, SafeTensorsHeader &out);

} // namespace tele::ckpt

#endif // TELE_RUNTIME_CHECKPOINT_SAFETENSORS_H
