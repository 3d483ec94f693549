//===- runtime/tools/tele-run.cpp - run compiled programs without MLIR ----===//
//
// The deployment half of tele: runs a program that `tele compile --target
// cuda` wrote (<stage>.program.json + <stage>.ptx) on GPU 0 with nothing but
// the runtime (no MLIR, no LLVM).
//
//   tele-run bench PROGRAM [--steps N] [--warmup W] [--seed S]
//       random state (uniform with the program's init std), random tokens;
//       prints one JSON line: ms/step (median), tokens/s, MFU, memory.
//   tele-run train PROGRAM --checkpoint CKPT --data DIR [--steps N]
//       continues training from a `tele train` checkpoint of the same stage
//       on DIR/train.tok, in the same batch order as `tele train`; prints one
//       JSON line per step (step, loss, grad_norm, lr) like metrics.jsonl.
//
// MFU counts 6 N tokens + 6 L d T tokens (causal attention at half) against
// 989 TFLOP/s, as the PyTorch reference benchmark does; N is every parameter
// (state entries not starting with "optim."), L, d and T come from the
// parameter shapes and the token input.
//
//===----------------------------------------------------------------------===//

#include "bench/StepBench.h"
#include "checkpoint/Progress.h"
#include "checkpoint/SafeTensors.h"
#include "data/TokenFile.h"
#include "tele_rt/tele_rt.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
int die(const std::string &message) {
  std::fprintf(stderr, "tele-run: error: %s\n", message.c_str());
  return 1;
}

struct Args {
  std::string command, program, checkpoint, data;
  int64_t steps = 20, warmup = 3;
  uint64_t seed = 1234;
};

bool parseArgs(int argc, char **argv, Args &a, std::string &error) {
  if (argc < 3) {
    error = "usage: tele-run bench|train PROGRAM.json [options] (see the file header)";
    return false;
  }
  a.command = argv[1];
  a.program = argv[2];
  for (int i = 3; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      error = flag + " needs a value";
      return false;
    }
    std::string v = argv[++i];
    try {
      if (flag == "--steps") a.steps = std::stoll(v);
      else if (flag == "--warmup") a.warmup = std::stoll(v);
      else if (flag == "--seed") a.seed = std::stoull(v);
      else if (flag == "--checkpoint") a.checkpoint = v;
      else if (flag == "--data") a.data = v;
      else {
        error = "unknown option " + flag;
        return false;
      }
    } catch (...) {
      error = flag + ": '" + v + "' is not a number";
      return false;
    }
  }
  return true;
}

int64_t numel(const json &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

struct Session {
  tele_rt_device *device = nullptr;
  tele_rt_state *state = nullptr;
  tele_rt_program *program = nullptr;
  ~Session() {
    tele_rt_program_destroy(program);
    tele_rt_state_destroy(state);
    tele_rt_device_close(device);
  }
};

/// Runs one step: tokens, targets, stage step, optimizer step.
bool runStep(Session &s, const std::vector<int32_t> &in, const std::vector<int32_t> &tg,
             int64_t stageStep, int64_t adamStep, std::vector<float> &scalars) {
  if (tele_rt_program_set_input(s.program, 0, in.data(), in.size() * 4) != TELE_RT_OK ||
      tele_rt_program_set_input(s.program, 1, tg.data(), tg.size() * 4) != TELE_RT_OK ||
      tele_rt_program_set_input(s.program, 2, &stageStep, 8) != TELE_RT_OK ||
      tele_rt_program_set_input(s.program, 3, &adamStep, 8) != TELE_RT_OK ||
      tele_rt_program_run(s.program, s.state) != TELE_RT_OK)
    return false;
  scalars.assign(tele_rt_program_num_outputs(s.program), 0.0f);
  for (size_t i = 0; i < scalars.size(); ++i)
    if (tele_rt_program_get_output(s.program, i, &scalars[i], 4) != TELE_RT_OK)
      return false;
  return true;
}
} // namespace

