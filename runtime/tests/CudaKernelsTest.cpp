//===- runtime/tests/CudaKernelsTest.cpp - tele's PTX kernels on a GPU ----===//
//
// This file runs the kernels of programs that `tele compile --target cuda`
// wrote, one op at a time: for the first op of every distinct kind and
// kernel set in a program it uploads fresh random operands, runs that op's
// steps (zero-fills and launches, in order, through tele_rt), and compares
// the results with the CPU reference kernels computed in fp64. GEMMs are
// cuBLASLt's and are checked by the whole-step test instead
// (test/Integration/GPU). The programs are $TELE_CUDA_KERNELS (a ':'-separated
// list) or those the build generated; every test skips without a GPU.
//
//===----------------------------------------------------------------------===//

#include "cpu/Kernels.h"
#include "tele_rt/tele_rt.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {
using json = nlohmann::json;

#ifndef TELE_CUDA_KERNELS_DEFAULT
#define TELE_CUDA_KERNELS_DEFAULT ""
#endif

std::vector<std::string> programPaths() {
  const char *env = std::getenv("TELE_CUDA_KERNELS");
  std::string list = env && *env ? env : TELE_CUDA_KERNELS_DEFAULT;
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string p; std::getline(ss, p, ':');)
    if (!p.empty())
      out.push_back(p);
  return out;
}

int64_t numel(const json &type) {
  int64_t n = 1;
  for (int64_t d : type["shape"])
    n *= d;
  return n;
}

