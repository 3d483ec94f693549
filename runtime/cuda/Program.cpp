//===- runtime/cuda/Program.cpp - run compiled tele programs on a GPU -----===//
//
// This file implements the state and program parts of tele_rt.h. A program
// (Target/CudaProgram.h describes the format) is loaded once: its PTX module
// is JIT-compiled, every kernel resolved, every GEMM given a cuBLASLt
// descriptor and algorithm, and its arena, inputs, masks and constants
// allocated. A run resolves buffer references against the training state,
// enqueues the steps on the program's stream and waits. After the first
// (eager) run the steps are captured as a CUDA graph and replayed while the
// state's allocations stay the same.
//
//===----------------------------------------------------------------------===//

#include "Blas.h"
#include "Driver.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

using namespace tele::rt::cuda;
using json = nlohmann::json;

//===----------------------------------------------------------------------===//
// cuBLASLt loader
//===----------------------------------------------------------------------===//

const BlasLt &tele::rt::cuda::blasLt() {
  static const BlasLt b = [] {
    BlasLt b;
    void *lib = openLibrary({"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"},
                            "cuBLASLt", b.error);
    if (!lib)
      return b;
    bool ok = true;
    auto load = [&](auto &fn, const char *symbol) {
      resolveSymbol(lib, fn, symbol, "cuBLASLt", ok, b.error);
    };
#define TELE_LOAD(name) load(b.name, #name);
    TELE_LOAD(cublasLtCreate)
    TELE_LOAD(cublasLtDestroy)
    TELE_LOAD(cublasLtGetStatusString)
    TELE_LOAD(cublasLtMatmulDescCreate)
    TELE_LOAD(cublasLtMatmulDescDestroy)
    TELE_LOAD(cublasLtMatmulDescSetAttribute)
    TELE_LOAD(cublasLtMatrixLayoutCreate)
    TELE_LOAD(cublasLtMatrixLayoutDestroy)
    TELE_LOAD(cublasLtMatmulPreferenceCreate)
    TELE_LOAD(cublasLtMatmulPreferenceDestroy)
    TELE_LOAD(cublasLtMatmulPreferenceSetAttribute)
    TELE_LOAD(cublasLtMatmulAlgoGetHeuristic)
    TELE_LOAD(cublasLtMatmul)
#undef TELE_LOAD
    b.loaded = ok;
    return b;
  }();
  return b;
}

namespace {
tele_rt_status checkBlas(cublasStatus_t status, const std::string &what) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return TELE_RT_OK;
  return fail(TELE_RT_ERROR_CUDA,
              what + ": " + blasLt().cublasLtGetStatusString(status));
}

/// TELE_RT_GEMM: the tensor-core input precision of the GEMMs (fp32
/// accumulation): bf16 by default (what the peer's autocast does), tf32,
/// or fp32 (exact, no tensor cores). False for any other value.
bool gemmComputeType(cublasComputeType_t &out) {
  const char *v = std::getenv("TELE_RT_GEMM");
  std::string mode = v ? v : "bf16";
  if (mode == "bf16")
    out = CUBLAS_COMPUTE_32F_FAST_16BF;
  else if (mode == "tf32")
    out = CUBLAS_COMPUTE_32F_FAST_TF32;
  else if (mode == "fp32")
    out = CUBLAS_COMPUTE_32F;
  else
    return false;
  return true;
}

bool profiling() {
  static const bool on = envFlag("TELE_RT_PROFILE");
  return on;
}

/// GEMM workspace: cuBLASLt's Hopper kernels want up to 32 MiB.
constexpr size_t kGemmWorkspaceBytes = 32u << 20;

/// TELE_RT_GEMM_TUNE (on unless "0"): at load, time cuBLASLt's best few
/// algorithms for each GEMM shape and keep the fastest; off, keep the
/// heuristic's first.
bool gemmTuning() {
  static const bool on = [] {
    const char *v = std::getenv("TELE_RT_GEMM_TUNE");
    return !v || std::string(v) != "0";
  }();
  return on;
}
constexpr int kGemmCandidates = 8;
} // namespace

//===----------------------------------------------------------------------===//
// State
//===----------------------------------------------------------------------===//

struct tele_rt_state {
  tele_rt_device *device = nullptr;
  struct Entry {
    uint64_t pointer = 0;
    size_t bytes = 0;
    /// The value of `clock` when the entry last changed (uploaded, or
    /// written by a program run).
    uint64_t version = 0;
  };
  std::map<std::string, Entry> entries;
  /// Bumped whenever an entry is (re)allocated: graphs that captured the
  /// old pointers must be re-captured.
  uint64_t generation = 0;
  uint64_t clock = 0;
  /// For each cached copy (a program's "derived" entry), the version of its
  /// source it was made from: the copy is stale once the source moves on.
  std::map<std::string, uint64_t> copiedFrom;

  /// The entry `name`, (re)allocated to `bytes` (contents undefined then).
  tele_rt_status allocate(const std::string &name, size_t bytes, Entry *&out);
};

tele_rt_status tele_rt_state::allocate(const std::string &name, size_t bytes, Entry *&out) {
  Entry &e = entries[name];
  if (e.bytes != bytes || !e.pointer) {
    if (e.pointer)
      driver().cuMemFree(e.pointer);
    e = {};
    CUdeviceptr p = 0;
    if (tele_rt_status s =
            check(driver().cuMemAlloc(&p, bytes ? bytes : 1),
                  "cuMemAlloc(state '" + name + "', " + std::to_string(bytes) + " bytes)");
        s != TELE_RT_OK) {
      entries.erase(name);
      return s;
    }
    e = {p, bytes, ++clock};
    copiedFrom.erase(name);
    ++generation;
  }
  out = &e;
  return TELE_RT_OK;
}

