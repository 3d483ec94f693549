//===- ElementwiseKernels.cpp - elementwise GPU kernels -------------------===//
//
// This file builds the kernels of tele's elementwise ops. Each thread handles
// a chunk of kVec consecutive elements (2 kVec for tele.convert) with vector
// loads and stores (which NVPTX turns into ld.global.v4 / st.global.v4),
// falling back to one element when a size is not a multiple of the chunk.
// The arithmetic is f32; a result typed bf16 (tele.convert, or an op that
// tele-bf16-gemms narrowed) is rounded at the store. Operands are classified once:
// full-size tensors are indexed by the element, per-feature vectors (the
// mask of tele.mask_mul) by the element modulo the feature size, and 0-d
// tensors (learning rate, clip scale, mask value, step) are loaded once and
// broadcast. The arithmetic of each op is written on vectors.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
constexpr int64_t kVec = 4;

enum class Role { Full, Feature, Scalar };

/// How the kernel computes its outputs from the (vector-valued) operands.
using ComputeFn = std::function<SmallVector<Value>(ImplicitLocOpBuilder &,
                                                   ArrayRef<Value>)>;

struct ElementwiseSpec {
  SmallVector<Value> operands;
  SmallVector<Role> roles;
  ComputeFn compute;
  std::string stem;
  /// Elements per thread: 4 (one 128-bit access per f32 operand), or 8 for
  /// tele.convert so that its bf16 stores are 128-bit too.
  int64_t vec = kVec;
};

Value sigmoid(ImplicitLocOpBuilder &b, Value x) {
  auto vt = cast<VectorType>(x.getType());
  Value e = math::ExpOp::create(b, arith::NegFOp::create(b, x));
  return arith::DivFOp::create(b, splatFloat(b, vt, 1.0),
                               arith::AddFOp::create(b, splatFloat(b, vt, 1.0), e));
}