/// f to the nearest bf16 (ties to even), as the GPU's cvt.rn.bf16.f32.
uint16_t bf16Bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return uint16_t((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}
double fromBf16Bits(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
/// x as the device holds it in bf16 (rounded through f32, as the kernels do).
double roundToBf16(double x) { return fromBf16Bits(bf16Bits(float(x))); }

/// One buffer of an op (operand, result or workspace): host values as
/// doubles for the reference, its kind and its device copy.
struct Buffer {
  std::vector<double> host;
  std::string dtype = "f32"; ///< f32, bf16, i32 (tokens) or i64 (steps)
  size_t bytes = 0;
  uint64_t device = 0;
};

/// Rounds a float buffer's host values to what the device holds (fp32, or
/// bf16 for a copy tele-bf16-gemms made), so the reference computes on the
/// kernel's inputs. Integer buffers stay.
void roundAsStored(Buffer &b) {
  if (b.dtype == "f32")
    for (double &x : b.host)
      x = double(float(x));
  if (b.dtype == "bf16")
    for (double &x : b.host)
      x = roundToBf16(x);
}

class CudaKernels : public ::testing::Test {
protected:
  void SetUp() override {
    if (tele_rt_device_open(0, &device) != TELE_RT_OK)
      GTEST_SKIP() << "no GPU: " << tele_rt_last_error();
    if (programPaths().empty())
      GTEST_SKIP() << "no programs (set TELE_CUDA_KERNELS)";
  }
  void TearDown() override { tele_rt_device_close(device); }

  void upload(Buffer &b) {
    ASSERT_EQ(tele_rt_alloc(device, std::max<size_t>(b.bytes, 4), &b.device), TELE_RT_OK);
    std::vector<uint8_t> raw(b.bytes);
    for (size_t i = 0; i < b.host.size(); ++i) {
      if (b.dtype == "i64") {
        int64_t v = int64_t(b.host[i]);
        std::memcpy(raw.data() + 8 * i, &v, 8);
      } else if (b.dtype == "bf16") {
        uint16_t v = bf16Bits(float(b.host[i]));
        std::memcpy(raw.data() + 2 * i, &v, 2);
      } else if (b.dtype == "i32") {
        int32_t v = int32_t(b.host[i]);
        std::memcpy(raw.data() + 4 * i, &v, 4);
      } else {
        float v = float(b.host[i]);
        std::memcpy(raw.data() + 4 * i, &v, 4);
      }
    }
    // Rounded to what the device sees, so the reference uses the same inputs.
    roundAsStored(b);
    ASSERT_EQ(tele_rt_copy_to_device(device, b.device, raw.data(), b.bytes), TELE_RT_OK);
  }
  std::vector<double> download(const Buffer &b) {
    if (b.dtype == "bf16") {
      std::vector<uint16_t> h(b.bytes / 2);
      EXPECT_EQ(tele_rt_copy_to_host(device, h.data(), b.device, b.bytes), TELE_RT_OK);
      std::vector<double> out;
      for (uint16_t x : h)
        out.push_back(fromBf16Bits(x));
      return out;
    }
    std::vector<float> f(b.bytes / 4);
    EXPECT_EQ(tele_rt_copy_to_host(device, f.data(), b.device, b.bytes), TELE_RT_OK);
    return std::vector<double>(f.begin(), f.end());
  }

  tele_rt_device *device = nullptr;
};

/// Fills the operands of `op` (from the program's "ops" table) with inputs
/// its kernels accept and returns the reference results; false if tele has
/// no reference for the op.
bool reference(const json &op, std::vector<Buffer> &in,
               std::vector<std::vector<double>> &out, std::mt19937_64 &rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const std::string name = op["op"];
  const json &attrs = op["attrs"];
  const json &operands = op["operands"];
  for (const json &t : operands) {
    Buffer b;
    b.dtype = t["dtype"];
    b.host.resize(numel(t));
    b.bytes = b.host.size() * (b.dtype == "i64" ? 8 : b.dtype == "bf16" ? 2 : 4);
    // A bf16 operand (a copy tele-bf16-gemms made) holds bf16 values: the
    // reference computes on exactly what the kernel reads.
    for (double &x : b.host)
      x = b.dtype == "bf16" ? roundToBf16(normal(rng)) : normal(rng);
    in.push_back(std::move(b));
  }
  for (const json &r : op["results"])
    out.emplace_back(numel(r));
  auto dims = [&](size_t i) { return operands[i]["shape"]; };
  auto tokens = [&](Buffer &b, int64_t vocab) {
    for (double &x : b.host)
      x = double(int64_t(unit(rng) * double(vocab)) % vocab);
  };
  auto ints = [](const Buffer &b) { return std::vector<int32_t>(b.host.begin(), b.host.end()); };
  int64_t n = out[0].size();
  namespace k = tele::cpu;
  if (name == "tele.add") {
    k::add(in[0].host.data(), in[1].host.data(), out[0].data(), n);
  } else if (name == "tele.scale") {
    k::scale(in[0].host.data(), attrs["factor"].get<double>(), out[0].data(), n);
  } else if (name == "tele.swiglu") {
    k::swiglu(in[0].host.data(), in[1].host.data(), out[0].data(), n);
  } else if (name == "tele.swiglu_grad") {
    k::swigluGrad(in[0].host.data(), in[1].host.data(), in[2].host.data(), out[0].data(),
                  out[1].data(), n);
  } else if (name == "tele.mask_mul") {
    int64_t d = in[1].host.size();
    for (double &x : in[1].host)
      x = unit(rng);
    k::maskMul(in[0].host.data(), in[1].host.data(), out[0].data(), n / d, d);
  } else if (name == "tele.lerp") {
    in[2].host[0] = 0.3;
    k::lerp(in[0].host.data(), in[1].host.data(), 0.3, out[0].data(), n);
  } else if (name == "tele.lerp_grad") {
    in[1].host[0] = 0.3;
    k::lerpGrad(in[0].host.data(), 0.3, out[0].data(), out[1].data(), n);
  } else if (name == "tele.convert" || name == "tele.cached_convert") {
    for (int64_t i = 0; i < n; ++i) // the device rounds the f32 it reads
      out[0][i] = roundToBf16(in[0].host[i]);
  } else if (name == "tele.adamw") {
    for (double &x : in[3].host) // second moments are non-negative
      x = std::abs(x) * 1e-2;
    in[4].host[0] = 1e-3; // lr
    in[5].host[0] = 0.7;  // clip scale
    in[6].host[0] = 5;    // step
    out[0] = in[0].host;
    out[1] = in[2].host;
    out[2] = in[3].host;
    for (int i = 0; i < 4; ++i) // the reference sees the fp32-rounded inputs
      for (double &x : in[i].host)
        x = double(float(x));
    out[0] = in[0].host;
    out[1] = in[2].host;
    out[2] = in[3].host;
    k::adamw(out[0].data(), in[1].host.data(), out[1].data(), out[2].data(), n, 1e-3,
             attrs["beta1"], attrs["beta2"], attrs["eps"], attrs["weight_decay"], 5, 0.7);
    if (out.size() > 3) // the new parameter's bf16 copy
      out[3] = out[0];
  } else if (name == "tele.rms_norm") {
    int64_t d = in[1].host.size();
    // An optional [D] mask after the gain.
    const double *mask = nullptr;
    if (in.size() > 2) {
      for (double &x : in[2].host)
        x = unit(rng);
      mask = in[2].host.data();
    }
    for (Buffer &b : in) // the reference sees the fp32-rounded inputs
      roundAsStored(b);
    k::rmsNorm(in[0].host.data(), in[1].host.data(), mask, out[0].data(),
               int64_t(in[0].host.size()) / d, d, attrs["eps"].get<double>());
  } else if (name == "tele.rms_norm_grad") {
    // Operands: input, gain, the output gradients (summed; f32 or bf16
    // copies), an optional mask and an optional addend (added to dx), as
    // operandSegmentSizes says. Results: dx, dgain and, optionally, dx's
    // bf16 copy.
    const json &segments = attrs["operandSegmentSizes"];
    size_t grads = segments[2], maskAt = 2 + grads;
    bool masked = segments[3] == 1, plus = segments[4] == 1;
    int64_t d = in[1].host.size();
    if (masked)
      for (double &x : in[maskAt].host)
        x = unit(rng);
    for (Buffer &b : in) // bf16 copies are exact; f32 inputs fp32-rounded
      roundAsStored(b);
    std::vector<double> dy(in[0].host.size(), 0.0);
    for (size_t g = 0; g < grads; ++g)
      for (size_t i = 0; i < dy.size(); ++i)
        dy[i] += in[2 + g].host[i];
    k::rmsNormGrad(in[0].host.data(), in[1].host.data(), masked ? in[maskAt].host.data() : nullptr,
                   dy.data(), out[0].data(), out[1].data(), int64_t(dy.size()) / d, d,
                   attrs["eps"].get<double>());
    if (plus)
      for (size_t i = 0; i < out[0].size(); ++i)
        out[0][i] += in.back().host[i];
    if (out.size() > 2)
      out[2] = out[0];
  } else if (name == "tele.rope") {
    auto s = dims(0);
    int64_t dh = attrs["head_dim"];
    k::rope(in[0].host.data(), out[0].data(), s[0], s[1], s[2].get<int64_t>() / dh, dh,
            attrs["theta"].get<double>(), attrs.contains("inverse"));
  } else if (name == "tele.embed") {
    int64_t vocab = dims(0)[0], d = dims(0)[1];
    tokens(in[1], vocab);
    auto t = ints(in[1]);
    k::embed(in[0].host.data(), t.data(), out[0].data(), int64_t(t.size()), vocab, d);
  } else if (name == "tele.embed_grad") {
    int64_t vocab = op["results"][0]["shape"][0], d = op["results"][0]["shape"][1];
    tokens(in[1], vocab);
    auto t = ints(in[1]);
    k::embedGrad(in[0].host.data(), t.data(), out[0].data(), int64_t(t.size()), vocab, d);
  } else if (name == "tele.cross_entropy" || name == "tele.cross_entropy_grad" ||
             name == "tele.cross_entropy_fused") {
    auto s = dims(0);
    int64_t vocab = s[s.size() - 1], rows = int64_t(in[0].host.size()) / vocab;
    tokens(in[1], vocab);
    auto t = ints(in[1]);
    for (double &x : in[0].host)
      x = double(float(x));
    if (name == "tele.cross_entropy") {
      out[0][0] = k::crossEntropy(in[0].host.data(), t.data(), (const double *)nullptr, rows, vocab);
    } else if (name == "tele.cross_entropy_fused") {
      in[2].host[0] = 0.8;
      out[0][0] = k::crossEntropy(in[0].host.data(), t.data(), (const double *)nullptr, rows, vocab);
      k::crossEntropyGrad(in[0].host.data(), t.data(), (const double *)nullptr, 0.8,
                          out[1].data(), rows, vocab);
    } else {
      in[2].host[0] = 0.8;
      k::crossEntropyGrad(in[0].host.data(), t.data(), (const double *)nullptr, 0.8,
                          out[0].data(), rows, vocab);
    }
  } else if (name == "tele.attention" || name == "tele.attention_grad") {
    auto s = dims(0);
    int64_t dh = attrs["head_dim"], h = s[2].get<int64_t>() / dh;
    for (Buffer &b : in)
      for (double &x : b.host)
        x = double(float(x));
    if (name == "tele.attention")
      k::attention(in[0].host.data(), in[1].host.data(), in[2].host.data(), out[0].data(),
                   s[0], s[1], h, dh);
    else
      k::attentionGrad(in[0].host.data(), in[1].host.data(), in[2].host.data(),
                       in[3].host.data(), out[0].data(), out[1].data(), out[2].data(), s[0],
                       s[1], h, dh);
  } else if (name == "tele.flash_attention" || name == "tele.flash_attention_grad") {
    auto s = dims(0);
    int64_t dh = attrs["head_dim"], h = s[2].get<int64_t>() / dh;
    for (Buffer &b : in) // f32, or bf16 copies (tele-bf16-gemms)
      roundAsStored(b);
    if (name == "tele.flash_attention") {
      k::attention(in[0].host.data(), in[1].host.data(), in[2].host.data(), out[0].data(),
                   s[0], s[1], h, dh, out[1].data());
    } else {
      // The kernel trusts the forward's output and statistics: give it
      // consistent ones.
      k::attention(in[0].host.data(), in[1].host.data(), in[2].host.data(),
                   in[3].host.data(), s[0], s[1], h, dh, in[4].host.data());
      k::attentionGrad(in[0].host.data(), in[1].host.data(), in[2].host.data(),
                       in[5].host.data(), out[0].data(), out[1].data(), out[2].data(), s[0],
                       s[1], h, dh);
    }
  } else if (name == "tele.global_norm") {
    double sum = 0;
    for (Buffer &b : in)
      for (double &x : b.host) {
        x = double(float(x));
        sum += x * x;
      }
    out[0][0] = std::sqrt(sum);
  } else if (name == "tele.clip_scale") {
    in[0].host[0] = 0.5 + 3 * unit(rng);
    double norm = double(float(in[0].host[0]));
    out[0][0] = std::min(1.0, attrs["max_norm"].get<double>() / (norm + 1e-6));
  } else if (name == "tele.lr_schedule") {
    int64_t warmup = attrs["warmup"], total = attrs["total"];
    int64_t step = int64_t(unit(rng) * double(total));
    in[0].host[0] = double(step);
    double peak = attrs["peak"], min = attrs["min"], lr = peak;
    if (step < warmup) {
      lr = peak * double(step + 1) / double(warmup);
    } else {
      double p = total - 1 > warmup ? double(step - warmup) / double(total - 1 - warmup) : 1.0;
      p = std::clamp(p, 0.0, 1.0);
      std::string decay = attrs["decay"];
      lr = decay == "cosine"   ? min + (peak - min) * 0.5 * (1.0 + std::cos(M_PI * p))
           : decay == "linear" ? peak - (peak - min) * p
                               : peak;
    }
    out[0][0] = lr;
  } else if (name == "tele.mask_vector") {
    in[0].host[0] = unit(rng);
    int64_t kept = attrs["kept"];
    for (int64_t i = 0; i < n; ++i)
      out[0][i] = i < kept ? 1.0 : double(float(in[0].host[0]));
  } else {
    return false;
  }
  return true;
}

TEST_F(CudaKernels, EveryKernelMatchesTheCpuReference) {
  std::random_device rd;
  uint64_t seed = ((uint64_t)rd() << 32) ^ rd();
  std::mt19937_64 rng(seed);
  int tested = 0;
  std::set<std::string> seen, unchecked;
  for (const std::string &path : programPaths()) {
    std::ifstream in(path);
    ASSERT_TRUE(in) << "cannot open " << path;
    json program = json::parse(in);
    std::string dir = path.substr(0, path.rfind('/') + 1);
    std::ifstream ptxFile(dir + program["ptx"].get<std::string>());
    std::stringstream ptx;
    ptx << ptxFile.rdbuf();
    tele_rt_module *module = nullptr;
    ASSERT_EQ(tele_rt_module_load_ptx(device, ptx.str().c_str(), &module), TELE_RT_OK)
        << tele_rt_last_error();
    std::map<int64_t, std::vector<const json *>> stepsOf;
    for (const char *list : {"steps", "refresh"}) // refresh: the cached copies' launches
      if (program.contains(list))
        for (const json &s : program.at(list))
          if (s.contains("id"))
            stepsOf[s["id"]].push_back(&s);
    for (const json &op : program["ops"]) {
      std::string key = op["op"].get<std::string>();
      for (const json *s : stepsOf[op["id"]])
        if (s->contains("launch"))
          key += " " + (*s)["launch"].get<std::string>();
      if (!seen.insert(key).second)
        continue;
      bool tensorCores = key.find("_mma") != std::string::npos ||
                         key.find("_wgmma") != std::string::npos;
      std::vector<Buffer> buffers;
      std::vector<std::vector<double>> expected;
      if (!reference(op, buffers, expected, rng)) {
        unchecked.insert(op["op"].get<std::string>());
        continue;
      }
      size_t numOperands = buffers.size();
      for (size_t r = 0; r < expected.size(); ++r) {
        Buffer b;
        b.dtype = op["results"][r]["dtype"];
        b.bytes = expected[r].size() * (b.dtype == "bf16" ? 2 : 4);
        b.host.assign(expected[r].size(), std::nan("")); // garbage the kernels overwrite
        buffers.push_back(std::move(b));
      }
      for (int64_t bytes : op["workspace"]) {
        Buffer b;
        b.bytes = size_t(bytes);
        b.host.assign(b.bytes / 4, std::nan(""));
        buffers.push_back(std::move(b));
      }
      for (Buffer &b : buffers)
        upload(b);
      for (const json *s : stepsOf[op["id"]]) {
        if (s->contains("zero")) {
          const Buffer &b = buffers[(*s)["index"].get<size_t>()];
          std::vector<uint8_t> zeros(b.bytes, 0);
          ASSERT_EQ(tele_rt_copy_to_device(device, b.device, zeros.data(), b.bytes), TELE_RT_OK);
          continue;
        }
        std::vector<uint64_t> args;
        for (size_t i : (*s)["indices"])
          args.push_back(buffers[i].device);
        uint32_t grid[3], block[3];
        for (int i = 0; i < 3; ++i) {
          grid[i] = (*s)["grid"][i];
          block[i] = (*s)["block"][i];
        }
        std::string kernel = (*s)["launch"];
        uint32_t shared = s->value("shared_bytes", 0u);
        ASSERT_EQ(tele_rt_launch(module, kernel.c_str(), grid, block, shared, args.data(),
                                 args.size()),
                  TELE_RT_OK)
            << tele_rt_last_error();
      }
      ASSERT_EQ(tele_rt_synchronize(device), TELE_RT_OK) << tele_rt_last_error();
      for (size_t r = 0; r < expected.size(); ++r) {
        auto got = download(buffers[numOperands + r]);
        double maxErr = 0, maxRef = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          double err = std::abs(got[i] - expected[r][i]);
          maxErr = std::isnan(err) ? INFINITY : std::max(maxErr, err);
          maxRef = std::max(maxRef, std::abs(expected[r][i]));
        }
        // fp32 kernels (fast exp, atomics in reductions) against an fp64
        // reference on the same fp32-rounded inputs. Tensor-core kernels
        // (names containing _mma or _wgmma) round their matrix operands to bf16 (8
        // significant bits): 1.5e-2 of the largest reference value.
        // A result stored as bf16 (tele-bf16-gemms narrowed it) is off by up
        // to half a bf16 ulp: 2^-9 of its magnitude.
        double tolerance = tensorCores ? 1.5e-2 * std::max(maxRef, 1e-6)
                                       : 5e-5 * std::max(maxRef, 1.0);
        // So are the flash backward's gradients when its output O is a
        // bf16 copy of the value the reference recomputes exactly (in
        // D = rowsum(dO * O)).
        bool bf16Output = op["op"] == "tele.flash_attention_grad" && buffers[3].dtype == "bf16";
        if (buffers[numOperands + r].dtype == "bf16" || bf16Output)
          tolerance = std::max(tolerance, 4e-3 * maxRef);
        if (tensorCores)
          std::printf("%s result %zu: max |err| %.3g, max |ref| %.3g\n", key.c_str(), r, maxErr,
                      maxRef);
        EXPECT_LE(maxErr, tolerance)
            << key << " result " << r << " (seed " << seed << ", max |ref| " << maxRef
            << ", max |err| " << maxErr << ")";
      }
      for (Buffer &b : buffers)
        tele_rt_free(device, b.device);
      ++tested;
    }
    tele_rt_module_unload(module);
  }
  EXPECT_GT(tested, 0);
  std::string skipped;
  for (const std::string &s : unchecked)
    skipped += " " + s;
  std::printf("checked %d ops' kernels on %s; no reference:%s\n", tested,
              tele_rt_device_name(device), skipped.empty() ? " none" : skipped.c_str());
}

/// Uploads every state entry of `program` a fresh run initialises (not the
/// cached copies, which the runtime makes): ones, zeros, or normal(0, std)
/// scaled by `weightScale`.
void uploadInitialState(const json &program, tele_rt_state *state, double weightScale,
                        uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, float(program.value("init_std", 0.02)));
  for (const json &e : program["state"]) {
    std::string init = e.value("init", "zeros");
    if (init == "derived")
      continue;
    std::vector<float> data(numel(e), init == "ones" ? 1.0f : 0.0f);
    if (init == "normal")
      for (float &x : data)
        x = float(weightScale) * normal(rng);
    ASSERT_EQ(tele_rt_state_upload(state, e["name"].get<std::string>().c_str(), data.data(),
                                   data.size() * 4),
              TELE_RT_OK)
        << tele_rt_last_error();
  }
}

