//===- runtime/AtomicFile.h - Crash-safe whole-file replacement -----------===//
//
// This file defines tele::rt::AtomicFileWriter, shared by the token-file
// writer (tele_data) and the safetensors writer (tele_checkpoint). Both must
// never leave a half-written file under the final name: a training run that
// is killed while saving must still find the previous checkpoint intact. The
// writer therefore streams into `path + ".tmp.<pid>"` in the same directory
// (rename is only atomic within one filesystem), fsyncs it, renames it over
// the target and fsyncs the directory so the rename itself is durable. Any
// failure, or destruction before commit(), removes the temporary file and
// leaves an existing target untouched.
//
// The temporary name depends only on the path and the process id, so a
// process must not write the same path from two writers at once. It is
// header-only so that the two static libraries can share it without a third
// library target.
//
// Every file-system call goes through FileOps, a seam that tests replace
// (ScopedFileOps) to record the order of the calls or to make one of them
// fail; durability depends on that order, which no end-to-end test observes.
//
//===----------------------------------------------------------------------===//
#ifndef TELE_RUNTIME_ATOMICFILE_H
#define TELE_RUNTIME_ATOMICFILE_H

#include "Status.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tele::rt {

/// The POSIX calls AtomicFileWriter makes. The default forwards to the
/// system; tests derive from it to record or fail individual calls.
class FileOps {
public:
  virtual ~FileOps() = default;
  virtual int open(const char *path, int flags, mode_t mode) {
    return ::open(path, flags, mode);
  }
  virtual ssize_t pwrite(int fd, const void *data, size_t size, off_t offset) {
    return ::pwrite(fd, data, size, offset);
  }
  virtual int fsync(int fd) { return ::fsync(fd); }
  virtual int close(int fd) { return ::close(fd); }
  virtual int rename(const char *from, const char *to) {
    return ::rename(from, to);
  }
  virtual int unlink(const char *path) { return ::unlink(path); }

  /// The operations in effect: the system's unless a ScopedFileOps is alive.
  /// (An inline function's static is one object per program, shared by the
  /// static libraries that include this header.)
  static FileOps *&current() {
    static FileOps system;
    static FileOps *ops = &system;
    return ops;
  }
};

/// Routes every AtomicFileWriter of the process through `ops` while alive.
class ScopedFileOps {
public:
  explicit ScopedFileOps(FileOps &ops) : saved_(FileOps::current()) {
    FileOps::current() = &ops;
  }
  ~ScopedFileOps() { FileOps::current() = saved_; }
  ScopedFileOps(const ScopedFileOps &) = delete;
  ScopedFileOps &operator=(const ScopedFileOps &) = delete;

private:
  FileOps *saved_;
};

class AtomicFileWriter {
public:
  AtomicFileWriter() = default;
  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;
  ~AtomicFileWriter() { abandon(); }

  /// The temporary name used for `path` by this process. Exposed so tests can
  /// provoke a failure to create it.
  static std::string tempPathFor(const std::string &path) {
    return path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  }

