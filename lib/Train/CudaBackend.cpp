//===- CudaBackend.cpp - tele train's GPU executor ------------------------===//
//
// This file implements CudaBackend on the tele_rt C API. Without the CUDA
// toolkit at build time (TELE_HAVE_CUDA_RUNTIME unset) every entry point
// reports that the GPU runtime was not built.
//
//===----------------------------------------------------------------------===//

#include "tele/Train/CudaBackend.h"
#include "tele/Target/CudaProgram.h"

#include "llvm/Support/FormatVariadic.h"

#ifdef TELE_HAVE_CUDA_RUNTIME
#include "MemoryBudget.h"
#include "tele_rt/tele_rt.h"
#endif

using namespace mlir;
using namespace mlir::tele;
using namespace mlir::tele::exec;

#ifdef TELE_HAVE_CUDA_RUNTIME

struct CudaBackend::Impl {
  tele_rt_device *device = nullptr;
  tele_rt_state *state = nullptr;
  std::map<Operation *, tele_rt_program *> programs;

  ~Impl() {
    for (auto &[fn, p] : programs)
      tele_rt_program_destroy(p);
    tele_rt_state_destroy(state);
    tele_rt_device_close(device);
  }
  FailureOr<tele_rt_program *> programFor(func::FuncOp fn);
};

static LogicalResult runtimeError(Location loc, const Twine &what) {
  return emitError(loc) << what << ": " << tele_rt_last_error();
}

FailureOr<std::unique_ptr<CudaBackend>> CudaBackend::open(Location loc) {
  auto impl = std::make_unique<Impl>();
  if (tele_rt_device_open(0, &impl->device) != TELE_RT_OK)
    return runtimeError(loc, "--device cuda");
  if (tele_rt_state_create(impl->device, &impl->state) != TELE_RT_OK)
    return runtimeError(loc, "--device cuda");
  return std::unique_ptr<CudaBackend>(new CudaBackend(std::move(impl)));
}

std::string CudaBackend::deviceName() const {
  return tele_rt_device_name(impl->device);
}

LogicalResult CudaBackend::upload(const TrainingState<float> &state, Location loc) {
  for (const auto &[name, entry] : state.all())
    if (tele_rt_state_upload(impl->state, name.c_str(), entry.data->data(),
                             entry.data->size() * sizeof(float)) != TELE_RT_OK)
      return runtimeError(loc, "uploading the training state");
  return success();
}

LogicalResult CudaBackend::download(TrainingState<float> &state, Location loc) {
  for (const auto &[name, entry] : state.all()) {
    std::vector<float> data(entry.data->size());
    if (tele_rt_state_download(impl->state, name.c_str(), data.data(),
                               data.size() * sizeof(float)) != TELE_RT_OK)
      return runtimeError(loc, "downloading the training state");
    state.set(name, entry.shape, std::make_shared<const std::vector<float>>(std::move(data)));
  }
  return success();
}

FailureOr<tele_rt_program *> CudaBackend::Impl::programFor(func::FuncOp fn) {
  auto it = programs.find(fn);
  if (it != programs.end())
    return it->second;
  // compileCudaProgram keeps only the compiled function: work on a copy.
  OwningOpRef<ModuleOp> copy = cast<ModuleOp>(fn->getParentOp()->clone());
  FailureOr<CudaProgram> compiled = compileCudaProgram(*copy, fn.getSymName());
  if (failed(compiled))
    return failure();
  // Refuse before allocating: the arena is most of a program's memory.
  size_t freeBytes = 0, totalBytes = 0;
  if (tele_rt_memory_info(device, &freeBytes, &totalBytes) == TELE_RT_OK &&
      uint64_t(compiled->arenaBytes) > freeBytes)
    return emitError(fn.getLoc())
           << "the CUDA program of @" << fn.getSymName() << " needs "
           << ::tele::rt::formatBytes(double(compiled->arenaBytes))
           << " of GPU memory for its arena, but the GPU has "
           << ::tele::rt::formatBytes(double(freeBytes)) << " free";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(compiled->program));
  tele_rt_program *program = nullptr;
  if (tele_rt_program_load_text(device, text.c_str(), compiled->ptx.c_str(),
                                fn.getSymName().str().c_str(), &program) != TELE_RT_OK)
    return runtimeError(fn.getLoc(), "loading the CUDA program of @" + fn.getSymName());
  programs[fn] = program;
  return program;
}

