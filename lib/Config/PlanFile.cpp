//===- PlanFile.cpp - user-facing training plan files ---------------------===//
//
// This file implements the YAML/JSON plan front end with llvm::yaml: mapping
// traits describe the schema (unknown keys, missing keys, wrong scalar types
// and unknown enum values are reported by llvm::yaml at their line and
// column), then the entries become tele ops located at their YAML position
// so that the dialect's verifiers point at the right line too.
//
//===----------------------------------------------------------------------===//

#include "tele/Config/PlanFile.h"
#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLTraits.h"
#include <optional>

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Where an entry starts in the YAML text.
struct Position {
  const char *pointer = nullptr;
};

struct ModelEntry {
  Position pos;
  std::string name;
  int64_t vocab = 0, hidden = 0, heads = 0, headDim = 0, ffn = 0, layers = 0,
          seqLen = 0;
  double eps = 1e-5, ropeTheta = 10000.0, alphaOut = 1.0, initStd = 0.02;
};

struct TrainEntry {
  std::string name, model, data;
  int64_t steps = 0, batch = 0, warmup = 0;
  double lrMatrix = 0, lrVector = 0, minLrMatrix = 0, minLrVector = 0;
  DecayKind decay = DecayKind::cosine;
  double weightDecay = 0.1, clip = 1.0, beta1 = 0.9, beta2 = 0.95,
         adamEps = 1e-8;
};

struct GrowWidthEntry {
  std::string from, to;
  int64_t transitionSteps = 0;
  MaskSchedule schedule = MaskSchedule::joint;
  double initStd = 0.02;
  SecondMomentInit momentInit = SecondMomentInit::zero;
};

struct GrowDepthEntry {
  std::string from, to;
  int64_t transitionSteps = 0;
  DistanceMetric metric = DistanceMetric::euclidean;
  LayerSelection select = LayerSelection::smallest;
  SecondMomentInit momentInit = SecondMomentInit::zero;
};

/// One element of `plan:`: exactly one of its keys is set.
struct PlanEntry {
  Position pos;
  std::optional<TrainEntry> train;
  std::optional<GrowWidthEntry> growWidth;
  std::optional<GrowDepthEntry> growDepth;
};

struct PlanDocument {
  std::string name = "plan";
  std::vector<ModelEntry> models;
  std::vector<PlanEntry> plan;
};

Position currentPosition(llvm::yaml::IO &io) {
  Position pos;
  if (!io.outputting())
    if (const auto *node = static_cast<llvm::yaml::Input &>(io).getCurrentNode())
      pos.pointer = node->getSourceRange().Start.getPointer();
  return pos;
}
} // namespace

LLVM_YAML_IS_SEQUENCE_VECTOR(ModelEntry)
LLVM_YAML_IS_SEQUENCE_VECTOR(PlanEntry)

