//===- runtime/tests/AtomicFileTest.cpp - checkpoint durability tests ----===//
//
// This file checks, through the FileOps seam of runtime/AtomicFile.h, what no
// end-to-end test can observe: that a checkpoint is written to a temporary
// file, fsynced, renamed over the target and that the directory is fsynced,
// in that order; and that a failure of each of these calls is reported and
// leaves the previous checkpoint intact (before the rename) or the new one
// complete (after it), with no temporary file behind. The checkpoints go
// through the real safetensors writer, so the writer's use of
// AtomicFileWriter is covered too.
//
//===----------------------------------------------------------------------===//
#include "checkpoint/SafeTensors.h"

#include "AtomicFile.h"
#include "FileTestUtil.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace tele::ckpt;
using tele::rt::AtomicFileWriter;
using tele::rt::FileOps;
using tele::rt::ScopedFileOps;
using tele::testing::readBytes;
using tele::testing::TempDir;

namespace {

Checkpoint checkpointOf(float value) {
  Checkpoint c;
  EXPECT_TRUE(c.tensors["w"].setFloats({3}, std::vector<float>(3, value)));
  c.metadata["value"] = std::to_string(value);
  return c;
}

/// Records every call as "<op> <what>", where <what> names the file by role:
/// "temp", "target", "dir" (or "fd?" for a descriptor it did not see opened).
/// `failOn` makes the first call whose record equals it fail with EIO.
class RecordingFileOps : public FileOps {
public:
  RecordingFileOps(std::string target, std::string failOn = "")
      : target_(std::move(target)),
        temp_(AtomicFileWriter::tempPathFor(target_)),
        dir_(std::filesystem::path(target_).parent_path().string()),
        failOn_(std::move(failOn)) {}

  std::vector<std::string> calls;
  bool failed = false;

  int open(const char *path, int flags, mode_t mode) override {
    if (inject("open " + role(path)))
      return -1;
    int fd = FileOps::open(path, flags, mode);
    if (fd >= 0)
      fds_[fd] = role(path);
    return fd;
  }
  ssize_t pwrite(int fd, const void *data, size_t size, off_t offset) override {
    return inject("pwrite " + role(fd)) ? -1
                                        : FileOps::pwrite(fd, data, size, offset);
  }
  int fsync(int fd) override {
    return inject("fsync " + role(fd)) ? -1 : FileOps::fsync(fd);
  }
  int close(int fd) override {
    bool fail = inject("close " + role(fd));
    fds_.erase(fd);
    // The descriptor is released even when close reports an error (POSIX
    // leaves it unspecified; Linux releases it).
    int rc = FileOps::close(fd);
    if (!fail)
      return rc;
    errno = EIO;
    return -1;
  }
  int rename(const char *from, const char *to) override {
    return inject("rename " + role(from) + " " + role(to))
               ? -1
               : FileOps::rename(from, to);
  }
  int unlink(const char *path) override {
    return inject("unlink " + role(path)) ? -1 : FileOps::unlink(path);
  }

  /// Index of the first call equal to `what` (calls.size() if none).
  size_t indexOf(const std::string &what) const {
    for (size_t i = 0; i < calls.size(); ++i)
      if (calls[i] == what)
        return i;
    return calls.size();
  }
  /// Index of the last call equal to `what` (calls.size() if none).
  size_t lastIndexOf(const std::string &what) const {
    for (size_t i = calls.size(); i-- > 0;)
      if (calls[i] == what)
        return i;
    return calls.size();
  }

private:
  std::string role(const std::string &path) const {
    if (path == temp_)
      return "temp";
    if (path == target_)
      return "target";
    if (path == dir_)
      return "dir";
    return path;
  }
  std::string role(int fd) const {
    auto it = fds_.find(fd);
    return it == fds_.end() ? "fd?" : it->second;
  }
  bool inject(const std::string &call) {
    calls.push_back(call);
    if (failed || call != failOn_)
      return false;
    failed = true;
    errno = EIO;
    return true;
  }