extern "C" {

tele_rt_status tele_rt_memory_info(tele_rt_device *device, size_t *free_bytes,
                                   size_t *total_bytes) {
  if (!device || !free_bytes || !total_bytes)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_memory_info: null argument");
  if (tele_rt_status s = bind(device); s != TELE_RT_OK)
    return s;
  return check(driver().cuMemGetInfo(free_bytes, total_bytes), "cuMemGetInfo");
}

tele_rt_status tele_rt_state_create(tele_rt_device *device, tele_rt_state **out) {
  if (!device || !out)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_state_create: null argument");
  *out = new tele_rt_state();
  (*out)->device = device;
  return TELE_RT_OK;
}

void tele_rt_state_destroy(tele_rt_state *state) {
  if (!state)
    return;
  if (bind(state->device) == TELE_RT_OK)
    for (auto &[name, e] : state->entries)
      driver().cuMemFree(e.pointer);
  delete state;
}

tele_rt_status tele_rt_state_upload(tele_rt_state *state, const char *name,
                                    const void *data, size_t bytes) {
  if (!state || !name || (bytes && !data))
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_state_upload: null argument");
  if (tele_rt_status s = bind(state->device); s != TELE_RT_OK)
    return s;
  tele_rt_state::Entry *e = nullptr;
  if (tele_rt_status s = state->allocate(name, bytes, e); s != TELE_RT_OK)
    return s;
  // New contents: copies of it are stale, and an uploaded copy is plain data.
  e->version = ++state->clock;
  state->copiedFrom.erase(name);
  return check(driver().cuMemcpyHtoD(e->pointer, data, bytes),
               "cuMemcpyHtoD(state '" + std::string(name) + "')");
}

tele_rt_status tele_rt_state_download(tele_rt_state *state, const char *name,
                                      void *data, size_t bytes) {
  if (!state || !name || (bytes && !data))
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_state_download: null argument");
  auto it = state->entries.find(name);
  if (it == state->entries.end())
    return fail(TELE_RT_ERROR_NOT_FOUND, std::string("no state entry '") + name + "'");
  if (it->second.bytes != bytes)
    return fail(TELE_RT_ERROR_INVALID,
                std::string("state entry '") + name + "' holds " +
                    std::to_string(it->second.bytes) + " bytes, not " +
                    std::to_string(bytes));
  if (tele_rt_status s = bind(state->device); s != TELE_RT_OK)
    return s;
  return check(driver().cuMemcpyDtoH(data, it->second.pointer, bytes),
               "cuMemcpyDtoH(state '" + std::string(name) + "')");
}

size_t tele_rt_state_bytes(const tele_rt_state *state) {
  size_t total = 0;
  if (state)
    for (const auto &[name, e] : state->entries)
      total += e.bytes;
  return total;
}

} // extern "C"

//===----------------------------------------------------------------------===//
// Programs
//===----------------------------------------------------------------------===//

namespace {
struct BufferRef {
  enum class Kind { Arena, State, Input, Mask, Const } kind;
  size_t index = 0; ///< arena offset, input or constant index
  std::string name; ///< state entry or mask
  size_t bytes = 0;
};

bool sameBuffer(const BufferRef &x, const BufferRef &y) {
  return x.kind == y.kind && x.index == y.index && x.name == y.name;
}

struct Gemm {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  /// cuBLASLt's heuristic ranking, best first (algo is the one chosen).
  std::vector<cublasLtMatmulAlgo_t> candidates;
  /// Everything the choice of algorithm depends on ("m=.. n=.. k=.. ..."):
  /// GEMMs with equal shapes are tuned once.
  std::string shape;
};

struct Step {
  enum class Kind { Launch, Gemm, Zero, Copy } kind;
  std::string op, kernel;
  CUfunction function = nullptr;
  unsigned grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  unsigned sharedBytes = 0; ///< dynamic shared memory of a launch
  std::vector<BufferRef> args; ///< launch/GEMM arguments; zero: [buffer]; copy: [src, dst]
  Gemm gemm;
  std::string describe() const {
    return op + (kernel.empty() ? "" : " (kernel " + kernel + ")");
  }
};

tele_rt_status parseRef(const json &j, BufferRef &out) {
  if (!j.is_object() || !j.contains("bytes"))
    return fail(TELE_RT_ERROR_INVALID, "malformed buffer reference " + j.dump());
  out.bytes = j["bytes"].get<size_t>();
  if (j.contains("arena"))
    out = {BufferRef::Kind::Arena, j["arena"].get<size_t>(), "", out.bytes};
  else if (j.contains("state"))
    out = {BufferRef::Kind::State, 0, j["state"].get<std::string>(), out.bytes};
  else if (j.contains("input"))
    out = {BufferRef::Kind::Input, j["input"].get<size_t>(), "", out.bytes};
  else if (j.contains("mask"))
    out = {BufferRef::Kind::Mask, 0, j["mask"].get<std::string>(), out.bytes};
  else if (j.contains("const"))
    out = {BufferRef::Kind::Const, j["const"].get<size_t>(), "", out.bytes};
  else
    return fail(TELE_RT_ERROR_INVALID, "unknown buffer reference " + j.dump());
  return TELE_RT_OK;
}
} // namespace

