//===- runtime/cuda/Runtime.cpp - the tele GPU runtime --------------------===//
//
// This file implements the C API of tele_rt.h on the CUDA driver API. The
// driver (libcuda.so.1) is loaded with dlopen on first use, so that binaries
// linking the runtime start, and report "no GPU", on machines without one.
// Each failure records which call failed, the driver's error name and
// message, and the kernel involved, so that a broken launch is diagnosable
// from the message alone.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"
#include <dlfcn.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

struct tele_rt_module {
  tele_rt_device *device = nullptr;
  CUmodule module = nullptr;
  std::map<std::string, CUfunction> functions;
};

namespace {
thread_local std::string lastError;
} // namespace

namespace tele::rt::cuda {

void *openLibrary(std::initializer_list<const char *> names, const char *what,
                  std::string &error) {
  for (const char *name : names)
    if (void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))
      return lib;
  error = std::string("cannot load ") + what + ": " + dlerror();
  return nullptr;
}

const Driver &driver() {
  static const Driver d = [] {
    Driver d;
    void *lib = openLibrary({"libcuda.so.1"}, "the CUDA driver", d.error);
    if (!lib)
      return d;
    bool ok = true;
    auto load = [&](auto &fn, const char *symbol) {
      resolveSymbol(lib, fn, symbol, "the CUDA driver", ok, d.error);
    };
    load(d.cuInit, "cuInit");
    load(d.cuDeviceGetCount, "cuDeviceGetCount");
    load(d.cuDeviceGet, "cuDeviceGet");
    load(d.cuDeviceGetName, "cuDeviceGetName");
    load(d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    load(d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    load(d.cuCtxSetCurrent, "cuCtxSetCurrent");
    load(d.cuCtxSynchronize, "cuCtxSynchronize");
    load(d.cuMemAlloc, "cuMemAlloc_v2");
    load(d.cuMemFree, "cuMemFree_v2");
    load(d.cuMemGetInfo, "cuMemGetInfo_v2");
    load(d.cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    load(d.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
    load(d.cuMemsetD8Async, "cuMemsetD8Async");
    load(d.cuStreamCreate, "cuStreamCreate");
    load(d.cuStreamDestroy, "cuStreamDestroy_v2");
    load(d.cuStreamSynchronize, "cuStreamSynchronize");
    load(d.cuStreamBeginCapture, "cuStreamBeginCapture_v2");
    load(d.cuStreamEndCapture, "cuStreamEndCapture");
    load(d.cuGraphInstantiate, "cuGraphInstantiateWithFlags");
    load(d.cuGraphLaunch, "cuGraphLaunch");
    load(d.cuGraphExecDestroy, "cuGraphExecDestroy");
    load(d.cuGraphDestroy, "cuGraphDestroy");
    load(d.cuEventCreate, "cuEventCreate");
    load(d.cuEventDestroy, "cuEventDestroy_v2");
    load(d.cuEventRecord, "cuEventRecord");
    load(d.cuEventSynchronize, "cuEventSynchronize");
    // The first version (drivers before 12.8 lack _v2); same signature.
    load(d.cuEventElapsedTime, "cuEventElapsedTime");
    load(d.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    load(d.cuModuleLoadDataEx, "cuModuleLoadDataEx");
    load(d.cuModuleUnload, "cuModuleUnload");
    load(d.cuModuleGetFunction, "cuModuleGetFunction");
    load(d.cuFuncSetAttribute, "cuFuncSetAttribute");
    load(d.cuLaunchKernel, "cuLaunchKernel");
    load(d.cuGetErrorName, "cuGetErrorName");
    load(d.cuGetErrorString, "cuGetErrorString");
    d.loaded = ok;
    return d;
  }();
  return d;
}

tele_rt_status allowSharedMemory(CUfunction fn, unsigned bytes, const std::string &kernel) {
  if (bytes <= 48u * 1024)
    return TELE_RT_OK;
  return check(driver().cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                           int(bytes)),
               "cuFuncSetAttribute(" + kernel + ", " + std::to_string(bytes) +
                   " bytes of shared memory)");
}

bool envFlag(const char *name) {
  const char *v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}

bool debugEnabled() {
  static const bool enabled = envFlag("TELE_RT_DEBUG");
  return enabled;
}

void debug(const char *format, ...) {
  if (!debugEnabled())
    return;
  va_list args;
  va_start(args, format);
  std::fprintf(stderr, "tele_rt: ");
  std::vfprintf(stderr, format, args);
  std::fprintf(stderr, "\n");
  va_end(args);
}

tele_rt_status fail(tele_rt_status status, std::string message) {
  lastError = std::move(message);
  debug("error: %s", lastError.c_str());
  return status;
}

tele_rt_status check(CUresult result, const std::string &what) {
  if (result == CUDA_SUCCESS)
    return TELE_RT_OK;
  const char *name = nullptr, *text = nullptr;
  driver().cuGetErrorName(result, &name);
  driver().cuGetErrorString(result, &text);
  return fail(TELE_RT_ERROR_CUDA, what + ": " + (name ? name : "?") + ": " +
                                      (text ? text : "unknown error"));
}
tele_rt_status loadPtx(const char *ptx, CUmodule *module, const std::string &what) {
  char log[8192] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1)};
  CUresult r = driver().cuModuleLoadDataEx(module, ptx, 2, options, values);
  if (r == CUDA_SUCCESS)
    return TELE_RT_OK;
  check(r, what);
  return fail(TELE_RT_ERROR_CUDA, lastError + (log[0] ? std::string(": ") + log : ""));
}

tele_rt_status bind(tele_rt_device *device) {
  return check(driver().cuCtxSetCurrent(device->context), "cuCtxSetCurrent");
}
} // namespace tele::rt::cuda

using namespace tele::rt::cuda;

extern "C" {

const char *tele_rt_last_error(void) { return lastError.c_str(); }

tele_rt_status tele_rt_device_open(int ordinal, tele_rt_device **out) {
  if (!out)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_device_open: null output");
  if (!driver().loaded)
    return fail(TELE_RT_ERROR_NO_DEVICE, driver().error);
  CUresult init = driver().cuInit(0);
  if (init != CUDA_SUCCESS) {
    check(init, "cuInit");
    return fail(TELE_RT_ERROR_NO_DEVICE, "no usable CUDA driver or GPU (" +
                                             lastError + ")");
  }
  int count = 0;
  if (driver().cuDeviceGetCount(&count) != CUDA_SUCCESS || ordinal < 0 ||
      ordinal >= count)
    return fail(TELE_RT_ERROR_NO_DEVICE,
                "GPU " + std::to_string(ordinal) + " not present (" +
                    std::to_string(count) + " found)");
  auto *d = new tele_rt_device();
  char name[256] = {0};
  if (tele_rt_status s = check(driver().cuDeviceGet(&d->device, ordinal), "cuDeviceGet");
      s != TELE_RT_OK) {
    delete d;
    return s;
  }
  driver().cuDeviceGetName(name, sizeof(name) - 1, d->device);
  d->name = name;
  if (tele_rt_status s = check(driver().cuDevicePrimaryCtxRetain(&d->context, d->device),
                               "cuDevicePrimaryCtxRetain");
      s != TELE_RT_OK) {
    delete d;
    return s;
  }
  if (tele_rt_status s = check(driver().cuCtxSetCurrent(d->context), "cuCtxSetCurrent");
      s != TELE_RT_OK) {
    driver().cuDevicePrimaryCtxRelease(d->device);
    delete d;
    return s;
  }
  debug("opened GPU %d: %s", ordinal, name);
  *out = d;
  return TELE_RT_OK;
}

void tele_rt_device_close(tele_rt_device *device) {
  if (!device)
    return;
  driver().cuDevicePrimaryCtxRelease(device->device);
  delete device;
}

const char *tele_rt_device_name(const tele_rt_device *device) {
  return device ? device->name.c_str() : "";
}

tele_rt_status tele_rt_alloc(tele_rt_device *device, size_t bytes,
                             uint64_t *out) {
  if (!device || !out)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_alloc: null argument");
  if (tele_rt_status s = bind(device); s != TELE_RT_OK)
    return s;
  CUdeviceptr p = 0;
  tele_rt_status s = check(driver().cuMemAlloc(&p, bytes ? bytes : 1),
                           "cuMemAlloc(" + std::to_string(bytes) + " bytes)");
  *out = p;
  return s;
}

tele_rt_status tele_rt_free(tele_rt_device *device, uint64_t pointer) {
  if (!device)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_free: null device");
  if (tele_rt_status s = bind(device); s != TELE_RT_OK)
    return s;
  return check(driver().cuMemFree(pointer), "cuMemFree");
}

tele_rt_status tele_rt_copy_to_device(tele_rt_device *device, uint64_t dst,
                                      const void *src, size_t bytes) {
  if (!device)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_copy_to_device: null device");
  if (tele_rt_status s = bind(device); s != TELE_RT_OK)
    return s;
  return check(driver().cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
}

tele_rt_status tele_rt_copy_to_host(tele_rt_device *device, void *dst,
                                    uint64_t src, size_t bytes) {
  if (!device)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_copy_to_host: null device");
  if (tele_rt_status s = bind(device); s != TELE_RT_OK)
    return s;
  return check(driver().cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
}

tele_rt_status tele_rt_synchronize(tele_rt_device *device) {
  if (!device)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_synchronize: null device");
  if (tele_rt_status s = bind(device); s != TELE_RT_OK)
    return s;
  return check(driver().cuCtxSynchronize(), "cuCtxSynchronize");
}

tele_rt_status tele_rt_module_load_ptx(tele_rt_device *device,
                                       const char *ptx, tele_rt_module **out) {
  if (!device || !ptx || !out)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_module_load_ptx: null argument");
  if (tele_rt_status s = bind(device); s != TELE_RT_OK)
    return s;
  auto *m = new tele_rt_module();
  m->device = device;
  if (tele_rt_status s = loadPtx(ptx, &m->module, "cuModuleLoadDataEx"); s != TELE_RT_OK) {
    delete m;
    return s;
  }
  debug("loaded PTX module (%zu bytes)", std::string(ptx).size());
  *out = m;
  return TELE_RT_OK;
}

void tele_rt_module_unload(tele_rt_module *module) {
  if (!module)
    return;
  driver().cuModuleUnload(module->module);
  delete module;
}

tele_rt_status tele_rt_launch(tele_rt_module *module, const char *kernel,
                              const uint32_t grid[3], const uint32_t block[3],
                              uint32_t shared_bytes, const uint64_t *args, size_t num_args) {
  if (!module || !kernel || !grid || !block || (num_args && !args))
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_launch: null argument");
  if (tele_rt_status s = bind(module->device); s != TELE_RT_OK)
    return s;
  CUfunction fn;
  auto it = module->functions.find(kernel);
  if (it != module->functions.end()) {
    fn = it->second;
  } else {
    CUresult r = driver().cuModuleGetFunction(&fn, module->module, kernel);
    if (r == CUDA_ERROR_NOT_FOUND)
      return fail(TELE_RT_ERROR_NOT_FOUND,
                  std::string("kernel '") + kernel + "' is not in the module");
    if (tele_rt_status s = check(r, std::string("cuModuleGetFunction(") + kernel + ")");
        s != TELE_RT_OK)
      return s;
    module->functions[kernel] = fn;
  }
  if (tele_rt_status s = allowSharedMemory(fn, shared_bytes, kernel); s != TELE_RT_OK)
    return s;
  // The driver wants one pointer per parameter, each pointing at its value.
  std::vector<void *> params(num_args);
  for (size_t i = 0; i < num_args; ++i)
    params[i] = const_cast<uint64_t *>(&args[i]);
  debug("launch %s grid (%u,%u,%u) block (%u,%u,%u) shared %u %zu args", kernel, grid[0],
        grid[1], grid[2], block[0], block[1], block[2], shared_bytes, num_args);
  return check(driver().cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0], block[1],
                              block[2], shared_bytes, /*stream=*/nullptr,
                              params.data(), nullptr),
               std::string("cuLaunchKernel(") + kernel + ")");
}

} // extern "C"
