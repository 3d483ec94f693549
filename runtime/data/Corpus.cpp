//===- runtime/data/Corpus.cpp - Text corpus to train/val token files -----===//
//
// This file implements corpus preparation. Inputs are processed one file at a
// time and tokens are streamed to the two output writers, so memory use is
// bounded by the largest input file rather than by the corpus.
//
//===----------------------------------------------------------------------===//
#include "data/Corpus.h"

#include "data/TokenFile.h"
#include "data/Tokenizer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace tele::data {

namespace {

/// Reads a whole file; fails with a one-line message naming it.
Status readWholeFile(const std::string &path, std::string &out) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return Status::error(path + ": cannot open: " + std::strerror(errno));
  out.clear();
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    out.append(buf, n);
  // fread also "fails" on a directory (EISDIR), which lands here.
  bool failed = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (failed)
    return Status::error(path + ": read error: " + std::strerror(err));
  return Status::ok();
}

std::string formatFraction(double f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", f);
  return buf;
}

bool isBlank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' &&
        c != '\f')
      return false;
  return true;
}

} // namespace

std::string stripAnsiEscapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0, n = text.size();
  while (i < n) {
    char c = text[i];
    if (c != '\x1b') {
      out.push_back(c);
      ++i;
      continue;
    }
    ++i; // the ESC itself
    if (i < n && text[i] == '[') {
      ++i;
      while (i < n && text[i] >= 0x30 && text[i] <= 0x3F)
        ++i;
      while (i < n && text[i] >= 0x20 && text[i] <= 0x2F)
        ++i;
      // fortunes-zh has "\x1b[;\x1b[34;1m": a CSI cut short by the next ESC.
      // Its consumed bytes are dropped and the next ESC starts afresh.
      if (i < n && text[i] >= 0x40 && text[i] <= 0x7E)
        ++i;
    }
  }
  return out;
}

std::vector<std::string> splitFortunes(std::string_view text) {
  std::vector<std::string> docs;
  std::string current;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    size_t end = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view line = text.substr(pos, end - pos);
    std::string_view body = line;
    if (!body.empty() && body.back() == '\n')
      body.remove_suffix(1);
    if (!body.empty() && body.back() == '\r')
      body.remove_suffix(1);
    if (body == "%") {
      docs.push_back(std::move(current));
      current.clear();
    } else {
      current.append(line);
    }
    pos = end;
  }
  if (!current.empty())
    docs.push_back(std::move(current));
  return docs;
}

Status prepareCorpus(const std::vector<std::string> &inputFiles,
                     const CorpusOptions &opts, const std::string &trainOut,
                     const std::string &valOut, CorpusStats *stats) {
  if (!(opts.valFraction > 0.0 && opts.valFraction <= 1.0))
    return Status::error("corpus: valFraction must be in (0, 1], got " +
                         formatFraction(opts.valFraction));
  if (inputFiles.empty())
    return Status::error("corpus: no input files");
  if (trainOut == valOut)
    return Status::error("corpus: training and validation outputs are the "
                         "same file '" +
                         trainOut + "'");
  const uint64_t period =
      static_cast<uint64_t>(std::llround(1.0 / opts.valFraction));

  TokenFileWriter train, val;
  if (Status st = train.open(trainOut, kVocabSize); !st)
    return st;
  if (Status st = val.open(valOut, kVocabSize); !st)
    return st;

  CorpusStats s;
  std::string raw;
  std::vector<uint32_t> ids;
  for (const std::string &path : inputFiles) {
    if (Status st = readWholeFile(path, raw); !st)
      return st;
    // Offsets refer to the file as it is on disk, before escape stripping.
    size_t bad = 0;
    if (!validateUtf8(raw, &bad))
      return Status::error(path + ": invalid UTF-8 at byte offset " +
                           std::to_string(bad));
    std::vector<std::string> docs;
    if (opts.format == CorpusFormat::Fortune)
      docs = splitFortunes(stripAnsiEscapes(raw));
    else
      docs.push_back(std::move(raw));
    for (const std::string &doc : docs) {
      if (isBlank(doc))
        continue;
      bool toVal = s.documents % period == period - 1;
      ids = encode(doc);
      ids.push_back(kEos);
      TokenFileWriter &w = toVal ? val : train;
      if (Status st = w.append(ids); !st)
        return st;
      ++s.documents;
      s.bytes += doc.size();
      (toVal ? s.valDocuments : s.trainDocuments) += 1;
      (toVal ? s.valTokens : s.trainTokens) += ids.size();
    }
  }

  if (s.trainDocuments == 0 || s.valDocuments == 0)
    return Status::error("corpus: " + std::to_string(s.documents) +
                         " documents give " + std::to_string(s.trainDocuments) +
                         " training and " + std::to_string(s.valDocuments) +
                         " validation documents with valFraction " +
                         formatFraction(opts.valFraction) +
                         "; both splits must be non-empty");
  if (Status st = train.commit(); !st)
    return st;
  if (Status st = val.commit(); !st)
    return st;
  if (stats)
    *stats = s;
  return Status::ok();
}

} // namespace tele::data