namespace llvm::yaml {
template <> struct ScalarEnumerationTraits<DecayKind> {
  static void enumeration(IO &io, DecayKind &v) {
    io.enumCase(v, "cosine", DecayKind::cosine);
    io.enumCase(v, "linear", DecayKind::linear);
    io.enumCase(v, "constant", DecayKind::constant);
  }
};
template <> struct ScalarEnumerationTraits<MaskSchedule> {
  static void enumeration(IO &io, MaskSchedule &v) {
    io.enumCase(v, "joint", MaskSchedule::joint);
    io.enumCase(v, "sequential", MaskSchedule::sequential);
  }
};
template <> struct ScalarEnumerationTraits<SecondMomentInit> {
  static void enumeration(IO &io, SecondMomentInit &v) {
    io.enumCase(v, "zero", SecondMomentInit::zero);
    io.enumCase(v, "mean", SecondMomentInit::mean);
  }
};
template <> struct ScalarEnumerationTraits<DistanceMetric> {
  static void enumeration(IO &io, DistanceMetric &v) {
    io.enumCase(v, "euclidean", DistanceMetric::euclidean);
    io.enumCase(v, "cosine", DistanceMetric::cosine);
  }
};
template <> struct ScalarEnumerationTraits<LayerSelection> {
  static void enumeration(IO &io, LayerSelection &v) {
    io.enumCase(v, "smallest", LayerSelection::smallest);
    io.enumCase(v, "largest", LayerSelection::largest);
  }
};

template <> struct MappingTraits<ModelEntry> {
  static void mapping(IO &io, ModelEntry &m) {
    m.pos = currentPosition(io);
    io.mapRequired("name", m.name);
    io.mapRequired("vocab", m.vocab);
    io.mapRequired("hidden", m.hidden);
    io.mapRequired("heads", m.heads);
    io.mapRequired("head_dim", m.headDim);
    io.mapRequired("ffn", m.ffn);
    io.mapRequired("layers", m.layers);
    io.mapRequired("seq_len", m.seqLen);
    io.mapOptional("eps", m.eps, 1e-5);
    io.mapOptional("rope_theta", m.ropeTheta, 10000.0);
    io.mapOptional("alpha_out", m.alphaOut, 1.0);
    io.mapOptional("init_std", m.initStd, 0.02);
  }
};

template <> struct MappingTraits<TrainEntry> {
  static void mapping(IO &io, TrainEntry &t) {
    io.mapRequired("name", t.name);
    io.mapRequired("model", t.model);
    io.mapRequired("steps", t.steps);
    io.mapRequired("batch", t.batch);
    io.mapRequired("lr_matrix", t.lrMatrix);
    io.mapRequired("lr_vector", t.lrVector);
    io.mapOptional("min_lr_matrix", t.minLrMatrix, 0.0);
    io.mapOptional("min_lr_vector", t.minLrVector, 0.0);
    io.mapOptional("warmup", t.warmup, int64_t(0));
    io.mapOptional("decay", t.decay, DecayKind::cosine);
    io.mapOptional("weight_decay", t.weightDecay, 0.1);
    io.mapOptional("clip", t.clip, 1.0);
    io.mapOptional("beta1", t.beta1, 0.9);
    io.mapOptional("beta2", t.beta2, 0.95);
    io.mapOptional("adam_eps", t.adamEps, 1e-8);
    io.mapOptional("data", t.data, std::string());
  }
};

template <> struct MappingTraits<GrowWidthEntry> {
  static void mapping(IO &io, GrowWidthEntry &g) {
    io.mapRequired("from", g.from);
    io.mapRequired("to", g.to);
    io.mapRequired("transition_steps", g.transitionSteps);
    io.mapOptional("schedule", g.schedule, MaskSchedule::joint);
    io.mapOptional("init_std", g.initStd, 0.02);
    io.mapOptional("moment_init", g.momentInit, SecondMomentInit::zero);
  }
};

template <> struct MappingTraits<GrowDepthEntry> {
  static void mapping(IO &io, GrowDepthEntry &g) {
    io.mapRequired("from", g.from);
    io.mapRequired("to", g.to);
    io.mapRequired("transition_steps", g.transitionSteps);
    io.mapOptional("metric", g.metric, DistanceMetric::euclidean);
    io.mapOptional("select", g.select, LayerSelection::smallest);
    io.mapOptional("moment_init", g.momentInit, SecondMomentInit::zero);
  }
};

template <> struct MappingTraits<PlanEntry> {
  static void mapping(IO &io, PlanEntry &e) {
    e.pos = currentPosition(io);
    io.mapOptional("train", e.train);
    io.mapOptional("grow_width", e.growWidth);
    io.mapOptional("grow_depth", e.growDepth);
  }
  static std::string validate(IO &io, PlanEntry &e) {
    // A field inside the entry that failed to map was reported already; the
    // entry then looks empty, which is not a second mistake.
    if (!io.outputting() && static_cast<Input &>(io).error())
      return "";
    int count = e.train.has_value() + e.growWidth.has_value() +
                e.growDepth.has_value();
    if (count != 1)
      return "a plan entry must have exactly one of 'train', 'grow_width', "
             "'grow_depth'";
    return "";
  }
};

template <> struct MappingTraits<PlanDocument> {
  static void mapping(IO &io, PlanDocument &d) {
    io.mapOptional("name", d.name, std::string("plan"));
    io.mapRequired("models", d.models);
    io.mapRequired("plan", d.plan);
  }
};
} // namespace llvm::yaml

namespace {
/// Builds tele ops from a parsed document, located at their YAML entries.
class PlanBuilder {
public:
  PlanBuilder(MLIRContext *ctx, StringRef text, StringRef bufferName)
      : ctx(ctx), text(text), bufferName(bufferName) {}

  Location locate(Position pos) {
    unsigned line = 1, col = 1;
    if (pos.pointer && pos.pointer >= text.begin() && pos.pointer <= text.end())
      for (const char *p = text.begin(); p < pos.pointer; ++p) {
        if (*p == '\n') {
          ++line;
          col = 1;
        } else {
          ++col;
        }
      }
    return FileLineColLoc::get(ctx, bufferName, line, col);
  }

  OwningOpRef<ModuleOp> build(const PlanDocument &doc);

private:
  MLIRContext *ctx;
  StringRef text, bufferName;
};
} // namespace