FailureOr<ElementwiseSpec> specFor(Operation *op) {
  using V = ArrayRef<Value>;
  using B = ImplicitLocOpBuilder;
  auto full = [](Operation *o) {
    return SmallVector<Role>(o->getNumOperands(), Role::Full);
  };
  return llvm::TypeSwitch<Operation *, FailureOr<ElementwiseSpec>>(op)
      .Case([&](AddOp a) -> FailureOr<ElementwiseSpec> {
        return ElementwiseSpec{a->getOperands(), full(a),
                               [](B &b, V in) -> SmallVector<Value> {
                                 return {arith::AddFOp::create(b, in[0], in[1])};
                               },
                               "add"};
      })
      .Case([&](ScaleOp s) -> FailureOr<ElementwiseSpec> {
        double f = s.getFactor().convertToDouble();
        return ElementwiseSpec{s->getOperands(), full(s),
                               [f](B &b, V in) -> SmallVector<Value> {
                                 auto vt = cast<VectorType>(in[0].getType());
                                 return {arith::MulFOp::create(b, in[0],
                                                               splatFloat(b, vt, f))};
                               },
                               "scale"};
      })
      .Case([&](SwiGLUOp s) -> FailureOr<ElementwiseSpec> {
        return ElementwiseSpec{
            s->getOperands(), full(s),
            [](B &b, V in) -> SmallVector<Value> {
              Value silu = arith::MulFOp::create(b, in[0], sigmoid(b, in[0]));
              return {arith::MulFOp::create(b, silu, in[1])};
            },
            "swiglu"};
      })
      .Case([&](SwiGLUGradOp s) -> FailureOr<ElementwiseSpec> {
        return ElementwiseSpec{
            s->getOperands(), full(s),
            [](B &b, V in) -> SmallVector<Value> {
              // d silu(g)/dg = s (1 + g (1 - s)) with s = sigmoid(g).
              auto vt = cast<VectorType>(in[0].getType());
              Value g = in[0], u = in[1], dy = in[2];
              Value sg = sigmoid(b, g);
              Value silu = arith::MulFOp::create(b, g, sg);
              Value oneMinus = arith::SubFOp::create(b, splatFloat(b, vt, 1.0), sg);
              Value dsilu = arith::MulFOp::create(
                  b, sg,
                  arith::AddFOp::create(b, splatFloat(b, vt, 1.0),
                                        arith::MulFOp::create(b, g, oneMinus)));
              Value dyu = arith::MulFOp::create(b, dy, u);
              return {arith::MulFOp::create(b, dyu, dsilu),
                      arith::MulFOp::create(b, dy, silu)};
            },
            "swiglu_grad"};
      })
      .Case([&](MaskMulOp m) -> FailureOr<ElementwiseSpec> {
        return ElementwiseSpec{m->getOperands(), {Role::Full, Role::Feature},
                               [](B &b, V in) -> SmallVector<Value> {
                                 return {arith::MulFOp::create(b, in[0], in[1])};
                               },
                               "mask_mul"};
      })
      .Case([&](LerpOp l) -> FailureOr<ElementwiseSpec> {
        return ElementwiseSpec{
            l->getOperands(), {Role::Full, Role::Full, Role::Scalar},
            [](B &b, V in) -> SmallVector<Value> {
              Value d = arith::SubFOp::create(b, in[1], in[0]);
              return {arith::AddFOp::create(
                  b, in[0], arith::MulFOp::create(b, in[2], d))};
            },
            "lerp"};
      })
      .Case([&](LerpGradOp l) -> FailureOr<ElementwiseSpec> {
        return ElementwiseSpec{
            l->getOperands(), {Role::Full, Role::Scalar},
            [](B &b, V in) -> SmallVector<Value> {
              auto vt = cast<VectorType>(in[0].getType());
              Value start = arith::MulFOp::create(
                  b, in[0], arith::SubFOp::create(b, splatFloat(b, vt, 1.0), in[1]));
              return {start, arith::MulFOp::create(b, in[0], in[1])};
            },
            "lerp_grad"};
      })
      .Case<ConvertOp, CachedConvertOp>([&](Operation *c) -> FailureOr<ElementwiseSpec> {
        // The rounding happens where the result is stored.
        return ElementwiseSpec{c->getOperands(), full(c),
                               [](B &, V in) -> SmallVector<Value> { return {in[0]}; },
                               "convert", 2 * kVec};
      })
      .Case([&](AdamWOp a) -> FailureOr<ElementwiseSpec> {
        double b1 = a.getBeta1().convertToDouble();
        double b2 = a.getBeta2().convertToDouble();
        double eps = a.getEps().convertToDouble();
        double wd = a.getWeightDecay().convertToDouble();
        bool copy = static_cast<bool>(a.getNewParamCopy());
        return ElementwiseSpec{
            a->getOperands(),
            {Role::Full, Role::Full, Role::Full, Role::Full, Role::Scalar,
             Role::Scalar, Role::Scalar},
            [=](B &b, V in) -> SmallVector<Value> {
              auto vt = cast<VectorType>(in[0].getType());
              Value p = in[0], g = in[1], m = in[2], v = in[3];
              Value lr = in[4], scale = in[5], step = in[6];
              auto c = [&](double x) { return splatFloat(b, vt, x); };
              // Bias corrections 1 - beta^t, computed on the device.
              Value bc1 = arith::SubFOp::create(
                  b, c(1.0), math::PowFOp::create(b, c(b1), step));
              Value bc2 = arith::SubFOp::create(
                  b, c(1.0), math::PowFOp::create(b, c(b2), step));
              Value gs = arith::MulFOp::create(b, g, scale);
              // Decoupled weight decay first, as in PyTorch's AdamW.
              Value decayed = arith::SubFOp::create(
                  b, p, arith::MulFOp::create(b, arith::MulFOp::create(b, lr, c(wd)), p));
              Value m1 = arith::AddFOp::create(
                  b, arith::MulFOp::create(b, c(b1), m),
                  arith::MulFOp::create(b, c(1.0 - b1), gs));
              Value v1 = arith::AddFOp::create(
                  b, arith::MulFOp::create(b, c(b2), v),
                  arith::MulFOp::create(b, c(1.0 - b2),
                                        arith::MulFOp::create(b, gs, gs)));
              // The corrections are the same in every lane (after unrolling,
              // one scalar each): multiply by their reciprocals instead of
              // dividing every element twice.
              Value mhat = arith::MulFOp::create(b, m1, arith::DivFOp::create(b, c(1.0), bc1));
              Value vhat = arith::MulFOp::create(b, v1, arith::DivFOp::create(b, c(1.0), bc2));
              Value denom = arith::AddFOp::create(b, math::SqrtOp::create(b, vhat), c(eps));
              Value p1 = arith::SubFOp::create(
                  b, decayed,
                  arith::MulFOp::create(b, lr, arith::DivFOp::create(b, mhat, denom)));
              if (copy) // rounded to bf16 where it is stored
                return {p1, m1, v1, p1};
              return {p1, m1, v1};
            },
            "adamw"};
      })
      .Default([](Operation *) { return failure(); });
}
} // namespace

Value mlir::tele::splatFloat(ImplicitLocOpBuilder &b, VectorType vt,
                             double value) {
  return arith::ConstantOp::create(
      b, vt,
      DenseElementsAttr::get(vt, b.getFloatAttr(vt.getElementType(), value)));
}