int main(int argc, char **argv) {
  Args a;
  std::string error;
  if (!parseArgs(argc, argv, a, error))
    return die(error);
  if (a.command != "bench" && a.command != "train")
    return die("unknown command '" + a.command + "' (expected bench or train)");
  std::ifstream in(a.program);
  if (!in)
    return die("cannot open " + a.program);
  json program = json::parse(in, nullptr, false);
  if (program.is_discarded() || !program.contains("state") || !program.contains("inputs"))
    return die(a.program + ": not a tele program");
  const json &inputs = program["inputs"];
  if (inputs.size() != 4 || inputs[0]["shape"].size() != 2)
    return die(a.program + ": not a training step (tokens, targets, step, step)");
  int64_t batch = inputs[0]["shape"][0], seqLen = inputs[0]["shape"][1];

  Session s;
  if (tele_rt_device_open(0, &s.device) != TELE_RT_OK ||
      tele_rt_state_create(s.device, &s.state) != TELE_RT_OK)
    return die(tele_rt_last_error());
  auto t0 = Clock::now();
  if (tele_rt_program_load(s.device, a.program.c_str(), &s.program) != TELE_RT_OK)
    return die(tele_rt_last_error());
  double loadSeconds = std::chrono::duration<double>(Clock::now() - t0).count();

  // The state: from a checkpoint, or random.
  int64_t params = 0, vocab = 0, hidden = 0, layers = 0;
  int64_t stageStep = 0, step = 0;
  uint64_t samplerPosition = 0, dataSeed = a.seed;
  tele::ckpt::Checkpoint ckpt;
  if (a.command == "train") {
    if (a.checkpoint.empty() || a.data.empty())
      return die("train needs --checkpoint and --data");
    if (auto st = tele::ckpt::readSafeTensors(a.checkpoint, ckpt); !st)
      return die(st.message());
    tele::ckpt::Progress progress;
    if (auto st = tele::ckpt::readProgress(ckpt.metadata, a.checkpoint, progress); !st)
      return die(st.message());
    stageStep = progress.stageStep;
    step = progress.step;
    samplerPosition = progress.samplerPosition;
    dataSeed = progress.seed;
  }
  uint64_t rng = a.seed;
  double initStd = program.value("init_std", 0.02);
  for (const json &e : program["state"]) {
    if (e.value("init", "zeros") == "derived")
      continue; // a cached copy: the runtime makes it from its source
    std::string name = e["name"];
    int64_t n = numel(e["shape"]);
    std::vector<float> data(n, 0.0f);
    if (a.command == "train") {
      auto it = ckpt.tensors.find(name);
      if (it == ckpt.tensors.end())
        return die(a.checkpoint + " has no tensor '" + name + "'");
      if (auto st = it->second.getFloats(data); !st)
        return die(st.message());
      if (int64_t(data.size()) != n)
        return die("'" + name + "' has the wrong size in " + a.checkpoint);
    } else if (e.value("init", "zeros") == "ones") {
      std::fill(data.begin(), data.end(), 1.0f);
    } else if (e.value("init", "zeros") == "normal") {
      tele::bench::fillUniform(data, initStd, rng);
    }
    if (tele_rt_state_upload(s.state, name.c_str(), data.data(), n * 4) != TELE_RT_OK)
      return die(tele_rt_last_error());
    if (name.rfind("optim.", 0) != 0) {
      params += n;
      if (name == "model.embed_tokens.weight") {
        vocab = e["shape"][0];
        hidden = e["shape"][1];
      }
      if (name.find(".input_layernorm.weight") != std::string::npos)
        ++layers;
    }
  }

  std::vector<int32_t> tokens(batch * seqLen), targets(batch * seqLen);
  std::vector<float> out;
  if (a.command == "train") {
    tele::data::TokenFile file;
    if (auto st = tele::data::TokenFile::open(a.data + "/train.tok", file); !st)
      return die(st.message());
    tele::data::BatchSampler sampler(file, batch, seqLen, dataSeed);
    if (!sampler.status())
      return die(sampler.status().message());
    sampler.seek(samplerPosition);
    for (int64_t i = 0; i < a.steps; ++i) {
      if (auto st = sampler.next(tokens.data(), targets.data()); !st)
        return die(st.message());
      if (!runStep(s, tokens, targets, stageStep, step + 1, out))
        return die(tele_rt_last_error());
      ++step;
      ++stageStep;
      std::printf("{\"step\": %lld, \"loss\": %.7g, \"grad_norm\": %.7g, \"lr\": %.7g}\n",
                  (long long)step, out[0], out[1], out[2]);
      std::fflush(stdout);
    }
    return 0;
  }

  uint64_t trng = a.seed ^ 0xA5A5A5A5ull;
  tokens = tele::bench::randomTokens(tokens.size(), uint64_t(std::max<int64_t>(vocab, 1)), trng);
  targets = tele::bench::randomTokens(targets.size(), uint64_t(std::max<int64_t>(vocab, 1)), trng);
  std::vector<double> times;
  for (int64_t i = 0; i < a.warmup + a.steps; ++i) {
    auto ts = Clock::now();
    if (!runStep(s, tokens, targets, i, i + 1, out))
      return die(tele_rt_last_error());
    if (i >= a.warmup)
      times.push_back(std::chrono::duration<double>(Clock::now() - ts).count());
  }
  auto t = tele::bench::summarize(times, params, layers, hidden, seqLen, batch);
  size_t freeBytes = 0, total = 0;
  tele_rt_memory_info(s.device, &freeBytes, &total);
  std::string cfg = a.program.substr(a.program.rfind('/') + 1);
  json line = {{"cfg", program.value("name", cfg)},
               {"mode", "tele"},
               {"device", tele_rt_device_name(s.device)},
               {"params", params},
               {"ms", t.ms},
               {"ms_min", t.msMin},
               {"tok_s", t.tokensPerSec},
               {"mfu", t.mfu},
               {"load_s", std::round(loadSeconds * 1e3) / 1e3},
               {"mem_gb", double(total - freeBytes) / double(1ll << 30)},
               {"arena_gb", double(tele_rt_program_arena_bytes(s.program)) / double(1ll << 30)},
               {"loss", out.empty() ? 0.0 : out[0]}};
  std::printf("%s\n", line.dump().c_str());
  return 0;
}