// A step's GEMMs read the weights' bf16 copies that the previous step's
// AdamW stored (tele-cache-weight-copies). When the host uploads other
// weights, the runtime must make the copies again: a run on re-uploaded
// weights gives the loss of the first run on them, not one computed with
// the copies of weights uploaded in between.
TEST_F(CudaKernels, CachedWeightCopiesFollowUploads) {
  std::string path = programPaths().front();
  std::ifstream in(path);
  json j = json::parse(in);
  bool cached = false;
  for (const json &e : j["state"])
    cached |= e.value("init", "") == "derived";
  if (!cached)
    GTEST_SKIP() << path << " keeps no cached copies";
  tele_rt_program *program = nullptr;
  ASSERT_EQ(tele_rt_program_load(device, path.c_str(), &program), TELE_RT_OK)
      << tele_rt_last_error();
  tele_rt_state *state = nullptr;
  ASSERT_EQ(tele_rt_state_create(device, &state), TELE_RT_OK);
  // Inputs: tokens and targets below the vocabulary, then the stage's and
  // the optimizer's step.
  int64_t vocab = 0;
  for (const json &e : j["state"])
    if (e["name"] == "model.embed_tokens.weight")
      vocab = e["shape"][0];
  ASSERT_GT(vocab, 0);
  std::mt19937_64 rng(7);
  for (size_t i = 0; i < j["inputs"].size(); ++i) {
    const json &input = j["inputs"][i];
    if (input["dtype"] == "i32") {
      std::vector<int32_t> tokens(numel(input));
      for (int32_t &t : tokens)
        t = int32_t(rng() % uint64_t(vocab));
      ASSERT_EQ(tele_rt_program_set_input(program, i, tokens.data(), tokens.size() * 4),
                TELE_RT_OK);
    } else {
      int64_t step = i + 1 == j["inputs"].size() ? 1 : 0;
      ASSERT_EQ(tele_rt_program_set_input(program, i, &step, 8), TELE_RT_OK);
    }
  }
  auto loss = [&](double weightScale) {
    uploadInitialState(j, state, weightScale, 11);
    EXPECT_EQ(tele_rt_program_run(program, state), TELE_RT_OK) << tele_rt_last_error();
    float out = NAN;
    EXPECT_EQ(tele_rt_program_get_output(program, 0, &out, 4), TELE_RT_OK);
    return double(out);
  };
  double first = loss(1.0), other = loss(30.0), again = loss(1.0);
  std::printf("loss %.6f, with weights x30 %.6f, first weights again %.6f\n", first, other, again);
  // Large weights give confident wrong logits: a loss far from the first.
  EXPECT_GT(std::abs(other - first), 0.1 * first);
  EXPECT_NEAR(again, first, 1e-5 * first);
  tele_rt_state_destroy(state);
  tele_rt_program_destroy(program);
}