KernelLaunch mlir::tele::chunkedLaunch(gpu::GPUFuncOp kernel, int64_t n,
                                       int64_t vec) {
  KernelLaunch launch;
  launch.kernel = kernel;
  launch.block = {kChunkBlock, 1, 1};
  launch.grid = {std::max<int64_t>(1, (n / vec + kChunkBlock - 1) / kChunkBlock), 1, 1};
  return launch;
}

Value mlir::tele::beginChunk(ImplicitLocOpBuilder &b, int64_t n, int64_t vec) {
  Value bid = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value bdim = gpu::BlockDimOp::create(b, gpu::Dimension::x);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value gid = arith::AddIOp::create(b, arith::MulIOp::create(b, bid, bdim), tid);
  Value base =
      arith::MulIOp::create(b, gid, arith::ConstantIndexOp::create(b, vec));
  Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, base,
                                        arith::ConstantIndexOp::create(b, n));
  auto ifOp = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  return base;
}

FailureOr<KernelLaunch> mlir::tele::buildElementwiseKernel(Operation *op,
                                                           gpu::GPUModuleOp kernels) {
  FailureOr<ElementwiseSpec> spec = specFor(op);
  if (failed(spec))
    return failure();
  // The arithmetic is f32; operands are f32 or bf16 copies (read widened),
  // results stored as f32 or rounded to bf16 (tele.convert, narrowed
  // results). Other element types have no kernels yet.
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  Type et = Float32Type::get(op->getContext());
  auto f32OrBf16 = [](Type t) {
    Type e = getElementTypeOrSelf(t);
    return e.isF32() || e.isBF16();
  };
  if (!f32OrBf16(op->getOperand(0).getType()) ||
      !llvm::all_of(op->getResultTypes(), f32OrBf16))
    return failure();
  int64_t n = resultType.getNumElements();
  // A per-feature operand of size D is read at (element mod D): a chunk
  // stays inside one row only if D is a multiple of the chunk too.
  int64_t feature = n;
  for (auto [v, role] : llvm::zip(spec->operands, spec->roles))
    if (role == Role::Feature)
      feature = cast<RankedTensorType>(v.getType()).getNumElements();
  int64_t vec = (n % spec->vec == 0 && feature % spec->vec == 0) ? spec->vec : 1;

  // Operands then results, each a flat memref (the optimizer step counter
  // is an i64 scalar, everything else f32 or bf16).
  SmallVector<Type> argTypes;
  for (Value v : llvm::concat<Value>(spec->operands, op->getResults()))
    argTypes.push_back(flatMemRef(v));

  std::string stem = (spec->stem + "_" + Twine(n) + "xf32").str();
  if (llvm::any_of(op->getResultTypes(),
                   [](Type t) { return getElementTypeOrSelf(t).isBF16(); }))
    stem += "_to_bf16"; // some result rounded to bf16 at the store
  if (llvm::any_of(op->getOperandTypes(),
                   [](Type t) { return getElementTypeOrSelf(t).isBF16(); }))
    stem += bf16Signature(op); // which operands are bf16 copies
  KernelLaunch launch =
      chunkedLaunch(createKernel(kernels, stem, argTypes), n, vec);

  Location loc = op->getLoc();
  OpBuilder builder(launch.kernel.getBody());
  ImplicitLocOpBuilder b(loc, builder);
  Block &entry = launch.kernel.getBody().front();
  auto vt = VectorType::get({vec}, et);
  // Chunks start at multiples of vec elements of allocations aligned to at
  // least 256 bytes, so a whole chunk is a sound alignment (loadChunk,
  // storeChunk): it lets NVPTX emit 128-bit ld.global.v4 / st.global.v4.
  Value base = beginChunk(b, n, vec);
  SmallVector<Value> loaded;
  for (auto [i, role] : llvm::enumerate(spec->roles)) {
    Value arg = entry.getArgument(i);
    Value zero = arith::ConstantIndexOp::create(b, 0);
    switch (role) {
    case Role::Full:
      loaded.push_back(loadChunk(b, vt, arg, base));
      break;
    case Role::Feature: {
      Value idx = arith::RemUIOp::create(
          b, base, arith::ConstantIndexOp::create(b, feature));
      loaded.push_back(loadChunk(b, vt, arg, idx));
      break;
    }
    case Role::Scalar: {
      Value s = memref::LoadOp::create(b, arg, ValueRange{zero});
      if (s.getType().isInteger(64))
        s = arith::UIToFPOp::create(b, et, s);
      loaded.push_back(vector::BroadcastOp::create(b, vt, s));
      break;
    }
    }
  }
  SmallVector<Value> outputs = spec->compute(b, loaded);
  for (auto [i, v] : llvm::enumerate(outputs))
    storeChunk(b, v, entry.getArgument(spec->operands.size() + i), base);
  return launch;
}
