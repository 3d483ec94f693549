//===- runtime/data/Tokenizer.cpp - Byte-level tokenizer ------------------===//
//
// This file implements the byte-level tokenizer and the strict UTF-8
// validator that corpus preparation uses to reject mis-encoded input early
// (a Latin-1 file would otherwise train the model on garbage bytes).
//
//===----------------------------------------------------------------------===//
#include "data/Tokenizer.h"

namespace tele::data {

std::vector<uint32_t> encode(std::string_view text) {
  std::vector<uint32_t> ids;
  ids.reserve(text.size());
  for (char c : text)
    ids.push_back(static_cast<uint8_t>(c));
  return ids;
}

const char *specialTokenName(uint32_t id) {
  switch (id) {
  case kBos:
    return "<bos>";
  case kEos:
    return "<eos>";
  case kPad:
    return "<pad>";
  case kUnk:
    return "<unk>";
  default:
    return nullptr;
  }
}

std::string decode(const uint32_t *ids, size_t count) {
  std::string out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    uint32_t id = ids[i];
    if (id < 256) {
      out.push_back(static_cast<char>(static_cast<uint8_t>(id)));
    } else if (const char *name = specialTokenName(id)) {
      out += name;
    } else {
      out += "<unk>";
    }
  }
  return out;
}

std::string decode(const std::vector<uint32_t> &ids) {
  return decode(ids.data(), ids.size());
}

bool validateUtf8(std::string_view text, size_t *badOffset) {
  const auto *s = reinterpret_cast<const uint8_t *>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  auto fail = [&](size_t at) {
    if (badOffset)
      *badOffset = at;
    return false;
  };
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Length and the allowed range of the second byte (which is where
    // overlongs, surrogates and > U+10FFFF are excluded, per RFC 3629).
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if (c >= 0xE1 && c <= 0xEC) {
      len = 3;
    } else if (c == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (c >= 0xEE && c <= 0xEF) {
      len = 3;
    } else if (c == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else {
      return fail(i); // continuation byte, 0xC0/0xC1 or 0xF5..0xFF
    }
    if (n - i < len)
      return fail(i);
    if (s[i + 1] < lo || s[i + 1] > hi)
      return fail(i);
    for (size_t k = 2; k < len; ++k)
      if (s[i + k] < 0x80 || s[i + k] > 0xBF)
        return fail(i);
    i += len;
  }
  return true;
}

} // namespace tele::data
