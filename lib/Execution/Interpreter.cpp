//===- Interpreter.cpp - CPU executor of tensor-level tele IR -------------===//
//
// This file implements the CPU reference executor. Each op is dispatched to
// a kernel of runtime/cpu; buffers are immutable and reference-counted, so a
// tele.param read shares the state's buffer and a tele.assign swaps it.
//
//===----------------------------------------------------------------------===//

#include "tele/Execution/Interpreter.h"
#include "cpu/Kernels.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>

using namespace mlir;
using namespace mlir::tele;
using namespace mlir::tele::exec;
namespace kernels = ::tele::cpu;

//===----------------------------------------------------------------------===//
// HostValue and TrainingState
//===----------------------------------------------------------------------===//

template <typename T>
HostValue<T> HostValue<T>::fromFloats(ArrayRef<int64_t> shape,
                                      std::vector<T> data) {
  HostValue v;
  v.shape.assign(shape.begin(), shape.end());
  v.floats = std::make_shared<const std::vector<T>>(std::move(data));
  return v;
}

template <typename T>
HostValue<T> HostValue<T>::fromTokens(ArrayRef<int64_t> shape,
                                      std::vector<int32_t> data) {
  HostValue v;
  v.shape.assign(shape.begin(), shape.end());
  v.ints = std::make_shared<const std::vector<int32_t>>(std::move(data));
  return v;
}

template <typename T> HostValue<T> HostValue<T>::fromStep(int64_t step) {
  HostValue v;
  v.step = step;
  return v;
}

template <typename T>
const typename TrainingState<T>::Entry *
TrainingState<T>::lookup(StringRef name) const {
  auto it = entries.find(name.str());
  return it == entries.end() ? nullptr : &it->second;
}

template <typename T>
void TrainingState<T>::set(StringRef name, ArrayRef<int64_t> shape,
                           std::shared_ptr<const std::vector<T>> data) {
  Entry &e = entries[name.str()];
  e.shape.assign(shape.begin(), shape.end());
  e.data = std::move(data);
}

namespace {
template <typename T> bool isElementType(Type t) {
  if constexpr (std::is_same_v<T, float>)
    return t.isF32();
  else
    return t.isF64();
}

llvm::Error opError(Operation *op, const Twine &message) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getLoc() << ": '" << op->getName() << "': " << message;
  return llvm::createStringError(llvm::inconvertibleErrorCode(), os.str());
}

SmallVector<int64_t> shapeOf(Value v) {
  auto ty = cast<RankedTensorType>(v.getType());
  return SmallVector<int64_t>(ty.getShape());
}

int64_t lastDim(Value v) { return cast<RankedTensorType>(v.getType()).getShape().back(); }
int64_t numElements(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}
} // namespace

template <typename T>
llvm::Error mlir::tele::exec::initializeState(func::FuncOp fn,
                                              TrainingState<T> &state,
                                              uint64_t seed, double initStd) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, initStd);
  llvm::Error err = llvm::Error::success();
  fn.walk([&](ParamOp param) {
    if (err || state.contains(param.getName()))
      return;
    auto ty = param.getType();
    if (!isElementType<T>(ty.getElementType())) {
      err = opError(param, "element type does not match the executor's");
      return;
    }
    std::vector<T> data(ty.getNumElements());
    switch (param.getInit()) {
    case ParamInit::normal:
      for (T &x : data)
        x = static_cast<T>(normal(rng));
      break;
    case ParamInit::ones:
      std::fill(data.begin(), data.end(), T(1));
      break;
    case ParamInit::zeros:
      break;
    }
    state.set(param.getName(), ty.getShape(),
              std::make_shared<const std::vector<T>>(std::move(data)));
  });
  return err;
}

//===----------------------------------------------------------------------===//
// Executor
//===----------------------------------------------------------------------===//