  /// Creates (truncating) the temporary file next to `path`.
  Status open(const std::string &path) {
    abandon();
    path_ = path;
    tempPath_ = tempPathFor(path);
    fd_ = ops().open(tempPath_.c_str(),
                     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      return Status::error("cannot create temporary file '" + tempPath_ +
                           "' for '" + path_ + "': " + std::strerror(errno));
    buffer_.clear();
    buffer_.reserve(kBufferSize);
    offset_ = 0;
    return Status::ok();
  }

  /// Appends bytes (buffered).
  Status write(const void *data, size_t size) {
    if (fd_ < 0)
      return Status::error("write to '" + path_ + "' after it was closed");
    const auto *p = static_cast<const uint8_t *>(data);
    if (buffer_.size() + size > kBufferSize) {
      if (Status st = flushBuffer(); !st)
        return st;
      if (size >= kBufferSize) {
        // Large payloads (tensor data) go straight to the file.
        if (Status st = writeAll(p, size, offset_); !st)
          return st;
        offset_ += size;
        return Status::ok();
      }
    }
    buffer_.insert(buffer_.end(), p, p + size);
    return Status::ok();
  }

  /// Overwrites already-written bytes at `offset` (used to patch a header
  /// whose counts are known only at the end). Does not move the append point.
  Status writeAt(uint64_t offset, const void *data, size_t size) {
    if (fd_ < 0)
      return Status::error("write to '" + path_ + "' after it was closed");
    if (Status st = flushBuffer(); !st)
      return st;
    return writeAll(static_cast<const uint8_t *>(data), size, offset);
  }

  /// Flushes, fsyncs, renames over the target and fsyncs the directory. On
  /// failure the temporary file is removed and the target is untouched.
  Status commit() {
    if (fd_ < 0)
      return Status::error("commit of '" + path_ + "' after it was closed");
    if (Status st = flushBuffer(); !st)
      return st;
    if (ops().fsync(fd_) != 0)
      return fail("cannot fsync '" + tempPath_ + "'");
    int fd = fd_;
    fd_ = -1;
    if (ops().close(fd) != 0) {
      int err = errno;
      ops().unlink(tempPath_.c_str());
      return Status::error("cannot close '" + tempPath_ +
                           "': " + std::strerror(err));
    }
    if (ops().rename(tempPath_.c_str(), path_.c_str()) != 0) {
      int err = errno;
      ops().unlink(tempPath_.c_str());
      return Status::error("cannot rename '" + tempPath_ + "' to '" + path_ +
                           "': " + std::strerror(err));
    }
    // Make the rename itself durable; without this a crash can bring back
    // the old directory entry even though the data was synced.
    std::string dir = std::filesystem::path(path_).parent_path().string();
    if (dir.empty())
      dir = ".";
    int dfd = ops().open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dfd < 0)
      return Status::error("wrote '" + path_ + "' but cannot open directory '" +
                           dir + "' to fsync it: " + std::strerror(errno));
    int rc = ops().fsync(dfd);
    int err = errno;
    ops().close(dfd);
    // Some filesystems cannot fsync a directory; that is not a write failure.
    if (rc != 0 && err != EINVAL && err != ENOTSUP)
      return Status::error("wrote '" + path_ +
                           "' but cannot fsync directory '" + dir +
                           "': " + std::strerror(err));
    return Status::ok();
  }

  /// Drops the temporary file (no-op if none is open).
  void abandon() {
    if (fd_ < 0)
      return;
    ops().close(fd_);
    fd_ = -1;
    ops().unlink(tempPath_.c_str());
  }

private:
  static constexpr size_t kBufferSize = 1 << 20;

  static FileOps &ops() { return *FileOps::current(); }

  Status flushBuffer() {
    if (buffer_.empty())
      return Status::ok();
    if (Status st = writeAll(buffer_.data(), buffer_.size(), offset_); !st)
      return st;
    offset_ += buffer_.size();
    buffer_.clear();
    return Status::ok();
  }

  Status writeAll(const uint8_t *p, size_t size, uint64_t offset) {
    while (size > 0) {
      ssize_t n = ops().pwrite(fd_, p, size, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0)
        errno = 0; // no progress and no error code: reported as short write
      if (n <= 0)
        return fail("cannot write '" + tempPath_ + "' at offset " +
                    std::to_string(offset));
      p += n;
      size -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::ok();
  }

  /// Builds the error from errno, then removes the temporary file.
  Status fail(const std::string &what) {
    int err = errno;
    std::string msg = what + ": " + (err ? std::strerror(err) : "short write");
    abandon();
    return Status::error(msg);
  }

  std::string path_;
  std::string tempPath_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::vector<uint8_t> buffer_;
};

} // namespace tele::rt

#endif // TELE_RUNTIME_ATOMICFILE_H