struct tele_rt_program {
  tele_rt_device *device = nullptr;
  std::string path;
  CUmodule module = nullptr;
  CUstream stream = nullptr;
  uint64_t arena = 0, gemmWorkspace = 0;
  size_t arenaBytes = 0;
  std::vector<uint64_t> inputs;
  std::vector<size_t> inputBytes;
  std::map<std::string, uint64_t> masks;
  std::vector<uint64_t> constants;
  std::vector<BufferRef> outputs;
  std::vector<Step> steps;
  /// A cached copy the program reads (state entry with "init": "derived"):
  /// the launches that remake it from its source, run before the steps
  /// where it is stale.
  struct CachedCopy {
    std::string entry, source;
    bool written = false; ///< the program stores the next copy itself
    std::vector<Step> refresh;
    /// The copy's size, as the refresh launches that write it say.
    size_t bytes() const { return refresh.back().args.back().bytes; }
  };
  std::vector<CachedCopy> copies;
  /// The state entries the program writes.
  std::vector<std::string> written;
  cublasLtHandle_t blas = nullptr;
  // The captured graph and what it was captured against.
  CUgraph graph = nullptr;
  CUgraphExec exec = nullptr;
  const tele_rt_state *graphState = nullptr;
  uint64_t graphGeneration = 0;
  int runs = 0;
  /// TELE_RT_PROFILE=1: seconds per op kind and kernel over the profiled runs.
  /// Graphs are off; an event recorded after every step (events[0] before the
  /// first) times each step on the GPU, without a host synchronization in
  /// between, so launch overhead is not counted where the GPU is the
  /// bottleneck.
  std::map<std::string, std::pair<double, int64_t>> profile;
  std::vector<CUevent> events;
  int profiledRuns = 0;

  tele_rt_status load(const json &j, const std::string &ptx);
  tele_rt_status prepareGemm(Step &step, const json &g);
  tele_rt_status resolve(const BufferRef &ref, const tele_rt_state *state,
                         uint64_t &out) const;
  tele_rt_status tuneGemms();
  tele_rt_status enqueue(const tele_rt_state *state);
  tele_rt_status enqueueStep(const Step &step, const tele_rt_state *state,
                             std::vector<uint64_t> &pointers, std::vector<void *> &params);
  /// Before a run: allocates the cached copies and remakes the stale ones.
  tele_rt_status refreshCopies(tele_rt_state *state);
  /// After a run: the entries it wrote changed; the copies it wrote are
  /// those of its sources' new values.
  void recordWrites(tele_rt_state *state) const;
  tele_rt_status recordProfile();
  void releaseGraph();
  ~tele_rt_program();
};

tele_rt_status tele_rt_program::prepareGemm(Step &step, const json &g) {
  const BlasLt &lt = blasLt();
  bool ta = g.at("trans_a"), tb = g.at("trans_b");
  uint64_t m = g.at("m"), n = g.at("n"), k = g.at("k");
  int64_t lda = g.at("lda"), ldb = g.at("ldb"), ldc = g.at("ldc");
  // Operands f32 (TELE_RT_GEMM picks the tensor-core rounding) or bf16
  // (tele-bf16-gemms: plain fp32 accumulation); the result is f32 or bf16.
  auto dataType = [&](const char *key, cudaDataType_t &out) {
    std::string d = g.value(key, "f32");
    out = d == "bf16" ? CUDA_R_16BF : CUDA_R_32F;
    return d == "f32" || d == "bf16";
  };
  cudaDataType_t aType, bType, cType;
  if (!dataType("a_dtype", aType) || !dataType("b_dtype", bType) ||
      !dataType("c_dtype", cType) || aType != bType)
    return fail(TELE_RT_ERROR_INVALID, path + ": " + step.op +
                                           ": GEMM operand types must both be f32 or bf16 "
                                           "(result f32 or bf16)");
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  if (aType == CUDA_R_32F && !gemmComputeType(compute))
    return fail(TELE_RT_ERROR_INVALID, std::string("TELE_RT_GEMM=") + std::getenv("TELE_RT_GEMM") +
                                           ": expected bf16, tf32 or fp32");
  std::string what = "cuBLASLt setup of " + step.op;
  if (auto s = checkBlas(lt.cublasLtMatmulDescCreate(&step.gemm.desc, compute, CUDA_R_32F), what);
      s != TELE_RT_OK)
    return s;
  cublasOperation_t opA = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opB = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  lt.cublasLtMatmulDescSetAttribute(step.gemm.desc, CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof(opA));
  lt.cublasLtMatmulDescSetAttribute(step.gemm.desc, CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof(opB));
  if (auto s = checkBlas(lt.cublasLtMatrixLayoutCreate(&step.gemm.a, aType, ta ? k : m,
                                                      ta ? m : k, lda), what);
      s != TELE_RT_OK)
    return s;
  if (auto s = checkBlas(lt.cublasLtMatrixLayoutCreate(&step.gemm.b, bType, tb ? n : k,
                                                      tb ? k : n, ldb), what);
      s != TELE_RT_OK)
    return s;
  if (auto s = checkBlas(lt.cublasLtMatrixLayoutCreate(&step.gemm.c, cType, m, n, ldc), what);
      s != TELE_RT_OK)
    return s;
  cublasLtMatmulPreference_t pref = nullptr;
  lt.cublasLtMatmulPreferenceCreate(&pref);
  size_t ws = kGemmWorkspaceBytes;
  lt.cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                          &ws, sizeof(ws));
  cublasLtMatmulHeuristicResult_t results[kGemmCandidates]{};
  int found = 0;
  cublasStatus_t st = lt.cublasLtMatmulAlgoGetHeuristic(
      blas, step.gemm.desc, step.gemm.a, step.gemm.b, step.gemm.c, step.gemm.c, pref,
      gemmTuning() ? kGemmCandidates : 1, results, &found);
  lt.cublasLtMatmulPreferenceDestroy(pref);
  if (auto s = checkBlas(st, "cublasLtMatmulAlgoGetHeuristic for " + step.op); s != TELE_RT_OK)
    return s;
  if (found == 0)
    return fail(TELE_RT_ERROR_CUDA, "cuBLASLt has no algorithm for " + step.op + " (m=" +
                                        std::to_string(m) + " n=" + std::to_string(n) +
                                        " k=" + std::to_string(k) + ")");
  for (int i = 0; i < found; ++i)
    if (results[i].state == CUBLAS_STATUS_SUCCESS)
      step.gemm.candidates.push_back(results[i].algo);
  if (step.gemm.candidates.empty())
    step.gemm.candidates.push_back(results[0].algo);
  step.gemm.algo = step.gemm.candidates.front();
  step.gemm.shape = "m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" +
                    std::to_string(k) + (ta ? " A^T" : "") + (tb ? " B^T" : "") + " " +
                    g.value("a_dtype", "f32") + "->" + g.value("c_dtype", "f32") +
                    (step.args.size() < 4                      ? ""
                     : sameBuffer(step.args[2], step.args[3]) ? " +C in place"
                                                              : " +C") +
                    " ld=" + std::to_string(lda) + "," +
                    std::to_string(ldb) + "," + std::to_string(ldc);
  return TELE_RT_OK;
}