namespace {
template <typename T> class Executor {
public:
  explicit Executor(TrainingState<T> &state) : state(state) {}

  void bind(Value v, HostValue<T> value) { values[v] = std::move(value); }
  const HostValue<T> &get(Value v) { return values.find(v)->second; }
  const T *data(Value v) { return get(v).floats->data(); }
  const T *dataOrNull(Value v) { return v ? data(v) : nullptr; }
  const int32_t *tokens(Value v) { return get(v).ints->data(); }
  T scalar(Value v) { return get(v).scalar(); }

  /// Allocates a zeroed output buffer for `v`; `finish` publishes it.
  std::vector<T> output(Value v) { return std::vector<T>(numElements(v)); }
  void finish(Value v, std::vector<T> data) {
    values[v] = HostValue<T>::fromFloats(shapeOf(v), std::move(data));
  }
  /// out += addend (a GEMM's `plus` operand), if there is one.
  void addAddend(Value addend, std::vector<T> &out) {
    if (!addend)
      return;
    const T *r = data(addend);
    for (size_t i = 0; i < out.size(); ++i)
      out[i] += r[i];
  }

  llvm::Error run(Operation *op);

private:
  llvm::Error checkTokens(Operation *op, Value tokens, int64_t limit);

  TrainingState<T> &state;
  llvm::DenseMap<Value, HostValue<T>> values;
};
} // namespace

/// Fills every entry of `out` for a growth op: N(0, std) from a generator
/// seeded by `seed`, ones, zeros, or the mean of `old`.
template <typename T>
static void fillNew(std::vector<T> &out, GrowFill fill, double std,
                    int64_t seed, const std::vector<T> &old) {
  switch (fill) {
  case GrowFill::normal: {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, std);
    for (T &x : out)
      x = T(normal(rng));
    break;
  }
  case GrowFill::ones:
    std::fill(out.begin(), out.end(), T(1));
    break;
  case GrowFill::zeros:
    std::fill(out.begin(), out.end(), T(0));
    break;
  case GrowFill::mean: {
    double sum = 0;
    for (T x : old)
      sum += x;
    std::fill(out.begin(), out.end(), T(old.empty() ? 0.0 : sum / old.size()));
    break;
  }
  }
}

template <typename T>
llvm::Error Executor<T>::checkTokens(Operation *op, Value tokens,
                                     int64_t limit) {
  const auto &ids = *get(tokens).ints;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= limit)
      return opError(op, "token " + Twine(ids[i]) + " at position " +
                             Twine(i) + " is outside the vocabulary [0, " +
                             Twine(limit) + ")");
  return llvm::Error::success();
}