TEST_F(CudaKernels, UnknownKernelIsReportedByName) {
  std::ifstream in(programPaths().front());
  json program = json::parse(in);
  std::string path = programPaths().front();
  std::ifstream ptxFile(path.substr(0, path.rfind('/') + 1) + program["ptx"].get<std::string>());
  std::stringstream ptx;
  ptx << ptxFile.rdbuf();
  tele_rt_module *module = nullptr;
  ASSERT_EQ(tele_rt_module_load_ptx(device, ptx.str().c_str(), &module), TELE_RT_OK);
  uint32_t one[3] = {1, 1, 1};
  EXPECT_EQ(tele_rt_launch(module, "no_such_kernel", one, one, 0, nullptr, 0),
            TELE_RT_ERROR_NOT_FOUND);
  EXPECT_NE(std::string(tele_rt_last_error()).find("no_such_kernel"), std::string::npos);
  tele_rt_module_unload(module);
}

TEST_F(CudaKernels, CorruptProgramIsReportedWithItsPath) {
  std::string path = testing::TempDir() + "/broken.program.json";
  std::ofstream(path) << "{\"format\": \"tele-cuda-program\", \"version\": 1, \"ptx\": \"x.ptx\"";
  tele_rt_program *program = nullptr;
  EXPECT_NE(tele_rt_program_load(device, path.c_str(), &program), TELE_RT_OK);
  EXPECT_NE(std::string(tele_rt_last_error()).find(path), std::string::npos);
}
} // namespace
