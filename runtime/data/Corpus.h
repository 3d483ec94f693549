//===- runtime/data/Corpus.h - Text corpus to train/val token files -------===//
//
// This file declares corpus preparation: reading UTF-8 text files, splitting
// them into documents, tokenizing with the byte-level tokenizer and writing a
// training and a validation token file (TokenFile.h).
//
// Documents. In `Plain` format each input file is one document. In `Fortune`
// format (the fortune(6) database layout, e.g. Debian's fortunes-zh) documents
// are separated by lines consisting only of "%" (a trailing "\r" is
// tolerated), and ANSI terminal escape sequences such as "\x1b[32m" ...
// "\x1b[m", which fortunes-zh uses for colour, are removed. In both formats a
// document that is empty or only whitespace is skipped (it would only teach
// the model to emit <eos>). Each document is encoded as its bytes followed by
// <eos>.
//
// Train/validation split. Documents are numbered i = 0, 1, 2, ... across all
// input files in order (skipped documents get no number). With
// n = round(1 / valFraction), document i goes to validation iff
// i % n == n - 1, otherwise to training. The rule is deterministic and
// hash-free, so the split is reproducible across runs and machines and is
// stable when files are appended; it spreads validation documents evenly
// through the corpus.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_DATA_CORPUS_H
#define TELE_RUNTIME_DATA_CORPUS_H

#include "Status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tele::data {

using tele::rt::Status;

enum class CorpusFormat {
  Plain,   ///< One document per input file.
  Fortune, ///< "%"-line separated documents, ANSI escapes stripped.
};

struct CorpusOptions {
  CorpusFormat format = CorpusFormat::Plain;
  /// Fraction of documents for validation, in (0, 1]; see the split rule.
  double valFraction = 0.05;
};

struct CorpusStats {
  uint64_t documents = 0; ///< Documents kept (train + val).
  uint64_t bytes = 0;     ///< UTF-8 bytes in kept documents.
  uint64_t trainDocuments = 0;
  uint64_t valDocuments = 0;
  uint64_t trainTokens = 0; ///< Including one <eos> per document.
  uint64_t valTokens = 0;
};

/// Removes ANSI escape sequences: CSI sequences (ESC '[' parameter bytes
/// 0x30-0x3F, intermediate bytes 0x20-0x2F, final byte 0x40-0x7E; an
/// unterminated one is removed up to where it stops matching) and any other
/// lone ESC. Only ASCII bytes are removed, so valid UTF-8 stays valid.
std::string stripAnsiEscapes(std::string_view text);

/// Splits fortune-format text into documents (not yet filtered for
/// emptiness). Each document keeps its lines' trailing newlines.
std::vector<std::string> splitFortunes(std::string_view text);

/// Prepares `trainOut` and `valOut` from `inputFiles` (see the file comment).
/// Both outputs are streamed to temporary files and renamed into place only
/// after every input was read and both splits are known to be non-empty: on
/// an input error (unreadable file, invalid UTF-8, an empty split) neither
/// output is created or modified. `stats` may be null.
Status prepareCorpus(const std::vector<std::string> &inputFiles,
                     const CorpusOptions &opts, const std::string &trainOut,
                     const std::string &valOut, CorpusStats *stats);

} // namespace tele::data

#endif // TELE_RUNTIME_DATA_CORPUS_H