template <typename T> llvm::Error Executor<T>::run(Operation *op) {
  for (Value r : op->getResults())
    if (auto ty = dyn_cast<RankedTensorType>(r.getType()))
      if (isa<FloatType>(ty.getElementType()) &&
          !isElementType<T>(ty.getElementType()))
        return opError(op, "result element type does not match the "
                           "executor's (run f32 IR in fp32, f64 IR in fp64)");

  return llvm::TypeSwitch<Operation *, llvm::Error>(op)
      .Case([&](ParamOp p) -> llvm::Error {
        const auto *entry = state.lookup(p.getName());
        if (!entry)
          return opError(op, "'" + p.getName() +
                                 "' is not in the training state");
        if (ArrayRef<int64_t>(entry->shape) != p.getType().getShape())
          return opError(op, "state tensor '" + p.getName() +
                                 "' has a different shape than the IR expects");
        HostValue<T> v;
        v.shape = entry->shape;
        v.floats = entry->data;
        bind(p, std::move(v));
        return llvm::Error::success();
      })
      .Case([&](AssignOp a) -> llvm::Error {
        const HostValue<T> &v = get(a.getValue());
        state.set(a.getName(), v.shape, v.floats);
        return llvm::Error::success();
      })
      .Case([&](MaskValueOp m) -> llvm::Error {
        auto it = state.masks.find(m.getName().str());
        if (it == state.masks.end())
          return opError(op, "mask '" + m.getName() + "' has no value");
        bind(m, HostValue<T>::fromFloats({}, {T(it->second)}));
        return llvm::Error::success();
      })
      .Case([&](MaskVectorOp m) -> llvm::Error {
        auto out = output(m);
        T c = scalar(m.getValue());
        for (size_t i = 0; i < out.size(); ++i)
          out[i] = (int64_t)i < m.getKeptAttr().getInt() ? T(1) : c;
        finish(m, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](arith::ConstantOp c) -> llvm::Error {
        auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
        if (!dense || !isa<FloatType>(dense.getElementType()))
          return opError(op, "only dense float constants are supported");
        auto out = output(c);
        size_t i = 0;
        if (dense.isSplat()) {
          std::fill(out.begin(), out.end(),
                    T(dense.getSplatValue<APFloat>().convertToDouble()));
        } else {
          for (APFloat f : dense.getValues<APFloat>())
            out[i++] = T(f.convertToDouble());
        }
        finish(c, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](EmbedOp e) -> llvm::Error {
        auto tableTy = e.getTable().getType();
        int64_t V = tableTy.getDimSize(0), D = tableTy.getDimSize(1);
        if (auto err = checkTokens(op, e.getTokens(), V))
          return err;
        auto out = output(e);
        kernels::embed(data(e.getTable()), tokens(e.getTokens()), out.data(),
                   numElements(e.getTokens()), V, D);
        finish(e, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](EmbedGradOp e) -> llvm::Error {
        auto ty = e.getType();
        if (auto err = checkTokens(op, e.getTokens(), ty.getDimSize(0)))
          return err;
        auto out = output(e);
        kernels::embedGrad(data(e.getGrad()), tokens(e.getTokens()), out.data(),
                       numElements(e.getTokens()), ty.getDimSize(0),
                       ty.getDimSize(1));
        finish(e, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](RMSNormOp n) -> llvm::Error {
        int64_t D = lastDim(n.getInput());
        auto out = output(n);
        kernels::rmsNorm(data(n.getInput()), data(n.getGain()),
                     dataOrNull(n.getMask()), out.data(),
                     numElements(n.getInput()) / D, D,
                     n.getEps().convertToDouble());
        finish(n, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](RMSNormGradOp n) -> llvm::Error {
        if (n.getInputGradCopy())
          return opError(n, "has a bf16 copy result, which the CPU executor does not run");
        int64_t D = lastDim(n.getInput());
        auto dx = output(n.getInputGrad());
        auto dg = output(n.getGainGrad());
        // The output gradient is the sum of the op's gradients.
        std::vector<T> dy(data(n.getGrads()[0]), data(n.getGrads()[0]) + dx.size());
        for (Value grad : n.getGrads().drop_front())
          addAddend(grad, dy);
        kernels::rmsNormGrad(data(n.getInput()), data(n.getGain()), dataOrNull(n.getMask()),
                             dy.data(), dx.data(), dg.data(), numElements(n.getInput()) / D, D,
                             n.getEps().convertToDouble());
        addAddend(n.getAddend(), dx);
        finish(n.getInputGrad(), std::move(dx));
        finish(n.getGainGrad(), std::move(dg));
        return llvm::Error::success();
      })
      .Case([&](LinearOp l) -> llvm::Error {
        auto w = l.getWeight().getType();
        int64_t N = w.getDimSize(0), K = w.getDimSize(1);
        auto out = output(l);
        kernels::linear(data(l.getInput()), data(l.getWeight()), out.data(),
                    numElements(l.getInput()) / K, K, N);
        addAddend(l.getAddend(), out);
        finish(l, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](LinearGradInputOp l) -> llvm::Error {
        auto w = l.getWeight().getType();
        int64_t N = w.getDimSize(0), K = w.getDimSize(1);
        auto out = output(l);
        kernels::linearGradInput(data(l.getGrad()), data(l.getWeight()), out.data(),
                             numElements(l.getGrad()) / N, K, N);
        addAddend(l.getAddend(), out);
        finish(l, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](LinearGradWeightOp l) -> llvm::Error {
        int64_t N = lastDim(l.getGrad()), K = lastDim(l.getInput());
        auto out = output(l);
        kernels::linearGradWeight(data(l.getGrad()), data(l.getInput()),
                              out.data(), numElements(l.getInput()) / K, K, N);
        finish(l, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](RopeOp r) -> llvm::Error {
        auto s = shapeOf(r);
        int64_t dh = r.getHeadDim();
        auto out = output(r);
        kernels::rope(data(r.getInput()), out.data(), s[0], s[1], s[2] / dh, dh,
                  r.getTheta().convertToDouble(), r.getInverse());
        finish(r, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](AttentionOp a) -> llvm::Error {
        auto s = shapeOf(a);
        int64_t dh = a.getHeadDim();
        auto out = output(a);
        kernels::attention(data(a.getQuery()), data(a.getKey()), data(a.getValue()),
                       out.data(), s[0], s[1], s[2] / dh, dh);
        finish(a, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](AttentionGradOp a) -> llvm::Error {
        auto s = shapeOf(a.getQuery());
        int64_t dh = a.getHeadDim();
        auto dq = output(a.getQueryGrad()), dk = output(a.getKeyGrad()),
             dv = output(a.getValueGrad());
        kernels::attentionGrad(data(a.getQuery()), data(a.getKey()),
                           data(a.getValue()), data(a.getGrad()), dq.data(),
                           dk.data(), dv.data(), s[0], s[1], s[2] / dh, dh);
        finish(a.getQueryGrad(), std::move(dq));
        finish(a.getKeyGrad(), std::move(dk));
        finish(a.getValueGrad(), std::move(dv));
        return llvm::Error::success();
      })
      .Case([&](FlashAttentionOp a) -> llvm::Error {
        auto s = shapeOf(a.getResult());
        int64_t B = s[0], Tn = s[1], dh = a.getHeadDim(), H = s[2] / dh;
        auto out = output(a.getResult());
        auto lse = output(a.getLse());
        kernels::attention(data(a.getQuery()), data(a.getKey()), data(a.getValue()),
                           out.data(), B, Tn, H, dh, lse.data());
        finish(a.getResult(), std::move(out));
        finish(a.getLse(), std::move(lse));
        return llvm::Error::success();
      })
      .Case([&](FlashAttentionGradOp a) -> llvm::Error {
        // The CPU reference recomputes the softmax; out and lse are the
        // GPU's shortcut.
        auto s = shapeOf(a.getQuery());
        int64_t dh = a.getHeadDim();
        auto dq = output(a.getQueryGrad()), dk = output(a.getKeyGrad()),
             dv = output(a.getValueGrad());
        kernels::attentionGrad(data(a.getQuery()), data(a.getKey()), data(a.getValue()),
                               data(a.getGrad()), dq.data(), dk.data(), dv.data(), s[0],
                               s[1], s[2] / dh, dh);
        finish(a.getQueryGrad(), std::move(dq));
        finish(a.getKeyGrad(), std::move(dk));
        finish(a.getValueGrad(), std::move(dv));
        return llvm::Error::success();
      })
      .Case([&](SwiGLUOp s) -> llvm::Error {
        auto out = output(s);
        kernels::swiglu(data(s.getGate()), data(s.getUp()), out.data(),
                    numElements(s));
        finish(s, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](SwiGLUGradOp s) -> llvm::Error {
        auto dg = output(s.getGateGrad()), du = output(s.getUpGrad());
        kernels::swigluGrad(data(s.getGate()), data(s.getUp()), data(s.getGrad()),
                        dg.data(), du.data(), numElements(s.getGate()));
        finish(s.getGateGrad(), std::move(dg));
        finish(s.getUpGrad(), std::move(du));
        return llvm::Error::success();
      })
      .Case([&](AddOp a) -> llvm::Error {
        auto out = output(a);
        kernels::add(data(a.getLhs()), data(a.getRhs()), out.data(), numElements(a));
        finish(a, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](ScaleOp s) -> llvm::Error {
        auto out = output(s);
        kernels::scale(data(s.getInput()), s.getFactor().convertToDouble(),
                   out.data(), numElements(s));
        finish(s, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](MaskMulOp m) -> llvm::Error {
        int64_t D = lastDim(m);
        auto out = output(m);
        kernels::maskMul(data(m.getInput()), data(m.getMask()), out.data(),
                     numElements(m) / D, D);
        finish(m, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](LerpOp l) -> llvm::Error {
        auto out = output(l);
        kernels::lerp(data(l.getStart()), data(l.getEnd()),
                  double(scalar(l.getWeight())), out.data(), numElements(l));
        finish(l, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](LerpGradOp l) -> llvm::Error {
        auto dx = output(l.getStartGrad()), dy = output(l.getEndGrad());
        kernels::lerpGrad(data(l.getGrad()), double(scalar(l.getWeight())),
                      dx.data(), dy.data(), numElements(l.getGrad()));
        finish(l.getStartGrad(), std::move(dx));
        finish(l.getEndGrad(), std::move(dy));
        return llvm::Error::success();
      })
      .Case([&](CrossEntropyOp c) -> llvm::Error {
        int64_t V = lastDim(c.getLogits());
        if (auto err = checkTokens(op, c.getTargets(), V))
          return err;
        T loss = kernels::crossEntropy(data(c.getLogits()), tokens(c.getTargets()),
                                   dataOrNull(c.getLossMask()),
                                   numElements(c.getTargets()), V);
        finish(c, {loss});
        return llvm::Error::success();
      })
      .Case([&](CrossEntropyGradOp c) -> llvm::Error {
        int64_t V = lastDim(c.getLogits());
        if (auto err = checkTokens(op, c.getTargets(), V))
          return err;
        auto out = output(c);
        kernels::crossEntropyGrad(data(c.getLogits()), tokens(c.getTargets()),
                              dataOrNull(c.getLossMask()), scalar(c.getGrad()),
                              out.data(), numElements(c.getTargets()), V);
        finish(c, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](CrossEntropyFusedOp c) -> llvm::Error {
        int64_t V = lastDim(c.getLogits());
        if (auto err = checkTokens(op, c.getTargets(), V))
          return err;
        int64_t rows = numElements(c.getTargets());
        T loss = kernels::crossEntropy(data(c.getLogits()), tokens(c.getTargets()),
                                       static_cast<const T *>(nullptr), rows, V);
        auto out = output(c.getLogitsGrad());
        kernels::crossEntropyGrad(data(c.getLogits()), tokens(c.getTargets()),
                                  static_cast<const T *>(nullptr), scalar(c.getGrad()),
                                  out.data(), rows, V);
        finish(c.getLoss(), {loss});
        finish(c.getLogitsGrad(), std::move(out));
        return llvm::Error::success();
      })
      .Case([&](GlobalNormOp g) -> llvm::Error {
        double sum = 0;
        for (Value v : g.getInputs())
          sum += kernels::sumSquares(data(v), numElements(v));
        finish(g, {T(std::sqrt(sum))});
        return llvm::Error::success();
      })
      .Case([&](ClipScaleOp c) -> llvm::Error {
        double norm = scalar(c.getNorm());
        double s = std::min(1.0, c.getMaxNorm().convertToDouble() / (norm + 1e-6));
        finish(c, {T(s)});
        return llvm::Error::success();
      })
      .Case([&](LRScheduleOp l) -> llvm::Error {
        int64_t step = get(l.getStep()).step;
        double peak = l.getPeak().convertToDouble();
        double min = l.getMin().convertToDouble();
        int64_t warmup = l.getWarmupAttr().getInt(), total = l.getTotalAttr().getInt();
        double lr = peak;
        if (step < warmup) {
          lr = peak * double(step + 1) / double(warmup);
        } else {
          // The last step of the stage (total - 1) runs at the minimum.
          double p = total - 1 > warmup
                         ? double(step - warmup) / double(total - 1 - warmup)
                         : 1.0;
          p = std::clamp(p, 0.0, 1.0);
          switch (l.getDecay()) {
          case DecayKind::cosine:
            lr = min + (peak - min) * 0.5 * (1.0 + std::cos(M_PI * p));
            break;
          case DecayKind::linear:
            lr = peak - (peak - min) * p;
            break;
          case DecayKind::constant:
            lr = peak;
            break;
          }
        }
        finish(l, {T(lr)});
        return llvm::Error::success();
      })
      .Case([&](AdamWOp a) -> llvm::Error {
        int64_t step = get(a.getStep()).step;
        if (step < 1)
          return opError(op, "optimizer step must be >= 1, got " + Twine(step));
        if (a.getNewParamCopy()) // bf16, like the GEMMs' copies it is for
          return opError(op, "with a bf16 copy is not supported by the CPU executor");
        std::vector<T> p(*get(a.getParam()).floats);
        std::vector<T> m(*get(a.getMoment1()).floats);
        std::vector<T> v(*get(a.getMoment2()).floats);
        kernels::adamw(p.data(), data(a.getGrad()), m.data(), v.data(),
                   (int64_t)p.size(), double(scalar(a.getLr())),
                   a.getBeta1().convertToDouble(), a.getBeta2().convertToDouble(),
                   a.getEps().convertToDouble(),
                   a.getWeightDecay().convertToDouble(), step,
                   double(scalar(a.getGradScale())));
        finish(a.getNewParam(), std::move(p));
        finish(a.getNewMoment1(), std::move(m));
        finish(a.getNewMoment2(), std::move(v));
        return llvm::Error::success();
      })
      .Case([&](GrowPadOp g) -> llvm::Error {
        auto in = g.getInput().getType();
        auto out = output(g);
        fillNew(out, g.getFill(), g.getStd().convertToDouble(), g.getSeed(),
                *get(g.getInput()).floats);
        // Copy the old tensor into the top-left block, row by row.
        ArrayRef<int64_t> oldShape = in.getShape(), newShape = g.getType().getShape();
        int64_t rows = 1;
        for (int64_t d : oldShape.drop_back())
          rows *= d;
        int64_t oldLast = oldShape.empty() ? 1 : oldShape.back();
        const T *src = data(g.getInput());
        for (int64_t r = 0; r < rows; ++r) {
          // Index of old row r in the new tensor: same multi-index.
          int64_t rem = r, dst = 0, stride = 1;
          SmallVector<int64_t> idx(oldShape.size() > 0 ? oldShape.size() - 1 : 0);
          for (int64_t k = (int64_t)idx.size() - 1; k >= 0; --k) {
            idx[k] = rem % oldShape[k];
            rem /= oldShape[k];
          }
          for (int64_t k = (int64_t)idx.size() - 1; k >= 0; --k) {
            dst += idx[k] * stride;
            stride *= newShape[k];
          }
          int64_t newLast = newShape.empty() ? 1 : newShape.back();
          std::copy(src + r * oldLast, src + (r + 1) * oldLast,
                    out.begin() + dst * newLast);
        }
        finish(g, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](GrowFillOp g) -> llvm::Error {
        auto out = output(g);
        fillNew(out, g.getFill(), g.getStd().convertToDouble(), g.getSeed(),
                *get(g.getInput()).floats);
        finish(g, std::move(out));
        return llvm::Error::success();
      })
      .Case([&](StreamDistanceOp d) -> llvm::Error {
        int64_t D = lastDim(d.getInput());
        int64_t rows = numElements(d.getInput()) / D;
        const T *x = data(d.getInput()), *y = data(d.getOutput());
        double total = 0;
        for (int64_t r = 0; r < rows; ++r) {
          double dot = 0, xx = 0, yy = 0, diff = 0;
          for (int64_t i = 0; i < D; ++i) {
            double a = x[r * D + i], b = y[r * D + i];
            dot += a * b;
            xx += a * a;
            yy += b * b;
            diff += (b - a) * (b - a);
          }
          total += d.getMetric() == DistanceMetric::euclidean
                       ? std::sqrt(diff)
                       : dot / std::max(std::sqrt(xx * yy), 1e-30);
        }
        double mean = total / double(rows);
        finish(d, {T(d.getMetric() == DistanceMetric::euclidean ? mean
                                                                 : 1.0 - mean)});
        return llvm::Error::success();
      })
      .Default([&](Operation *other) -> llvm::Error {
        return opError(other, "is not supported by the CPU executor");
      });
}

template <typename T>
llvm::Expected<std::vector<HostValue<T>>>
mlir::tele::exec::execute(func::FuncOp fn, ArrayRef<HostValue<T>> args,
                          TrainingState<T> &state) {
  if (!fn.getBody().hasOneBlock())
    return opError(fn, "the CPU executor needs a single-block function");
  Block &body = fn.getBody().front();
  if (args.size() != body.getNumArguments())
    return opError(fn, "expects " + Twine(body.getNumArguments()) +
                           " arguments, got " + Twine(args.size()));
  Executor<T> ex(state);
  for (auto [arg, value] : llvm::zip(body.getArguments(), args)) {
    auto ty = cast<RankedTensorType>(arg.getType());
    if (ty.getRank() > 0 && ArrayRef<int64_t>(value.shape) != ty.getShape())
      return opError(fn, "argument #" + Twine(arg.getArgNumber()) +
                             " has the wrong shape");
    if (ty.getElementType().isInteger(32) &&
        (!value.ints || (int64_t)value.ints->size() != ty.getNumElements()))
      return opError(fn, "argument #" + Twine(arg.getArgNumber()) +
                             " must hold " + Twine(ty.getNumElements()) +
                             " tokens");
    ex.bind(arg, value);
  }
  for (Operation &op : body.without_terminator())
    if (auto err = ex.run(&op))
      return std::move(err);
  std::vector<HostValue<T>> results;
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(ex.get(v));
  return results;
}

namespace mlir::tele::exec {
#define TELE_INSTANTIATE(T)                                                    \
  template struct HostValue<T>;                                                \
  template class TrainingState<T>;                                             \
  template llvm::Error initializeState<T>(func::FuncOp, TrainingState<T> &,    \
                                         uint64_t, double);                    \
  template llvm::Expected<std::vector<HostValue<T>>> execute<T>(               \
      func::FuncOp, ArrayRef<HostValue<T>>, TrainingState<T> &);
TELE_INSTANTIATE(float)
TELE_INSTANTIATE(double)
#undef TELE_INSTANTIATE
} // namespace mlir::tele::exec