  std::string target_, temp_, dir_, failOn_;
  std::map<int, std::string> fds_;
};

std::string joined(const std::vector<std::string> &calls) {
  std::string s;
  for (const std::string &c : calls)
    s += "\n  " + c;
  return s;
}

TEST(AtomicFile, WriteFsyncRenameFsyncDirInOrder) {
  TempDir dir("atomic");
  std::string path = dir.path("ckpt.safetensors");
  RecordingFileOps ops(path);
  {
    ScopedFileOps scope(ops);
    ASSERT_TRUE(writeSafeTensors(path, checkpointOf(1)));
  }
  const auto &c = ops.calls;
  size_t open = ops.indexOf("open temp"), write = ops.lastIndexOf("pwrite temp"),
         fsyncFile = ops.indexOf("fsync temp"),
         closeFile = ops.indexOf("close temp"),
         rename = ops.indexOf("rename temp target"),
         openDir = ops.indexOf("open dir"), fsyncDir = ops.indexOf("fsync dir");
  // Each step present, and strictly after the one it depends on.
  for (size_t i : {open, write, fsyncFile, closeFile, rename, openDir, fsyncDir})
    ASSERT_LT(i, c.size()) << "a step is missing; calls:" << joined(c);
  EXPECT_LT(open, write) << joined(c);
  EXPECT_LT(write, fsyncFile) << "data must be written before the fsync"
                              << joined(c);
  EXPECT_LT(fsyncFile, rename) << "the file must be durable before it "
                                  "replaces the target" << joined(c);
  EXPECT_LT(closeFile, rename) << joined(c);
  EXPECT_LT(rename, fsyncDir) << "the rename must be made durable"
                              << joined(c);
  EXPECT_EQ(ops.indexOf("unlink temp"), c.size())
      << "a successful write removes nothing" << joined(c);
  Checkpoint back;
  ASSERT_TRUE(readSafeTensors(path, back));
  EXPECT_EQ(back.metadata.at("value"), checkpointOf(1).metadata.at("value"));
  EXPECT_EQ(dir.list(), std::vector<std::string>{"ckpt.safetensors"});
}

struct FailurePoint {
  const char *call;       ///< the call that fails, as RecordingFileOps names it
  const char *message;    ///< expected in the error
  bool targetReplaced;    ///< the failure comes after the rename
};

void PrintTo(const FailurePoint &p, std::ostream *os) { *os << p.call; }

class AtomicFileFailure : public ::testing::TestWithParam<FailurePoint> {};

TEST_P(AtomicFileFailure, ReportsAndKeepsACompleteCheckpoint) {
  const FailurePoint &point = GetParam();
  TempDir dir("atomic");
  std::string path = dir.path("ckpt.safetensors");
  ASSERT_TRUE(writeSafeTensors(path, checkpointOf(1)));
  std::string before = readBytes(path);

  RecordingFileOps ops(path, point.call);
  tele::rt::Status st;
  {
    ScopedFileOps scope(ops);
    st = writeSafeTensors(path, checkpointOf(2));
  }
  ASSERT_TRUE(ops.failed) << point.call << " was never called; calls:"
                          << joined(ops.calls);
  ASSERT_FALSE(st) << "the failed " << point.call << " went unreported";
  EXPECT_CONTAINS(st.message(), point.message);
  EXPECT_CONTAINS(st.message(), "Input/output error");
  if (point.targetReplaced) {
    // The rename happened: the target is the new, complete checkpoint.
    Checkpoint back;
    ASSERT_TRUE(readSafeTensors(path, back));
    EXPECT_EQ(back.metadata.at("value"), checkpointOf(2).metadata.at("value"));
  } else {
    EXPECT_EQ(readBytes(path), before) << "the previous checkpoint changed";
  }
  EXPECT_EQ(dir.list(), std::vector<std::string>{"ckpt.safetensors"})
      << "a temporary file was left behind";
}

INSTANTIATE_TEST_SUITE_P(
    EachCall, AtomicFileFailure,
    ::testing::Values(
        FailurePoint{"open temp", "cannot create temporary file", false},
        FailurePoint{"pwrite temp", "cannot write", false},
        FailurePoint{"fsync temp", "cannot fsync", false},
        FailurePoint{"close temp", "cannot close", false},
        FailurePoint{"rename temp target", "cannot rename", false},
        FailurePoint{"open dir", "cannot open directory", true},
        FailurePoint{"fsync dir", "cannot fsync directory", true}),
    [](const ::testing::TestParamInfo<FailurePoint> &info) {
      std::string name = info.param.call;
      for (char &ch : name)
        if (ch == ' ')
          ch = '_';
      return name;
    });

} // namespace
