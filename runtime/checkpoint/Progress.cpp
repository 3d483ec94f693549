//===- runtime/checkpoint/Progress.cpp - a training run's counters --------===//

#include "checkpoint/Progress.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

using namespace tele;
using namespace tele::ckpt;

namespace {
constexpr const char *kFormat = "tele.format";
constexpr const char *kFormatVersion = "1";
} // namespace

void tele::ckpt::writeProgress(const Progress &progress, Metadata &metadata) {
  metadata[kFormat] = kFormatVersion;
  metadata["tele.step"] = std::to_string(progress.step);
  metadata["tele.stage_index"] = std::to_string(progress.stageIndex);
  metadata["tele.stage_step"] = std::to_string(progress.stageStep);
  metadata["tele.tokens"] = std::to_string(progress.tokens);
  // The data order is a pure function of (seed, position): this is the
  // whole random state of the run after initialisation.
  metadata["tele.sampler_position"] = std::to_string(progress.samplerPosition);
  metadata["tele.seed"] = std::to_string(progress.seed);
}

rt::Status tele::ckpt::readProgress(const Metadata &metadata, const std::string &path,
                                    Progress &progress) {
  auto format = metadata.find(kFormat);
  if (format == metadata.end() || format->second != kFormatVersion)
    return rt::Status::error(path + ": not a tele training checkpoint (metadata " + kFormat +
                             " missing or not " + kFormatVersion + ")");
  // A non-negative decimal integer that fits int64_t.
  auto counter = [&](const char *key, auto &out) {
    auto found = metadata.find(key);
    bool ok = found != metadata.end() && !found->second.empty() && found->second[0] != '-';
    if (ok) {
      errno = 0;
      char *end = nullptr;
      unsigned long long value = std::strtoull(found->second.c_str(), &end, 10);
      ok = !errno && !*end && value <= uint64_t(INT64_MAX);
      out = static_cast<std::remove_reference_t<decltype(out)>>(value);
    }
    return ok ? rt::Status::ok()
              : rt::Status::error(path + ": metadata '" + key + "' is missing or invalid");
  };
  if (auto st = counter("tele.step", progress.step); !st)
    return st;
  if (auto st = counter("tele.stage_index", progress.stageIndex); !st)
    return st;
  if (auto st = counter("tele.stage_step", progress.stageStep); !st)
    return st;
  if (auto st = counter("tele.tokens", progress.tokens); !st)
    return st;
  if (auto st = counter("tele.sampler_position", progress.samplerPosition); !st)
    return st;
  // Data order and growth draws depend on the seed: a resumed run must use
  // the same, or it would silently stop reproducing.
  if (auto st = counter("tele.seed", progress.seed); !st)
    return st;
  return checkProgress(progress, path);
}

rt::Status tele::ckpt::checkProgress(const Progress &p, const std::string &path) {
  auto inconsistent = [&](const std::string &what) {
    return rt::Status::error(path + ": inconsistent progress metadata: " + what);
  };
  auto n = [](auto v) { return std::to_string(v); };
  if (p.stageStep > p.step)
    return inconsistent("stage step " + n(p.stageStep) + " exceeds step " + n(p.step));
  // Every stage trains at least one step before the next begins.
  if (p.stageIndex > p.step)
    return inconsistent("stage " + n(p.stageIndex) + " after only " + n(p.step) + " steps");
  // The trainer draws one batch per optimizer step.
  if (p.samplerPosition != uint64_t(p.step))
    return inconsistent("sampler position " + n(p.samplerPosition) + " but step " + n(p.step));
  if (p.tokens < p.step || (p.step == 0) != (p.tokens == 0))
    return inconsistent(n(p.tokens) + " tokens in " + n(p.step) + " steps");
  return rt::Status::ok();
}