OwningOpRef<ModuleOp> PlanBuilder::build(const PlanDocument &doc) {
  OpBuilder b(ctx);
  Location fileLoc = locate(Position{text.begin()});
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  b.setInsertionPointToEnd(module->getBody());
  auto f = [](double v) { return llvm::APFloat(v); };

  for (const ModelEntry &m : doc.models) {
    Location loc = locate(m.pos);
    auto emitError = [&]() { return mlir::emitError(loc); };
    if (failed(ModelConfigAttr::verifyInvariants(
            emitError, m.vocab, m.hidden, m.heads, m.headDim, m.ffn, m.layers,
            m.seqLen, f(m.eps), f(m.ropeTheta), f(m.alphaOut), f(m.initStd))))
      return nullptr;
    auto config = ModelConfigAttr::get(ctx, m.vocab, m.hidden, m.heads,
                                       m.headDim, m.ffn, m.layers, m.seqLen,
                                       f(m.eps), f(m.ropeTheta), f(m.alphaOut),
                                       f(m.initStd));
    ModelOp::create(b, loc, m.name, config);
  }

  for (const ModelEntry &m : doc.models)
    if (m.name == doc.name)
      return (mlir::emitError(locate(m.pos))
                  << "model '" << m.name
                  << "' has the plan's name; plan and model names must differ",
              nullptr);
  auto plan = PlanOp::create(b, fileLoc, doc.name);
  Block *body = new Block();
  plan.getBody().push_back(body);
  b.setInsertionPointToEnd(body);
  for (const PlanEntry &e : doc.plan) {
    Location loc = locate(e.pos);
    if (const auto &t = e.train) {
      auto emitError = [&]() { return mlir::emitError(loc); };
      if (failed(StageConfigAttr::verifyInvariants(
              emitError, t->steps, t->batch, f(t->lrMatrix), f(t->lrVector),
              f(t->minLrMatrix), f(t->minLrVector), t->warmup, t->decay,
              f(t->weightDecay), f(t->clip), f(t->beta1), f(t->beta2),
              f(t->adamEps))))
        return nullptr;
      auto config = StageConfigAttr::get(
          ctx, t->steps, t->batch, f(t->lrMatrix), f(t->lrVector),
          f(t->minLrMatrix), f(t->minLrVector), t->warmup, t->decay,
          f(t->weightDecay), f(t->clip), f(t->beta1), f(t->beta2),
          f(t->adamEps));
      StageOp::create(b, loc, b.getStringAttr(t->name),
                      FlatSymbolRefAttr::get(ctx, t->model), config,
                      t->data.empty() ? StringAttr() : b.getStringAttr(t->data));
    } else if (const auto &g = e.growWidth) {
      GrowWidthOp::create(
          b, loc, FlatSymbolRefAttr::get(ctx, g->from),
          FlatSymbolRefAttr::get(ctx, g->to),
          b.getI64IntegerAttr(g->transitionSteps),
          MaskScheduleAttr::get(ctx, g->schedule), b.getF64FloatAttr(g->initStd),
          SecondMomentInitAttr::get(ctx, g->momentInit));
    } else if (const auto &g = e.growDepth) {
      GrowDepthOp::create(b, loc, FlatSymbolRefAttr::get(ctx, g->from),
                          FlatSymbolRefAttr::get(ctx, g->to),
                          b.getI64IntegerAttr(g->transitionSteps),
                          DistanceMetricAttr::get(ctx, g->metric),
                          LayerSelectionAttr::get(ctx, g->select),
                          SecondMomentInitAttr::get(ctx, g->momentInit),
                          /*copy_layers=*/nullptr);
    }
  }
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> mlir::tele::parsePlanYaml(StringRef text,
                                                StringRef bufferName,
                                                MLIRContext *context) {
  context->loadDialect<TeleDialect>();
  // llvm::yaml reports through a SourceMgr; forward each message as an MLIR
  // diagnostic at the same file, line and column.
  struct Forward {
    MLIRContext *ctx;
    StringRef name;
    bool failed = false;
  } forward{context, bufferName};
  auto handler = [](const llvm::SMDiagnostic &diag, void *ctx) {
    auto *fwd = static_cast<Forward *>(ctx);
    fwd->failed = true;
    Location loc = FileLineColLoc::get(fwd->ctx, fwd->name, diag.getLineNo(),
                                       diag.getColumnNo() + 1);
    mlir::emitError(loc) << diag.getMessage();
  };
  PlanDocument doc;
  llvm::yaml::Input input(llvm::MemoryBufferRef(text, bufferName), nullptr,
                          handler, &forward);
  input >> doc;
  if (input.error() || forward.failed) {
    if (!forward.failed)
      mlir::emitError(FileLineColLoc::get(context, bufferName, 1, 1))
          << "not a valid plan file";
    return nullptr;
  }
  return PlanBuilder(context, text, bufferName).build(doc);
}

OwningOpRef<ModuleOp> mlir::tele::loadPlanFile(StringRef path,
                                               MLIRContext *context) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer) {
    mlir::emitError(UnknownLoc::get(context))
        << "cannot read plan file '" << path
        << "': " << buffer.getError().message();
    return nullptr;
  }
  if (path.ends_with(".mlir")) {
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    return parseSourceFile<ModuleOp>(sourceMgr, context);
  }
  return parsePlanYaml((*buffer)->getBuffer(), path, context);
}

OwningOpRef<ModuleOp> mlir::tele::loadDefaultPlan(MLIRContext *context) {
  return parsePlanYaml(getDefaultPlanText(), "<default plan>", context);
}