tele_rt_status tele_rt_program::tuneGemms() {
  const Driver &d = driver();
  const BlasLt &lt = blasLt();
  CUevent start = nullptr, stop = nullptr;
  if (auto s = check(d.cuEventCreate(&start, CU_EVENT_DEFAULT), "cuEventCreate"); s != TELE_RT_OK)
    return s;
  if (auto s = check(d.cuEventCreate(&stop, CU_EVENT_DEFAULT), "cuEventCreate"); s != TELE_RT_OK) {
    d.cuEventDestroy(start);
    return s;
  }
  // Each candidate runs on scratch operands laid out in the arena (its
  // contents are recomputed by every run, so nothing is lost): A, then B,
  // then D, then the addend C where the step reads it from another buffer
  // than it writes (an in-place addend is D itself): cuBLASLt's algorithms
  // rank differently when C and D differ.
  auto alignUp = [](size_t x) { return (x + 255) & ~size_t(255); };
  std::map<std::string, cublasLtMatmulAlgo_t> chosen;
  tele_rt_status status = TELE_RT_OK;
  for (Step &step : steps) {
    if (step.kind != Step::Kind::Gemm || step.gemm.candidates.size() < 2)
      continue;
    if (auto it = chosen.find(step.gemm.shape); it != chosen.end()) {
      step.gemm.algo = it->second;
      continue;
    }
    bool addend = step.args.size() > 3;
    size_t aAt = 0, bAt = alignUp(step.args[0].bytes), dAt = bAt + alignUp(step.args[1].bytes);
    if (dAt + step.args[2].bytes > arenaBytes)
      continue;
    // (Where the arena cannot hold a separate addend too, C = D stands in.)
    size_t cAt = dAt + alignUp(step.args[2].bytes);
    if (!addend || sameBuffer(step.args[2], step.args[3]) ||
        cAt + step.args[3].bytes > arenaBytes)
      cAt = dAt;
    void *a = reinterpret_cast<void *>(arena + aAt), *b = reinterpret_cast<void *>(arena + bAt),
         *dst = reinterpret_cast<void *>(arena + dAt), *c = reinterpret_cast<void *>(arena + cAt);
    const float alpha = 1.0f, beta = addend ? 1.0f : 0.0f;
    auto run = [&](const cublasLtMatmulAlgo_t &algo) {
      return lt.cublasLtMatmul(blas, step.gemm.desc, &alpha, a, step.gemm.a, b, step.gemm.b,
                               &beta, c, step.gemm.c, dst, step.gemm.c, &algo,
                               reinterpret_cast<void *>(gemmWorkspace), kGemmWorkspaceBytes,
                               stream);
    };
    // A candidate counts only if it ran and was timed; if none was, the
    // heuristic's first stays.
    constexpr int kRepeats = 5;
    float best = std::numeric_limits<float>::infinity(), first = NAN;
    size_t bestIndex = 0;
    for (size_t i = 0; i < step.gemm.candidates.size(); ++i) {
      const cublasLtMatmulAlgo_t &algo = step.gemm.candidates[i];
      if (run(algo) != CUBLAS_STATUS_SUCCESS)
        continue;
      bool ran = d.cuEventRecord(start, stream) == CUDA_SUCCESS;
      for (int r = 0; r < kRepeats; ++r)
        ran &= run(algo) == CUBLAS_STATUS_SUCCESS;
      ran &= d.cuEventRecord(stop, stream) == CUDA_SUCCESS;
      if ((status = check(d.cuEventSynchronize(stop), "cuEventSynchronize (GEMM tuning of " +
                                                          step.op + ")")) != TELE_RT_OK)
        break;
      float ms = 0;
      if (!ran || d.cuEventElapsedTime(&ms, start, stop) != CUDA_SUCCESS)
        continue;
      if (i == 0)
        first = ms;
      if (ms < best)
        best = ms, bestIndex = i;
    }
    if (status != TELE_RT_OK)
      break;
    step.gemm.algo = step.gemm.candidates[bestIndex];
    chosen[step.gemm.shape] = step.gemm.algo;
    debug("GEMM %s: heuristic's first %.3f ms, candidate %zu of %zu %.3f ms",
          step.gemm.shape.c_str(), first / kRepeats, bestIndex,
          step.gemm.candidates.size(), best / kRepeats);
  }
  d.cuEventDestroy(start);
  d.cuEventDestroy(stop);
  return status;
}

