//===- runtime/cuda/Driver.h - the CUDA driver, loaded at run time -*- C++ -*-===//
//
// Internal to the GPU runtime: the driver entry points tele uses (resolved
// from libcuda.so.1 with dlopen, so binaries start and report "no GPU" on
// machines without one) and the error/debug helpers every runtime file
// shares. Each failure records which call failed, with the driver's error
// name and message, in tele_rt_last_error().
//
//===----------------------------------------------------------------------===//

#ifndef TELE_RUNTIME_CUDA_DRIVER_H
#define TELE_RUNTIME_CUDA_DRIVER_H

#include "tele_rt/tele_rt.h"

#include <cuda.h>
#include <dlfcn.h>

#include <initializer_list>

#include <string>

struct tele_rt_device {
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::string name;
};

namespace tele::rt::cuda {

/// The versioned names (_v2) are the ones cuda.h's macros select.
struct Driver {
#define TELE_DRIVER_FN(name) decltype(&::name) name = nullptr;
  TELE_DRIVER_FN(cuInit)
  TELE_DRIVER_FN(cuDeviceGetCount)
  TELE_DRIVER_FN(cuDeviceGet)
  TELE_DRIVER_FN(cuDeviceGetName)
  TELE_DRIVER_FN(cuDevicePrimaryCtxRetain)
  TELE_DRIVER_FN(cuDevicePrimaryCtxRelease)
  TELE_DRIVER_FN(cuCtxSetCurrent)
  TELE_DRIVER_FN(cuCtxSynchronize)
  TELE_DRIVER_FN(cuMemAlloc)
  TELE_DRIVER_FN(cuMemFree)
  TELE_DRIVER_FN(cuMemGetInfo)
  TELE_DRIVER_FN(cuMemcpyHtoD)
  TELE_DRIVER_FN(cuMemcpyDtoH)
  TELE_DRIVER_FN(cuMemcpyDtoDAsync)
  TELE_DRIVER_FN(cuMemsetD8Async)
  TELE_DRIVER_FN(cuModuleLoadDataEx)
  TELE_DRIVER_FN(cuModuleUnload)
  TELE_DRIVER_FN(cuModuleGetFunction)
  TELE_DRIVER_FN(cuFuncSetAttribute)
  TELE_DRIVER_FN(cuLaunchKernel)
  TELE_DRIVER_FN(cuStreamCreate)
  TELE_DRIVER_FN(cuStreamDestroy)
  TELE_DRIVER_FN(cuStreamSynchronize)
  TELE_DRIVER_FN(cuStreamBeginCapture)
  TELE_DRIVER_FN(cuStreamEndCapture)
  TELE_DRIVER_FN(cuGraphInstantiate)
  TELE_DRIVER_FN(cuGraphLaunch)
  TELE_DRIVER_FN(cuGraphExecDestroy)
  TELE_DRIVER_FN(cuGraphDestroy)
  TELE_DRIVER_FN(cuEventCreate)
  TELE_DRIVER_FN(cuEventDestroy)
  TELE_DRIVER_FN(cuEventRecord)
  TELE_DRIVER_FN(cuEventSynchronize)
  TELE_DRIVER_FN(cuEventElapsedTime)
  TELE_DRIVER_FN(cuGetErrorName)
  TELE_DRIVER_FN(cuGetErrorString)
#undef TELE_DRIVER_FN
  bool loaded = false;
  std::string error;
};

const Driver &driver();

/// Opens the first of `names` that dlopen() loads; null with `error` set
/// ("cannot load <what>: ...") if none does.
void *openLibrary(std::initializer_list<const char *> names, const char *what,
                  std::string &error);

/// Resolves `symbol` of `lib` into `fn`; on failure clears `ok` and records
/// "<what> lacks <symbol>" in `error`.
template <typename Fn>
void resolveSymbol(void *lib, Fn &fn, const char *symbol, const char *what, bool &ok,
                   std::string &error) {
  fn = reinterpret_cast<Fn>(dlsym(lib, symbol));
  if (!fn) {
    ok = false;
    error = std::string(what) + " lacks " + symbol;
  }
}

/// Whether environment variable `name` is set to something other than ""
/// or "0".
bool envFlag(const char *name);

/// Logs to stderr when TELE_RT_DEBUG is set (and not "0").
bool debugEnabled();
void debug(const char *format, ...);

/// Records `message` as the last error and returns `status`.
tele_rt_status fail(tele_rt_status status, std::string message);
/// Checks a driver result; on failure records "<what>: <name>: <text>".
tele_rt_status check(CUresult result, const std::string &what);
/// JIT-compiles PTX text into `module`; on failure the message names `what`
/// and carries the JIT's error log (a PTX error is otherwise only
/// "invalid PTX").
tele_rt_status loadPtx(const char *ptx, CUmodule *module, const std::string &what);

/// Lets `fn` (kernel `kernel`) launch with `bytes` of dynamic shared memory:
/// beyond 48 KiB a kernel must opt in (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
tele_rt_status allowSharedMemory(CUfunction fn, unsigned bytes, const std::string &kernel);

/// Makes `device`'s context current on the calling thread: every entry
/// point acts on the device it is given, whichever thread calls it.
tele_rt_status bind(tele_rt_device *device);

} // namespace tele::rt::cuda

#endif // TELE_RUNTIME_CUDA_DRIVER_H