LogicalResult CudaBackend::prepare(func::FuncOp fn) {
  return success(succeeded(impl->programFor(fn)));
}

void CudaBackend::releasePrograms() {
  for (auto &[fn, p] : impl->programs)
    tele_rt_program_destroy(p);
  impl->programs.clear();
}

int64_t CudaBackend::deviceBytesInUse() const {
  size_t freeBytes = 0, total = 0;
  if (tele_rt_memory_info(impl->device, &freeBytes, &total) != TELE_RT_OK)
    return -1;
  return int64_t(total - freeBytes);
}

int64_t CudaBackend::arenaBytes(func::FuncOp fn) const {
  auto it = impl->programs.find(fn);
  return it == impl->programs.end() ? 0
                                    : int64_t(tele_rt_program_arena_bytes(it->second));
}

FailureOr<std::vector<double>>
CudaBackend::run(func::FuncOp fn, ArrayRef<HostValue<float>> args,
                 const std::map<std::string, double> &masks) {
  FailureOr<tele_rt_program *> program = impl->programFor(fn);
  if (failed(program))
    return failure();
  Block &body = fn.getBody().front();
  if (args.size() != body.getNumArguments())
    return emitError(fn.getLoc()) << "expects " << body.getNumArguments() << " arguments";
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    Type et = cast<RankedTensorType>(arg.getType()).getElementType();
    tele_rt_status s;
    if (et.isInteger(64)) {
      int64_t step = args[i].step;
      s = tele_rt_program_set_input(*program, i, &step, sizeof(step));
    } else if (et.isInteger(32)) {
      s = tele_rt_program_set_input(*program, i, args[i].ints->data(),
                                    args[i].ints->size() * sizeof(int32_t));
    } else {
      s = tele_rt_program_set_input(*program, i, args[i].floats->data(),
                                    args[i].floats->size() * sizeof(float));
    }
    if (s != TELE_RT_OK)
      return runtimeError(fn.getLoc(), "argument #" + Twine(i));
  }
  for (const auto &[name, value] : masks)
    if (tele_rt_program_set_mask(*program, name.c_str(), float(value)) != TELE_RT_OK)
      return runtimeError(fn.getLoc(), "mask " + name);
  if (tele_rt_program_run(*program, impl->state) != TELE_RT_OK)
    return runtimeError(fn.getLoc(), "running @" + fn.getSymName() + " on the GPU");
  std::vector<double> out;
  for (auto [i, t] : llvm::enumerate(fn.getResultTypes())) {
    auto ty = cast<RankedTensorType>(t);
    if (ty.getRank() != 0) {
      out.push_back(std::nan(""));
      continue;
    }
    float v = 0;
    if (tele_rt_program_get_output(*program, i, &v, sizeof(v)) != TELE_RT_OK)
      return runtimeError(fn.getLoc(), "result #" + Twine(i));
    out.push_back(v);
  }
  return out;
}

#else // !TELE_HAVE_CUDA_RUNTIME

struct CudaBackend::Impl {};

FailureOr<std::unique_ptr<CudaBackend>> CudaBackend::open(Location loc) {
  return emitError(loc) << "--device cuda: this build has no GPU runtime (the "
                           "CUDA toolkit was not found when it was configured)";
}
std::string CudaBackend::deviceName() const { return ""; }
LogicalResult CudaBackend::upload(const TrainingState<float> &, Location) { return failure(); }
LogicalResult CudaBackend::download(TrainingState<float> &, Location) { return failure(); }
LogicalResult CudaBackend::prepare(func::FuncOp) { return failure(); }
void CudaBackend::releasePrograms() {}
int64_t CudaBackend::deviceBytesInUse() const { return -1; }
int64_t CudaBackend::arenaBytes(func::FuncOp) const { return 0; }
FailureOr<std::vector<double>> CudaBackend::run(func::FuncOp, ArrayRef<HostValue<float>>,
                                                const std::map<std::string, double> &) {
  return failure();
}

#endif

CudaBackend::CudaBackend(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
CudaBackend::~CudaBackend() = default;