tele_rt_status tele_rt_program::load(const json &j, const std::string &ptx) {
  if (j.value("format", "") != "tele-cuda-program" || j.value("version", 0) != 1)
    return fail(TELE_RT_ERROR_INVALID,
                path + ": not a tele-cuda-program version 1 (recompile with tele compile)");
  const Driver &d = driver();
  if (auto s = check(d.cuStreamCreate(&stream, CU_STREAM_DEFAULT), "cuStreamCreate"); s != TELE_RT_OK)
    return s;
  if (auto s = loadPtx(ptx.c_str(), &module, "cuModuleLoadDataEx(" + path + ")"); s != TELE_RT_OK)
    return s;
  auto alloc = [&](size_t bytes, uint64_t &out, const std::string &what) {
    CUdeviceptr p = 0;
    tele_rt_status s = check(d.cuMemAlloc(&p, bytes ? bytes : 1),
                             "cuMemAlloc(" + what + ", " + std::to_string(bytes) + " bytes)");
    out = p;
    return s;
  };
  arenaBytes = j.at("arena_bytes").get<size_t>();
  if (auto s = alloc(arenaBytes, arena, "arena"); s != TELE_RT_OK)
    return s;
  for (const json &in : j.at("inputs")) {
    size_t n = 1;
    for (size_t dim : in.at("shape"))
      n *= dim;
    std::string dtype = in.at("dtype");
    size_t bytes = n * (dtype == "i64" ? 8 : 4);
    inputs.push_back(0);
    inputBytes.push_back(bytes);
    if (auto s = alloc(bytes, inputs.back(), "input"); s != TELE_RT_OK)
      return s;
  }
  for (const json &m : j.at("masks")) {
    uint64_t p = 0;
    if (auto s = alloc(4, p, "mask"); s != TELE_RT_OK)
      return s;
    masks[m.get<std::string>()] = p;
    float one = 1.0f;
    d.cuMemcpyHtoD(p, &one, 4);
  }
  for (const json &c : j.at("constants")) {
    std::vector<float> values;
    for (double v : c.at("values"))
      values.push_back(float(v));
    uint64_t p = 0;
    if (auto s = alloc(values.size() * 4, p, "constant"); s != TELE_RT_OK)
      return s;
    if (auto s = check(d.cuMemcpyHtoD(p, values.data(), values.size() * 4), "cuMemcpyHtoD(constant)");
        s != TELE_RT_OK)
      return s;
    constants.push_back(p);
  }
  for (const json &o : j.at("outputs")) {
    outputs.emplace_back();
    if (auto s = parseRef(o, outputs.back()); s != TELE_RT_OK)
      return s;
  }
  bool anyGemm = false;
  for (const json &s : j.at("steps"))
    anyGemm |= s.contains("gemm");
  if (anyGemm) {
    if (!blasLt().loaded)
      return fail(TELE_RT_ERROR_NO_DEVICE, blasLt().error);
    if (auto s = checkBlas(blasLt().cublasLtCreate(&blas), "cublasLtCreate"); s != TELE_RT_OK)
      return s;
    if (auto s = alloc(kGemmWorkspaceBytes, gemmWorkspace, "GEMM workspace"); s != TELE_RT_OK)
      return s;
  }
  std::map<std::string, CUfunction> functions;
  auto parseStep = [&](const json &js, Step &step) -> tele_rt_status {
    step.op = js.value("op", "?");
    auto refs = [&](const json &list) -> tele_rt_status {
      for (const json &r : list) {
        step.args.emplace_back();
        if (auto s = parseRef(r, step.args.back()); s != TELE_RT_OK)
          return s;
      }
      return TELE_RT_OK;
    };
    if (js.contains("launch")) {
      step.kind = Step::Kind::Launch;
      step.kernel = js["launch"].get<std::string>();
      for (int i = 0; i < 3; ++i) {
        step.grid[i] = js.at("grid")[i].get<unsigned>();
        step.block[i] = js.at("block")[i].get<unsigned>();
      }
      step.sharedBytes = js.value("shared_bytes", 0u);
      auto it = functions.find(step.kernel);
      if (it == functions.end()) {
        CUfunction fn = nullptr;
        if (auto s = check(d.cuModuleGetFunction(&fn, module, step.kernel.c_str()),
                           "cuModuleGetFunction(" + step.kernel + ")");
            s != TELE_RT_OK)
          return s;
        it = functions.emplace(step.kernel, fn).first;
      }
      if (auto s = allowSharedMemory(it->second, step.sharedBytes, step.kernel); s != TELE_RT_OK)
        return s;
      step.function = it->second;
      if (auto s = refs(js.at("args")); s != TELE_RT_OK)
        return s;
    } else if (js.contains("gemm")) {
      step.kind = Step::Kind::Gemm;
      if (auto s = refs(js.at("args")); s != TELE_RT_OK)
        return s;
      if (step.args.size() != 3 && step.args.size() != 4)
        return fail(TELE_RT_ERROR_INVALID,
                    path + ": " + step.op + ": a GEMM takes A, B, D and optionally C");
      if (auto s = prepareGemm(step, js["gemm"]); s != TELE_RT_OK)
        return s;
    } else if (js.contains("zero")) {
      step.kind = Step::Kind::Zero;
      if (auto s = refs(json::array({js["zero"]})); s != TELE_RT_OK)
        return s;
    } else if (js.contains("copy")) {
      step.kind = Step::Kind::Copy;
      if (auto s = refs(json::array({js["copy"].at("src"), js["copy"].at("dst")})); s != TELE_RT_OK)
        return s;
    } else {
      return fail(TELE_RT_ERROR_INVALID, path + ": unknown step " + js.dump());
    }
    return TELE_RT_OK;
  };
  for (const json &js : j.at("steps")) {
    steps.emplace_back();
    if (auto s = parseStep(js, steps.back()); s != TELE_RT_OK)
      return s;
  }
  for (const json &e : j.at("state")) {
    std::string name = e.at("name");
    if (e.value("written", false))
      written.push_back(name);
    if (e.value("init", "") != "derived")
      continue;
    copies.push_back({name, e.at("source").get<std::string>(), e.value("written", false), {}});
  }
  // Each refresh launch writes one copy: its last argument.
  for (const json &js : j.value("refresh", json::array())) {
    Step step;
    if (auto s = parseStep(js, step); s != TELE_RT_OK)
      return s;
    auto copy = std::find_if(copies.begin(), copies.end(), [&](const CachedCopy &c) {
      return !step.args.empty() && step.args.back().kind == BufferRef::Kind::State &&
             step.args.back().name == c.entry;
    });
    if (copy == copies.end())
      return fail(TELE_RT_ERROR_INVALID,
                  path + ": a refresh step writes no derived state entry: " + js.dump());
    copy->refresh.push_back(std::move(step));
  }
  for (const CachedCopy &copy : copies)
    if (copy.refresh.empty())
      return fail(TELE_RT_ERROR_INVALID,
                  path + ": no refresh launch makes the derived entry '" + copy.entry + "'");
  if (anyGemm && gemmTuning())
    if (auto s = tuneGemms(); s != TELE_RT_OK)
      return s;
  debug("loaded program %s: %zu steps, arena %zu bytes", path.c_str(), steps.size(), arenaBytes);
  return TELE_RT_OK;
}

