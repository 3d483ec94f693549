//===- runtime/tests/CudaKernelsTest.cpp - tele's PTX kernels on a GPU ----===//
//
// This file runs every kernel that `tele compile --target cuda` generated for
// a training step (PTX from MLIR's NVVM pipeline, loaded through tele_rt) on
// fresh random inputs of the shapes in the step's launch manifest, and
// compares the results with the CPU reference kernels computed in fp64.
// The manifest is $TELE_CUDA_KERNELS or the one the build generated; every
// test skips when no GPU is present.
//
//===----------------------------------------------------------------------===//

#include "cpu/Kernels.h"
#include "tele_rt/tele_rt.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
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

std::string manifestPath() {
  const char *env = std::getenv("TELE_CUDA_KERNELS");
  return env && *env ? env : TELE_CUDA_KERNELS_DEFAULT;
}

int64_t numel(const json &operand) {
  int64_t n = 1;
  for (int64_t d : operand["shape"])
    n *= d;
  return n;
}

/// A host buffer (as doubles for the reference) and its device copy.
struct Buffer {
  std::vector<double> host;
  bool isStep = false;
  uint64_t device = 0;
};

class CudaKernels : public ::testing::Test {
protected:
  void SetUp() override {
    if (tele_rt_device_open(0, &device) != TELE_RT_OK)
      GTEST_SKIP() << "no GPU: " << tele_rt_last_error();
    std::ifstream in(manifestPath());
    if (!in)
      GTEST_SKIP() << "no kernel manifest at '" << manifestPath()
                   << "' (set TELE_CUDA_KERNELS)";
    in >> manifest;
    std::string dir = manifestPath().substr(0, manifestPath().rfind('/') + 1);
    std::ifstream ptxFile(dir + manifest["ptx"].get<std::string>());
    std::stringstream ptx;
    ptx << ptxFile.rdbuf();
    ASSERT_EQ(tele_rt_module_load_ptx(device, ptx.str().c_str(), &module),
              TELE_RT_OK)
        << tele_rt_last_error();
  }
  void TearDown() override {
    tele_rt_module_unload(module);
    tele_rt_device_close(device);
  }

  uint64_t upload(const Buffer &b) {
    uint64_t p = 0;
    size_t n = b.host.size();
    EXPECT_EQ(tele_rt_alloc(device, std::max<size_t>(n, 1) * 8, &p), TELE_RT_OK);
    if (b.isStep) {
      int64_t step = (int64_t)b.host[0];
      tele_rt_copy_to_device(device, p, &step, 8);
    } else {
      std::vector<float> f(b.host.begin(), b.host.end());
      tele_rt_copy_to_device(device, p, f.data(), f.size() * 4);
    }
    return p;
  }
  std::vector<double> download(uint64_t p, size_t n) {
    std::vector<float> f(n);
    EXPECT_EQ(tele_rt_copy_to_host(device, f.data(), p, n * 4), TELE_RT_OK);
    return std::vector<double>(f.begin(), f.end());
  }

  tele_rt_device *device = nullptr;
  tele_rt_module *module = nullptr;
  json manifest;
};

