//===- runtime/data/Tokenizer.h - Byte-level tokenizer --------------------===//
//
// This file declares the byte-level tokenizer used by every tele model: token
// ids 0..255 are the raw bytes of the UTF-8 text, followed by four special
// tokens. Byte-level keeps the vocabulary tiny (so the embedding and LM head
// stay small for the two-core demo), handles any script (Chinese included)
// without a trained merge table, and makes encode/decode trivially lossless.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_DATA_TOKENIZER_H
#define TELE_RUNTIME_DATA_TOKENIZER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tele::data {

/// Special token ids, directly after the 256 byte ids.
inline constexpr uint32_t kBos = 256; ///< `<bos>`: start of a document.
inline constexpr uint32_t kEos = 257; ///< `<eos>`: end of a document.
inline constexpr uint32_t kPad = 258; ///< `<pad>`: padding, never trained on.
inline constexpr uint32_t kUnk = 259; ///< `<unk>`: reserved (bytes cover all).
inline constexpr uint32_t kVocabSize = 260;

/// Encodes `text` as one token per byte. Never emits special tokens: callers
/// add `<bos>`/`<eos>` where the data format wants them.
std::vector<uint32_t> encode(std::string_view text);

/// Decodes ids back to bytes. Special tokens are rendered as their names
/// ("<eos>"); ids >= kVocabSize (only possible from a corrupt source) are
/// rendered as "<unk>" rather than rejected, because decode is used to show
/// model samples and must not fail.
std::string decode(const uint32_t *ids, size_t count);
std::string decode(const std::vector<uint32_t> &ids);

/// The name of a special token ("<bos>", ...), or nullptr for a byte id or an
/// out-of-range id.
const char *specialTokenName(uint32_t id);

/// Strict UTF-8 validation (RFC 3629): rejects overlong encodings, UTF-16
/// surrogates (U+D800..U+DFFF), code points above U+10FFFF and truncated
/// sequences. On failure returns false and, if `badOffset` is non-null, stores
/// the byte offset of the first byte of the offending sequence.
bool validateUtf8(std::string_view text, size_t *badOffset);

} // namespace tele::data

#endif // TELE_RUNTIME_DATA_TOKENIZER_H