tele_rt_status tele_rt_program::resolve(const BufferRef &ref, const tele_rt_state *state,
                                        uint64_t &out) const {
  switch (ref.kind) {
  case BufferRef::Kind::Arena:
    if (ref.index + ref.bytes > arenaBytes)
      return fail(TELE_RT_ERROR_INVALID, path + ": buffer outside the arena");
    out = arena + ref.index;
    return TELE_RT_OK;
  case BufferRef::Kind::State: {
    auto it = state->entries.find(ref.name);
    if (it == state->entries.end())
      return fail(TELE_RT_ERROR_NOT_FOUND, path + ": the state has no entry '" + ref.name + "'");
    if (it->second.bytes != ref.bytes)
      return fail(TELE_RT_ERROR_INVALID, path + ": state entry '" + ref.name + "' holds " +
                                             std::to_string(it->second.bytes) +
                                             " bytes, the program expects " +
                                             std::to_string(ref.bytes));
    out = it->second.pointer;
    return TELE_RT_OK;
  }
  case BufferRef::Kind::Input:
    out = inputs.at(ref.index);
    return TELE_RT_OK;
  case BufferRef::Kind::Mask:
    out = masks.at(ref.name);
    return TELE_RT_OK;
  case BufferRef::Kind::Const:
    out = constants.at(ref.index);
    return TELE_RT_OK;
  }
  return TELE_RT_ERROR_INVALID;
}

namespace {
/// The profile row of a step: GEMMs by op and shape; launches by op and kernel, the
/// kernel without its shape suffix (flash_attention_grad_key_8x2048x16x128
/// -> flash_attention_grad_key), so an op's kernels are told apart.
std::string profileKey(const Step &step) {
  if (step.kind == Step::Kind::Gemm)
    return step.op + " (cuBLASLt " + step.gemm.shape + ")";
  if (step.kind != Step::Kind::Launch)
    return step.op;
  std::string stem = step.kernel;
  for (size_t i = 0; i + 1 < stem.size(); ++i)
    if (stem[i] == '_' && std::isdigit(static_cast<unsigned char>(stem[i + 1]))) {
      stem.resize(i);
      break;
    }
  return step.op + " " + stem;
}
} // namespace

