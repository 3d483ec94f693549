//===- TrainState.cpp - checkpoints of a training run ---------------------===//
//
// This file converts between the executor's training state and safetensors
// checkpoints (runtime/checkpoint), keeping everything a resumed run needs
// to be bit-identical to an uninterrupted one.
//
//===----------------------------------------------------------------------===//

#include "tele/Train/TrainState.h"
#include "checkpoint/SafeTensors.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::tele;
using namespace mlir::tele::exec;

namespace {
llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

SmallVector<Operation *> growOps(ModuleOp plan) {
  SmallVector<Operation *> ops;
  plan.walk([&](Operation *op) {
    if (isa<GrowthOpInterface>(op))
      ops.push_back(op);
  });
  return ops;
}
} // namespace

std::string mlir::tele::checkpointPath(llvm::StringRef dir, int64_t step) {
  SmallString<256> path(dir);
  char name[64];
  std::snprintf(name, sizeof(name), "ckpt-%08lld.safetensors", (long long)step);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

std::string mlir::tele::newestCheckpoint(llvm::StringRef dir) {
  std::error_code ec;
  std::string best;
  int64_t bestStep = -1;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    if (!name.consume_front("ckpt-") || !name.consume_back(".safetensors"))
      continue;
    int64_t step;
    if (name.getAsInteger(10, step) || step <= bestStep)
      continue;
    bestStep = step;
    best = it->path();
  }
  return best;
}

template <typename T>
llvm::Error mlir::tele::writeCheckpoint(const std::string &path,
                                        const TrainingState<T> &state,
                                        const Progress &progress,
                                        ModuleOp plan) {
  ::tele::ckpt::Checkpoint ckpt;
  for (const auto &[name, entry] : state.all()) {
    ::tele::ckpt::TensorRecord &rec = ckpt.tensors[name];
    std::vector<int64_t> shape(entry.shape.begin(), entry.shape.end());
    ::tele::rt::Status st;
    if constexpr (std::is_same_v<T, float>)
      st = rec.setFloats(shape, entry.data->data(), entry.data->size());
    else
      st = rec.setDoubles(shape, entry.data->data(), entry.data->size());
    if (!st)
      return error(path + ": " + st.message());
  }
  auto &meta = ckpt.metadata;
  ::tele::ckpt::writeProgress(progress, meta);
  meta["tele.dtype"] = std::is_same_v<T, float> ? "f32" : "f64";
  for (auto [i, op] : llvm::enumerate(growOps(plan)))
    if (auto depth = dyn_cast<GrowDepthOp>(op))
      if (auto copies = depth.getCopyLayers())
        meta["tele.copy_layers." + std::to_string(i)] =
            llvm::join(llvm::map_range(*copies,
                                       [](int64_t v) { return std::to_string(v); }),
                       ",");
  if (auto st = ::tele::ckpt::writeSafeTensors(path, ckpt); !st)
    return error(st.message());
  return llvm::Error::success();
}

template <typename T>
llvm::Error mlir::tele::readCheckpoint(const std::string &path,
                                       TrainingState<T> &state,
                                       Progress &progress, ModuleOp plan) {
  ::tele::ckpt::Checkpoint ckpt;
  if (auto st = ::tele::ckpt::readSafeTensors(path, ckpt); !st)
    return error(st.message());
  auto &meta = ckpt.metadata;
  if (auto st = ::tele::ckpt::readProgress(meta, path, progress); !st)
    return error(st.message());
  const char *dtype = std::is_same_v<T, float> ? "f32" : "f64";
  if (meta["tele.dtype"] != dtype)
    return error(path + ": holds " + meta["tele.dtype"] + " state, resumed in " +
                 dtype + (std::is_same_v<T, float> ? "" : " (--fp64)"));

  for (auto [i, op] : llvm::enumerate(growOps(plan))) {
    auto found = meta.find("tele.copy_layers." + std::to_string(i));
    auto depth = dyn_cast<GrowDepthOp>(op);
    if (found == meta.end() || !depth)
      continue;
    SmallVector<StringRef> parts;
    SmallVector<int64_t> layers;
    StringRef(found->second).split(parts, ',');
    for (StringRef p : parts) {
      int64_t v;
      if (p.getAsInteger(10, v))
        return error(path + ": invalid copy_layers metadata '" +
                     found->second + "'");
      layers.push_back(v);
    }
    depth.setCopyLayers(layers);
  }
  // The layer choices come from the file: check them like any IR.
  if (failed(mlir::verify(plan)))
    return error(path + ": its copy_layers metadata does not fit the plan");

  for (auto &[name, rec] : ckpt.tensors) {
    std::vector<T> data;
    ::tele::rt::Status st;
    if constexpr (std::is_same_v<T, float>)
      st = rec.getFloats(data);
    else
      st = rec.getDoubles(data);
    if (!st)
      return error(path + ": " + st.message());
    SmallVector<int64_t> shape(rec.shape.begin(), rec.shape.end());
    state.set(name, shape,
              std::make_shared<const std::vector<T>>(std::move(data)));
  }
  return llvm::Error::success();
}

namespace mlir::tele {
template llvm::Error writeCheckpoint<float>(const std::string &,
                                            const TrainingState<float> &,
                                            const Progress &, ModuleOp);
template llvm::Error writeCheckpoint<double>(const std::string &,
                                             const TrainingState<double> &,
                                             const Progress &, ModuleOp);
template llvm::Error readCheckpoint<float>(const std::string &,
                                           TrainingState<float> &, Progress &,
                                           ModuleOp);
template llvm::Error readCheckpoint<double>(const std::string &,
                                            TrainingState<double> &,
                                            Progress &, ModuleOp);
} // namespace mlir::tele