/// Fills the inputs of `launch` and computes the reference outputs.
std::vector<std::vector<double>> reference(const json &launch,
                                           std::vector<Buffer> &inputs,
                                           std::mt19937_64 &rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const std::string op = launch["op"];
  const json &attrs = launch["attrs"];
  for (const json &operand : launch["operands"]) {
    Buffer b;
    b.host.resize(numel(operand));
    b.isStep = operand["dtype"] == "i64";
    for (double &x : b.host)
      x = normal(rng);
    inputs.push_back(std::move(b));
  }
  std::vector<std::vector<double>> out;
  for (const json &r : launch["results"])
    out.emplace_back(numel(r));
  auto &in = inputs;
  int64_t n = out[0].size();
  namespace k = tele::cpu;
  if (op == "tele.add") {
    k::add(in[0].host.data(), in[1].host.data(), out[0].data(), n);
  } else if (op == "tele.scale") {
    k::scale(in[0].host.data(), attrs["factor"].get<double>(), out[0].data(), n);
  } else if (op == "tele.swiglu") {
    k::swiglu(in[0].host.data(), in[1].host.data(), out[0].data(), n);
  } else if (op == "tele.swiglu_grad") {
    k::swigluGrad(in[0].host.data(), in[1].host.data(), in[2].host.data(),
                  out[0].data(), out[1].data(), n);
  } else if (op == "tele.mask_mul") {
    int64_t d = in[1].host.size();
    for (double &x : in[1].host)
      x = unit(rng);
    k::maskMul(in[0].host.data(), in[1].host.data(), out[0].data(), n / d, d);
  } else if (op == "tele.lerp") {
    in[2].host[0] = 0.3;
    k::lerp(in[0].host.data(), in[1].host.data(), 0.3, out[0].data(), n);
  } else if (op == "tele.adamw") {
    for (double &x : in[3].host) // second moments are non-negative
      x = std::abs(x) * 1e-2;
    in[4].host[0] = 1e-3; // lr
    in[5].host[0] = 0.7;  // clip scale
    in[6].host[0] = 5;    // step
    out[0] = in[0].host;
    out[1] = in[2].host;
    out[2] = in[3].host;
    k::adamw(out[0].data(), in[1].host.data(), out[1].data(), out[2].data(), n,
             1e-3, attrs["beta1"], attrs["beta2"], attrs["eps"],
             attrs["weight_decay"], 5, 0.7);
  } else if (op == "tele.rms_norm") {
    int64_t d = in[1].host.size();
    const double *mask = nullptr;
    if (attrs["masked"].get<bool>()) {
      for (double &x : in[2].host)
        x = unit(rng);
      mask = in[2].host.data();
    }
    k::rmsNorm(in[0].host.data(), in[1].host.data(), mask, out[0].data(),
               n / d, d, attrs["eps"].get<double>());
  } else if (op == "tele.rope") {
    const json &shape = launch["operands"][0]["shape"];
    int64_t dh = attrs["head_dim"];
    k::rope(in[0].host.data(), out[0].data(), shape[0], shape[1],
            shape[2].get<int64_t>() / dh, dh, attrs["theta"].get<double>(),
            attrs["inverse"].get<bool>());
  } else {
    ADD_FAILURE() << "no reference for " << op;
  }
  return out;
}

TEST_F(CudaKernels, EveryKernelMatchesTheCpuReference) {
  std::random_device rd;
  uint64_t seed = ((uint64_t)rd() << 32) ^ rd();
  std::mt19937_64 rng(seed);
  std::set<std::string> seen;
  int tested = 0;
  for (const json &launch : manifest["launches"]) {
    std::string kernel = launch["kernel"];
    if (!seen.insert(kernel).second)
      continue;
    std::vector<Buffer> inputs;
    auto expected = reference(launch, inputs, rng);
    std::vector<uint64_t> args;
    for (Buffer &b : inputs)
      args.push_back(b.device = upload(b));
    std::vector<uint64_t> outputs;
    for (auto &e : expected) {
      uint64_t p = 0;
      ASSERT_EQ(tele_rt_alloc(device, e.size() * 4, &p), TELE_RT_OK);
      outputs.push_back(p);
      args.push_back(p);
    }
    uint32_t grid[3], block[3];
    for (int i = 0; i < 3; ++i) {
      grid[i] = launch["grid"][i];
      block[i] = launch["block"][i];
    }
    ASSERT_EQ(tele_rt_launch(module, kernel.c_str(), grid, block, args.data(),
                             args.size()),
              TELE_RT_OK)
        << tele_rt_last_error();
    ASSERT_EQ(tele_rt_synchronize(device), TELE_RT_OK) << tele_rt_last_error();
    for (size_t r = 0; r < expected.size(); ++r) {
      auto got = download(outputs[r], expected[r].size());
      double maxErr = 0, maxRef = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        maxErr = std::max(maxErr, std::abs(got[i] - expected[r][i]));
        maxRef = std::max(maxRef, std::abs(expected[r][i]));
      }
      // fp32 kernels against an fp64 reference on inputs rounded to fp32.
      EXPECT_LE(maxErr, 2e-5 * std::max(maxRef, 1.0))
          << kernel << " result " << r << " (seed " << seed << ")";
    }
    for (uint64_t p : args)
      tele_rt_free(device, p);
    ++tested;
  }
  EXPECT_GT(tested, 0);
  std::printf("checked %d kernels of %s on %s\n", tested, manifestPath().c_str(),
              tele_rt_device_name(device));
}

TEST_F(CudaKernels, UnknownKernelIsReportedByName) {
  uint32_t one[3] = {1, 1, 1};
  EXPECT_EQ(tele_rt_launch(module, "no_such_kernel", one, one, nullptr, 0),
            TELE_RT_ERROR_NOT_FOUND);
  EXPECT_NE(std::string(tele_rt_last_error()).find("no_such_kernel"),
            std::string::npos);
}
} // namespace