tele_rt_status tele_rt_program::enqueue(const tele_rt_state *state) {
  const Driver &d = driver();
  // Synchronize after every step when debugging, so a fault names its step.
  bool eagerChecks = debugEnabled() && runs == 0;
  std::vector<uint64_t> pointers;
  std::vector<void *> params;
  size_t stepsDone = 0;
  if (profiling()) {
    while (events.size() < steps.size() + 1) {
      CUevent e = nullptr;
      if (auto s = check(d.cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate (profile)");
          s != TELE_RT_OK)
        return s;
      events.push_back(e);
    }
    if (auto s = check(d.cuEventRecord(events[0], stream), "cuEventRecord (profile)");
        s != TELE_RT_OK)
      return s;
  }
  for (const Step &step : steps) {
    if (auto s = enqueueStep(step, state, pointers, params); s != TELE_RT_OK)
      return s;
    ++stepsDone;
    if (profiling())
      if (auto s = check(d.cuEventRecord(events[stepsDone], stream), "cuEventRecord (profile)");
          s != TELE_RT_OK)
        return s;
    if (eagerChecks)
      if (auto s = check(d.cuStreamSynchronize(stream), "after " + step.describe());
          s != TELE_RT_OK)
        return s;
  }
  return TELE_RT_OK;
}

/// Resolves the step's arguments into `pointers` and enqueues it on the
/// program's stream (`params` is scratch for a launch's parameters).
tele_rt_status tele_rt_program::enqueueStep(const Step &step, const tele_rt_state *state,
                                            std::vector<uint64_t> &pointers,
                                            std::vector<void *> &params) {
  const Driver &d = driver();
  pointers.resize(step.args.size());
  for (size_t i = 0; i < step.args.size(); ++i)
    if (auto s = resolve(step.args[i], state, pointers[i]); s != TELE_RT_OK)
      return s;
  tele_rt_status s = TELE_RT_OK;
  switch (step.kind) {
  case Step::Kind::Launch:
    params.resize(pointers.size());
    for (size_t i = 0; i < pointers.size(); ++i)
      params[i] = &pointers[i];
    s = check(d.cuLaunchKernel(step.function, step.grid[0], step.grid[1], step.grid[2],
                               step.block[0], step.block[1], step.block[2], step.sharedBytes,
                               stream, params.data(), nullptr),
              "cuLaunchKernel(" + step.describe() + ")");
    break;
  case Step::Kind::Gemm: {
    // D = A B, or A B + C with a fourth (addend) argument.
    bool addend = pointers.size() > 3;
    const float alpha = 1.0f, beta = addend ? 1.0f : 0.0f;
    s = checkBlas(blasLt().cublasLtMatmul(
                      blas, step.gemm.desc, &alpha, reinterpret_cast<void *>(pointers[0]),
                      step.gemm.a, reinterpret_cast<void *>(pointers[1]), step.gemm.b, &beta,
                      reinterpret_cast<void *>(pointers[addend ? 3 : 2]), step.gemm.c,
                      reinterpret_cast<void *>(pointers[2]), step.gemm.c, &step.gemm.algo,
                      reinterpret_cast<void *>(gemmWorkspace), kGemmWorkspaceBytes, stream),
                  "cublasLtMatmul(" + step.op + ")");
    break;
  }
  case Step::Kind::Zero:
    s = check(d.cuMemsetD8Async(pointers[0], 0, step.args[0].bytes, stream),
              "cuMemsetD8Async(" + step.op + ")");
    break;
  case Step::Kind::Copy:
    s = check(d.cuMemcpyDtoDAsync(pointers[1], pointers[0], step.args[0].bytes, stream),
              "cuMemcpyDtoDAsync(" + step.op + " '" + step.args[1].name + "')");
    break;
  }
  return s;
}

tele_rt_status tele_rt_program::refreshCopies(tele_rt_state *state) {
  std::vector<uint64_t> pointers;
  std::vector<void *> params;
  for (const CachedCopy &copy : copies) {
    auto source = state->entries.find(copy.source);
    if (source == state->entries.end())
      return fail(TELE_RT_ERROR_NOT_FOUND, path + ": the state has no entry '" + copy.source +
                                               "' (the source of '" + copy.entry + "')");
    tele_rt_state::Entry *entry = nullptr;
    if (auto s = state->allocate(copy.entry, copy.bytes(), entry); s != TELE_RT_OK)
      return s;
    auto made = state->copiedFrom.find(copy.entry);
    if (made != state->copiedFrom.end() && made->second == source->second.version)
      continue;
    for (const Step &step : copy.refresh)
      if (auto s = enqueueStep(step, state, pointers, params); s != TELE_RT_OK)
        return s;
    state->copiedFrom[copy.entry] = source->second.version;
    debug("%s: made the cached copy '%s'", path.c_str(), copy.entry.c_str());
  }
  return TELE_RT_OK;
}

void tele_rt_program::recordWrites(tele_rt_state *state) const {
  for (const std::string &name : written)
    if (auto it = state->entries.find(name); it != state->entries.end())
      it->second.version = ++state->clock;
  for (const CachedCopy &copy : copies)
    if (copy.written)
      state->copiedFrom[copy.entry] = state->entries.at(copy.source).version;
}

/// After a profiled run has finished: adds each step's time (its event
/// minus the previous one) to its profile row.
tele_rt_status tele_rt_program::recordProfile() {
  const Driver &d = driver();
  for (size_t i = 0; i < steps.size(); ++i) {
    float ms = 0;
    if (auto s = check(d.cuEventElapsedTime(&ms, events[i], events[i + 1]),
                       "cuEventElapsedTime (profile of " + steps[i].describe() + ")");
        s != TELE_RT_OK)
      return s;
    auto &entry = profile[profileKey(steps[i])];
    entry.first += 1e-3 * ms;
    entry.second += 1;
  }
  ++profiledRuns;
  return TELE_RT_OK;
}

void tele_rt_program::releaseGraph() {
  if (exec)
    driver().cuGraphExecDestroy(exec);
  if (graph)
    driver().cuGraphDestroy(graph);
  exec = nullptr;
  graph = nullptr;
  graphState = nullptr;
}

tele_rt_program::~tele_rt_program() {
  if (profiledRuns > 0) {
    std::vector<std::pair<double, std::string>> rows;
    double total = 0;
    for (auto &[op, e] : profile) {
      rows.push_back({e.first, op});
      total += e.first;
    }
    std::sort(rows.rbegin(), rows.rend());
    std::fprintf(stderr, "tele_rt profile of %s: %.3f ms per run over %d runs\n", path.c_str(),
                 1e3 * total / profiledRuns, profiledRuns);
    for (auto &[sec, op] : rows)
      std::fprintf(stderr, "  %-60s %6lld steps/run %9.3f ms/run %5.1f%%\n", op.c_str(),
                   (long long)(profile[op].second / profiledRuns), 1e3 * sec / profiledRuns,
                   100.0 * sec / total);
  }
  if (!device || bind(device) != TELE_RT_OK)
    return;
  const Driver &d = driver();
  releaseGraph();
  for (CUevent e : events)
    d.cuEventDestroy(e);
  for (Step &s : steps)
    if (s.kind == Step::Kind::Gemm) {
      blasLt().cublasLtMatrixLayoutDestroy(s.gemm.a);
      blasLt().cublasLtMatrixLayoutDestroy(s.gemm.b);
      blasLt().cublasLtMatrixLayoutDestroy(s.gemm.c);
      blasLt().cublasLtMatmulDescDestroy(s.gemm.desc);
    }
  if (blas)
    blasLt().cublasLtDestroy(blas);
  for (uint64_t p : inputs)
    d.cuMemFree(p);
  for (auto &[name, p] : masks)
    d.cuMemFree(p);
  for (uint64_t p : constants)
    d.cuMemFree(p);
  if (arena)
    d.cuMemFree(arena);
  if (gemmWorkspace)
    d.cuMemFree(gemmWorkspace);
  if (module)
    d.cuModuleUnload(module);
  if (stream)
    d.cuStreamDestroy(stream);
}

extern "C" {

tele_rt_status tele_rt_program_load_text(tele_rt_device *device, const char *program_json,
                                         const char *ptx, const char *name,
                                         tele_rt_program **out) {
  if (!device || !program_json || !ptx || !name || !out)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_program_load_text: null argument");
  json j = json::parse(program_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fail(TELE_RT_ERROR_INVALID, std::string(name) + ": not valid JSON");
  if (tele_rt_status s = bind(device); s != TELE_RT_OK)
    return s;
  auto *p = new tele_rt_program();
  p->device = device;
  p->path = name;
  tele_rt_status s;
  try {
    s = p->load(j, ptx);
  } catch (const json::exception &e) {
    s = fail(TELE_RT_ERROR_INVALID, std::string(name) + ": malformed program: " + e.what());
  }
  if (s != TELE_RT_OK) {
    delete p;
    return s;
  }
  *out = p;
  return TELE_RT_OK;
}

tele_rt_status tele_rt_program_load(tele_rt_device *device, const char *path,
                                    tele_rt_program **out) {
  if (!device || !path || !out)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_program_load: null argument");
  std::ifstream in(path);
  if (!in)
    return fail(TELE_RT_ERROR_NOT_FOUND, std::string("cannot open program ") + path);
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fail(TELE_RT_ERROR_INVALID, std::string(path) + ": not valid JSON");
  std::string dir = path;
  dir = dir.find('/') == std::string::npos ? "." : dir.substr(0, dir.rfind('/'));
  std::string ptxPath = dir + "/" + j.value("ptx", "");
  std::ifstream ptxIn(ptxPath);
  if (!ptxIn)
    return fail(TELE_RT_ERROR_NOT_FOUND, std::string(path) + ": cannot open its PTX " + ptxPath);
  std::stringstream ptx;
  ptx << ptxIn.rdbuf();
  return tele_rt_program_load_text(device, text.str().c_str(), ptx.str().c_str(), path, out);
}

void tele_rt_program_destroy(tele_rt_program *program) { delete program; }

size_t tele_rt_program_arena_bytes(const tele_rt_program *program) {
  return program ? program->arenaBytes : 0;
}
size_t tele_rt_program_num_inputs(const tele_rt_program *program) {
  return program ? program->inputs.size() : 0;
}
size_t tele_rt_program_num_outputs(const tele_rt_program *program) {
  return program ? program->outputs.size() : 0;
}

tele_rt_status tele_rt_program_set_input(tele_rt_program *program, size_t index,
                                         const void *data, size_t bytes) {
  if (!program || !data || index >= program->inputs.size())
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_program_set_input: bad argument");
  if (bytes != program->inputBytes[index])
    return fail(TELE_RT_ERROR_INVALID,
                "input " + std::to_string(index) + " takes " +
                    std::to_string(program->inputBytes[index]) + " bytes, got " +
                    std::to_string(bytes));
  if (tele_rt_status s = bind(program->device); s != TELE_RT_OK)
    return s;
  return check(driver().cuMemcpyHtoD(program->inputs[index], data, bytes),
               "cuMemcpyHtoD(input " + std::to_string(index) + ")");
}

tele_rt_status tele_rt_program_set_mask(tele_rt_program *program, const char *name,
                                        float value) {
  if (!program || !name)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_program_set_mask: null argument");
  auto it = program->masks.find(name);
  if (it == program->masks.end())
    return TELE_RT_OK;
  if (tele_rt_status s = bind(program->device); s != TELE_RT_OK)
    return s;
  return check(driver().cuMemcpyHtoD(it->second, &value, 4), "cuMemcpyHtoD(mask)");
}

tele_rt_status tele_rt_program_run(tele_rt_program *program, tele_rt_state *state) {
  if (!program || !state)
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_program_run: null argument");
  if (tele_rt_status s = bind(program->device); s != TELE_RT_OK)
    return s;
  const Driver &d = driver();
  // Outside the graph: which copies are stale changes from run to run (and
  // a first allocation makes the graph be captured again).
  if (auto s = program->refreshCopies(state); s != TELE_RT_OK)
    return s;
  // TELE_RT_GRAPH=0 turns graphs off; profiling times steps one by one.
  const char *graphs = std::getenv("TELE_RT_GRAPH");
  bool useGraph = !(graphs && std::string(graphs) == "0") && !profiling() && program->runs > 0;
  if (useGraph && (program->graphState != state ||
                   program->graphGeneration != state->generation || !program->exec)) {
    program->releaseGraph();
    if (auto s = check(d.cuStreamBeginCapture(program->stream,
                                              CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                       "cuStreamBeginCapture");
        s != TELE_RT_OK)
      return s;
    tele_rt_status enq = program->enqueue(state);
    CUgraph graph = nullptr;
    tele_rt_status end = check(d.cuStreamEndCapture(program->stream, &graph),
                               "cuStreamEndCapture");
    if (enq != TELE_RT_OK)
      return enq;
    if (end != TELE_RT_OK)
      return end;
    program->graph = graph;
    if (auto s = check(d.cuGraphInstantiate(&program->exec, graph, 0), "cuGraphInstantiate");
        s != TELE_RT_OK)
      return s;
    program->graphState = state;
    program->graphGeneration = state->generation;
    debug("captured %s as a CUDA graph", program->path.c_str());
  }
  if (useGraph) {
    if (auto s = check(d.cuGraphLaunch(program->exec, program->stream), "cuGraphLaunch");
        s != TELE_RT_OK)
      return s;
  } else if (auto s = program->enqueue(state); s != TELE_RT_OK) {
    return s;
  }
  ++program->runs;
  program->recordWrites(state);
  if (auto s = check(d.cuStreamSynchronize(program->stream),
                     "cuStreamSynchronize(" + program->path + ")");
      s != TELE_RT_OK)
    return s;
  return profiling() ? program->recordProfile() : TELE_RT_OK;
}

tele_rt_status tele_rt_program_get_output(tele_rt_program *program, size_t index,
                                          void *data, size_t bytes) {
  if (!program || !data || index >= program->outputs.size())
    return fail(TELE_RT_ERROR_INVALID, "tele_rt_program_get_output: bad argument");
  const BufferRef &ref = program->outputs[index];
  if (bytes != ref.bytes)
    return fail(TELE_RT_ERROR_INVALID, "output " + std::to_string(index) + " has " +
                                           std::to_string(ref.bytes) + " bytes, not " +
                                           std::to_string(bytes));
  if (ref.kind == BufferRef::Kind::State)
    return fail(TELE_RT_ERROR_INVALID, "output " + std::to_string(index) +
                                           " is a state entry: download it by name");
  uint64_t p = 0;
  if (tele_rt_status s = program->resolve(ref, nullptr, p); s != TELE_RT_OK)
    return s;
  if (tele_rt_status s = bind(program->device); s != TELE_RT_OK)
    return s;
  return check(driver().cuMemcpyDtoH(data, p, bytes), "cuMemcpyDtoH(output)");
}

} // extern "C"
