//===- runtime/Status.h - Success-or-message result for the runtime -------===//
//
// This file defines tele::rt::Status, the result type of every runtime
// operation that can fail on bad input (a corrupt checkpoint, a truncated
// token file, a missing directory). The runtime never aborts or asserts on
// such input: a training driver must be able to print one precise line and
// exit cleanly, or skip a bad file and go on.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_STATUS_H
#define TELE_RUNTIME_STATUS_H

#include <string>
#include <utility>

namespace tele::rt {

/// Either success or a one-line, human-readable error message. Messages name
/// the file (and byte offset where one exists) so that they are actionable
/// without a debugger. [[nodiscard]] because silently dropping an error from a
/// checkpoint write is how training runs lose their state.
class [[nodiscard]] Status {
public:
  /// Success. Also what a default-constructed Status is, so that an output
  /// parameter can start out "ok" and be overwritten.
  Status() = default;

  static Status ok() { return Status(); }
  static Status error(std::string message) {
    Status s;
    s.failed_ = true;
    s.message_ = std::move(message);
    return s;
  }

  /// True on success; `if (!st) return st;` propagates an error.
  explicit operator bool() const { return !failed_; }
  bool isOk() const { return !failed_; }

  /// Empty on success.
  const std::string &message() const { return message_; }

private:
  bool failed_ = false;
  std::string message_;
};

} // namespace tele::rt

#endif // TELE_RUNTIME_STATUS_H
