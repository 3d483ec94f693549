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
// The program file is validated whole before anything is allocated (every
// malformed field is one line naming it), and the GPU memory it needs (arena,
// state, inputs) is checked against what the device has free.
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
#include "MemoryBudget.h"
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

/// Checks every field of a program that tele-run reads (the runtime's loader
/// checks the steps); on failure `error` names the field. Element and byte
/// counts are overflow-checked; `deviceBytes` is what the program allocates.
bool validateProgram(const json &program, std::string &error, uint64_t &deviceBytes) {
  auto bad = [&](const std::string &field, const std::string &what) {
    error = "field '" + field + "' " + what;
    return false;
  };
  auto count = [](const json &j) {
    return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
  };
  // A shape's element count, checked against overflow (with room for 8-byte elements).
  auto shapeOf = [&](const json &entry, const std::string &field, uint64_t &elements) {
    auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array())
      return bad(field + ".shape", "is missing or not an array");
    elements = 1;
    for (size_t i = 0; i < shape->size(); ++i) {
      const json &d = (*shape)[i];
      if (!count(d))
        return bad(field + ".shape[" + std::to_string(i) + "]", "is not a non-negative integer");
      if (__builtin_mul_overflow(elements, d.get<uint64_t>(), &elements) ||
          elements > (uint64_t(1) << 60))
        return bad(field + ".shape", "has more elements than memory can hold");
    }
    return true;
  };
  if (program.value("format", json()) != "tele-cuda-program")
    return bad("format", "is not \"tele-cuda-program\"");
  if (program.value("version", json()) != 1)
    return bad("version", "is not 1 (recompile with tele compile)");
  if (!program.contains("arena_bytes") || !count(program["arena_bytes"]))
    return bad("arena_bytes", "is missing or not a non-negative integer");
  deviceBytes = program["arena_bytes"].get<uint64_t>();
  if (program.contains("init_std") &&
      (!program["init_std"].is_number() || !(program["init_std"].get<double>() > 0)))
    return bad("init_std", "is not a positive number");
  for (const char *key : {"name", "ptx"})
    if (program.contains(key) && !program[key].is_string())
      return bad(key, "is not a string");
  for (const char *key : {"masks", "constants", "outputs", "steps"})
    if (!program.contains(key) || !program[key].is_array())
      return bad(key, "is missing or not an array");
  const json &inputs = program["inputs"];
  if (!inputs.is_array())
    return bad("inputs", "is not an array");
  if (inputs.size() != 4)
    return bad("inputs", "has " + std::to_string(inputs.size()) +
                             " entries, not those of a training step (tokens, targets, step, step)");
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string field = "inputs[" + std::to_string(i) + "]";
    if (!inputs[i].is_object())
      return bad(field, "is not an object");
    uint64_t elements;
    if (!shapeOf(inputs[i], field, elements))
      return false;
    if (!inputs[i].contains("dtype") || !inputs[i]["dtype"].is_string())
      return bad(field + ".dtype", "is missing or not a string");
    deviceBytes += elements * 8;
  }
  for (size_t i = 0; i < 2; ++i) {
    const json &shape = inputs[i]["shape"];
    if (shape.size() != 2 || shape[0] == 0 || shape[1] == 0 || shape != inputs[0]["shape"])
      return bad("inputs[" + std::to_string(i) + "].shape",
                 "is not a [batch, seq_len] of tokens like inputs[0]");
  }
  const json &state = program["state"];
  if (!state.is_array())
    return bad("state", "is not an array");
  std::map<std::string, bool> seen;
  for (size_t i = 0; i < state.size(); ++i) {
    std::string field = "state[" + std::to_string(i) + "]";
    const json &e = state[i];
    if (!e.is_object())
      return bad(field, "is not an object");
    if (!e.contains("name") || !e["name"].is_string() || e["name"].get<std::string>().empty())
      return bad(field + ".name", "is missing or not a non-empty string");
    if (seen[e["name"].get<std::string>()])
      return bad(field + ".name", "repeats '" + e["name"].get<std::string>() + "'");
    seen[e["name"].get<std::string>()] = true;
    uint64_t elements;
    if (!shapeOf(e, field, elements))
      return false;
    json init = e.value("init", json("zeros"));
    if (init != "zeros" && init != "ones" && init != "normal" && init != "derived")
      return bad(field + ".init", "is not zeros, ones, normal or derived");
    deviceBytes += elements * 4;
  }
  return true;
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

static int runTool(int argc, char **argv) {
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
  if (program.is_discarded() || !program.is_object() || !program.contains("state") ||
      !program.contains("inputs"))
    return die(a.program + ": not a tele program");
  uint64_t deviceBytes = 0;
  if (!validateProgram(program, error, deviceBytes))
    return die(a.program + ": " + error);
  const json &inputs = program["inputs"];
  int64_t batch = inputs[0]["shape"][0], seqLen = inputs[0]["shape"][1];
  if (a.command == "train" && !a.checkpoint.empty()) {
    // The checkpoint is read whole, then converted to floats.
    std::ifstream ckptFile(a.checkpoint, std::ios::binary | std::ios::ate);
    double need = ckptFile ? 2.0 * double(ckptFile.tellg()) : 0.0;
    uint64_t available = tele::rt::availableHostMemory();
    if (need > double(available))
      return die(a.checkpoint + ": reading it needs " + tele::rt::formatBytes(need) +
                 " of host memory, " + tele::rt::formatBytes(double(available)) +
                 " is available");
  }

  Session s;
  if (tele_rt_device_open(0, &s.device) != TELE_RT_OK ||
      tele_rt_state_create(s.device, &s.state) != TELE_RT_OK)
    return die(tele_rt_last_error());
  size_t deviceFree = 0, deviceTotal = 0;
  if (tele_rt_memory_info(s.device, &deviceFree, &deviceTotal) == TELE_RT_OK &&
      deviceBytes > deviceFree)
    return die(a.program + " needs " + tele::rt::formatBytes(double(deviceBytes)) +
               " of GPU memory (arena, state and inputs), GPU 0 has " +
               tele::rt::formatBytes(double(deviceFree)) + " free");
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

int main(int argc, char **argv) {
  // Every input is validated, so nothing should throw; should anything
  // still, it is one error line and exit status 1, not an abort.
  try {
    return runTool(argc, argv);
  } catch (const std::exception &e) {
    return die(std::string("internal error: ") + e.what());
  }
}
