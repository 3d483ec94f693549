//===- AttentionKernels.cpp - causal attention forward and backward -------===//
//
// Causal scaled-dot-product attention over [batch, seq, heads * head_dim]
// tensors, one warp per (batch, head, row), with the online softmax of flash
// attention: no T x T matrix is ever stored.
//
// * forward: the warp holds its query row spread over the lanes (lane l owns
//   features l, l+32, ...); for each key j <= i it reduces q.k_j with
//   shuffles and updates the running max m, sum l and output accumulator.
// * backward, query side (kernel 1): recomputes the row's m, l and O, stores
//   the log-sum-exp L_i and D_i = dO_i . O_i in a workspace, and accumulates
//   dQ_i = scale * sum_j P_ij (dO_i . v_j - D_i) k_j.
// * backward, key side (kernel 2): one warp per key row j walks the queries
//   i >= j and accumulates dV_j = sum_i P_ij dO_i and
//   dK_j = scale * sum_i P_ij (dO_i . v_j - D_i) q_i.
//
// These kernels run on CUDA cores in fp32; tensor-core (mma.sync / wgmma)
// tiles are the next step for speed, not for correctness.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tele;

namespace {
constexpr int64_t kRowsPerBlock = 4;

struct Geometry {
  int64_t batch, seq, heads, headDim, perLane;
  int64_t rows() const { return batch * heads * seq; }
  std::string name(StringRef stem) const {
    return (stem + "_" + Twine(batch) + "x" + Twine(seq) + "x" + Twine(heads) + "x" +
            Twine(headDim) + "xf32")
        .str();
  }
};

/// Index arithmetic of one warp: its (batch, head, position) row and the
/// features its lane owns.
struct WarpRow {
  Value row, lane, batch, head, pos;
  SmallVector<Value> feature; ///< clamped feature index per owned slot
  SmallVector<Value> valid;   ///< 1.0 if the slot is a real feature, else 0.0

  /// Flat offset of (batch, position t, head) in a [B, T, H*dh] tensor.
  Value offset(ImplicitLocOpBuilder &b, const Geometry &g, Value t) const {
    Value bt = arith::AddIOp::create(b, arith::MulIOp::create(b, batch, idx(b, g.seq)), t);
    Value bth = arith::AddIOp::create(b, arith::MulIOp::create(b, bt, idx(b, g.heads)), head);
    return arith::MulIOp::create(b, bth, idx(b, g.headDim));
  }
  /// Row index (batch, head, t) of the workspaces.
  Value statRow(ImplicitLocOpBuilder &b, const Geometry &g, Value t) const {
    Value bh = arith::AddIOp::create(b, arith::MulIOp::create(b, batch, idx(b, g.heads)), head);
    return arith::AddIOp::create(b, arith::MulIOp::create(b, bh, idx(b, g.seq)), t);
  }
  /// Loads this lane's slots of the head vector at `base`, times `valid`.
  SmallVector<Value> loadSlots(ImplicitLocOpBuilder &b, Value memref, Value base) const {
    SmallVector<Value> out;
    for (auto [f, v] : llvm::zip(feature, valid))
      out.push_back(arith::MulFOp::create(
          b, load(b, memref, arith::AddIOp::create(b, base, f)), v));
    return out;
  }
  void storeSlots(ImplicitLocOpBuilder &b, ArrayRef<Value> values, Value memref,
                  Value base, const Geometry &g) const {
    for (auto [k, v] : llvm::enumerate(values)) {
      Value real = arith::CmpIOp::create(
          b, arith::CmpIPredicate::ult,
          arith::AddIOp::create(b, lane, idx(b, int64_t(k) * kWarp)), idx(b, g.headDim));
      ifThen(b, real, [&](ImplicitLocOpBuilder &b) {
        store(b, v, memref, arith::AddIOp::create(b, base, feature[k]));
      });
    }
  }
};

/// Emits the warp's row decomposition and the `row < rows` guard.
void forEachWarpRow(ImplicitLocOpBuilder &b, const Geometry &g,
                    function_ref<void(ImplicitLocOpBuilder &, const WarpRow &)> body) {
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  WarpRow w;
  w.lane = arith::RemUIOp::create(b, tid, idx(b, kWarp));
  w.row = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            idx(b, kRowsPerBlock)),
      arith::DivUIOp::create(b, tid, idx(b, kWarp)));
  ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, w.row, idx(b, g.rows())),
         [&](ImplicitLocOpBuilder &b) {
           w.pos = arith::RemUIOp::create(b, w.row, idx(b, g.seq));
           Value bh = arith::DivUIOp::create(b, w.row, idx(b, g.seq));
           w.head = arith::RemUIOp::create(b, bh, idx(b, g.heads));
           w.batch = arith::DivUIOp::create(b, bh, idx(b, g.heads));
           for (int64_t k = 0; k < g.perLane; ++k) {
             Value f = arith::AddIOp::create(b, w.lane, idx(b, k * kWarp));
             Value real = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, f,
                                                idx(b, g.headDim));
             w.feature.push_back(arith::MinUIOp::create(b, f, idx(b, g.headDim - 1)));
             w.valid.push_back(arith::SelectOp::create(b, real, f32(b, 1.0), f32(b, 0.0)));
           }
           body(b, w);
         });
}

/// sum over the warp of sum_k a_k * b_k.
Value warpDot(ImplicitLocOpBuilder &b, ArrayRef<Value> a, ArrayRef<Value> c) {
  Value part = f32(b, 0.0);
  for (auto [x, y] : llvm::zip(a, c))
    part = arith::AddFOp::create(b, part, arith::MulFOp::create(b, x, y));
  return warpSum(b, part);
}

SmallVector<Value> scaled(ImplicitLocOpBuilder &b, ArrayRef<Value> v, Value s) {
  SmallVector<Value> out;
  for (Value x : v)
    out.push_back(arith::MulFOp::create(b, x, s));
  return out;
}

/// The online-softmax pass over keys 0..i: returns (m, l, o_0..o_{e-1}) for
/// the query slots `q` (already scaled).
SmallVector<Value> onlineSoftmax(ImplicitLocOpBuilder &b, const Geometry &g,
                                 const WarpRow &w, ArrayRef<Value> q, Value key,
                                 Value value) {
  SmallVector<Value> init{f32(b, -1e30), f32(b, 0.0)};
  for (int64_t k = 0; k < g.perLane; ++k)
    init.push_back(f32(b, 0.0));
  Value end = arith::AddIOp::create(b, w.pos, idx(b, 1));
  return forLoop(
      b, idx(b, 0), end, idx(b, 1), init,
      [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) -> SmallVector<Value> {
        Value base = w.offset(b, g, j);
        Value s = warpDot(b, q, w.loadSlots(b, key, base));
        Value m = arith::MaximumFOp::create(b, acc[0], s);
        Value c = math::ExpOp::create(b, arith::SubFOp::create(b, acc[0], m));
        Value p = math::ExpOp::create(b, arith::SubFOp::create(b, s, m));
        SmallVector<Value> next{m, arith::AddFOp::create(
                                       b, arith::MulFOp::create(b, acc[1], c), p)};
        SmallVector<Value> v = w.loadSlots(b, value, base);
        for (int64_t k = 0; k < g.perLane; ++k)
          next.push_back(arith::AddFOp::create(b, arith::MulFOp::create(b, acc[2 + k], c),
                                               arith::MulFOp::create(b, p, v[k])));
        return next;
      });
}

KernelLaunch warpRowLaunch(gpu::GPUFuncOp fn, const Geometry &g,
                           SmallVector<int64_t> args) {
  return KernelLaunch{fn,
                      {(g.rows() + kRowsPerBlock - 1) / kRowsPerBlock, 1, 1},
                      {kRowsPerBlock * kWarp, 1, 1},
                      std::move(args)};
}
} // namespace

FailureOr<OpKernels> mlir::tele::buildAttentionKernels(Operation *op,
                                                       gpu::GPUModuleOp kernels) {
  Value query;
  int64_t headDim;
  if (auto fwd = dyn_cast<AttentionOp>(op)) {
    query = fwd.getQuery();
    headDim = fwd.getHeadDimAttr().getInt();
  } else if (auto bwd = dyn_cast<AttentionGradOp>(op)) {
    query = bwd.getQuery();
    headDim = bwd.getHeadDimAttr().getInt();
  } else {
    return failure();
  }
  auto ty = cast<RankedTensorType>(query.getType());
  if (!ty.getElementType().isF32())
    return failure();
  Geometry g{ty.getDimSize(0), ty.getDimSize(1), ty.getDimSize(2) / headDim, headDim,
             (headDim + kWarp - 1) / kWarp};
  double scale = 1.0 / std::sqrt(double(headDim));
  MemRefType act = flatMemRef(query);
  MemRefType stat = flatMemRef(ty.getElementType(), g.rows());
  Location loc = op->getLoc();

  if (isa<AttentionOp>(op)) {
    auto fn = getOrCreateKernel(
        kernels, g.name("attention"), {act, act, act, act}, loc,
        [&](ImplicitLocOpBuilder &b, ValueRange args) {
          forEachWarpRow(b, g, [&](ImplicitLocOpBuilder &b, const WarpRow &w) {
            Value base = w.offset(b, g, w.pos);
            auto q = scaled(b, w.loadSlots(b, args[0], base), f32(b, scale));
            auto acc = onlineSoftmax(b, g, w, q, args[1], args[2]);
            Value inv = arith::DivFOp::create(b, f32(b, 1.0), acc[1]);
            w.storeSlots(b, scaled(b, ArrayRef<Value>(acc).drop_front(2), inv), args[3],
                         base, g);
          });
        });
    return OpKernels{{warpRowLaunch(fn, g, {})}, {}, {}};
  }

  // Operands q 0, k 1, v 2, dO 3; results dq 4, dk 5, dv 6; workspaces L 7, D 8.
  auto queryKernel = getOrCreateKernel(
      kernels, g.name("attention_grad_query"), {act, act, act, act, act, stat, stat}, loc,
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value qm = args[0], km = args[1], vm = args[2], dom = args[3], dqm = args[4];
        forEachWarpRow(b, g, [&](ImplicitLocOpBuilder &b, const WarpRow &w) {
          Value base = w.offset(b, g, w.pos);
          auto q = scaled(b, w.loadSlots(b, qm, base), f32(b, scale));
          auto acc = onlineSoftmax(b, g, w, q, km, vm);
          Value inv = arith::DivFOp::create(b, f32(b, 1.0), acc[1]);
          auto o = scaled(b, ArrayRef<Value>(acc).drop_front(2), inv);
          auto dO = w.loadSlots(b, dom, base);
          Value lse = arith::AddFOp::create(b, acc[0], math::LogOp::create(b, acc[1]));
          Value dsum = warpDot(b, dO, o);
          ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, w.lane, idx(b, 0)),
                 [&](ImplicitLocOpBuilder &b) {
                   store(b, lse, args[5], w.row);
                   store(b, dsum, args[6], w.row);
                 });
          SmallVector<Value> init(g.perLane, f32(b, 0.0));
          auto dq = forLoop(
              b, idx(b, 0), arith::AddIOp::create(b, w.pos, idx(b, 1)), idx(b, 1), init,
              [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) -> SmallVector<Value> {
                Value kb = w.offset(b, g, j);
                auto k = w.loadSlots(b, km, kb);
                Value p = math::ExpOp::create(
                    b, arith::SubFOp::create(b, warpDot(b, q, k), lse));
                Value dp = warpDot(b, dO, w.loadSlots(b, vm, kb));
                Value ds = arith::MulFOp::create(b, p, arith::SubFOp::create(b, dp, dsum));
                SmallVector<Value> next;
                for (int64_t s = 0; s < g.perLane; ++s)
                  next.push_back(arith::AddFOp::create(
                      b, acc[s], arith::MulFOp::create(b, ds, k[s])));
                return next;
              });
          w.storeSlots(b, scaled(b, dq, f32(b, scale)), dqm, base, g);
        });
      });

  auto keyKernel = getOrCreateKernel(
      kernels, g.name("attention_grad_key"), {act, act, act, act, stat, stat, act, act},
      loc, [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value qm = args[0], km = args[1], vm = args[2], dom = args[3];
        Value lsem = args[4], dsumm = args[5], dkm = args[6], dvm = args[7];
        forEachWarpRow(b, g, [&](ImplicitLocOpBuilder &b, const WarpRow &w) {
          Value base = w.offset(b, g, w.pos);
          auto k = scaled(b, w.loadSlots(b, km, base), f32(b, scale));
          auto v = w.loadSlots(b, vm, base);
          SmallVector<Value> init(2 * g.perLane, f32(b, 0.0));
          auto acc = forLoop(
              b, w.pos, idx(b, g.seq), idx(b, 1), init,
              [&](ImplicitLocOpBuilder &b, Value i, ValueRange acc) -> SmallVector<Value> {
                Value qb = w.offset(b, g, i);
                Value r = w.statRow(b, g, i);
                auto q = w.loadSlots(b, qm, qb);
                auto dO = w.loadSlots(b, dom, qb);
                Value p = math::ExpOp::create(
                    b, arith::SubFOp::create(b, warpDot(b, q, k), load(b, lsem, r)));
                Value dp = warpDot(b, dO, v);
                Value ds = arith::MulFOp::create(
                    b, p, arith::SubFOp::create(b, dp, load(b, dsumm, r)));
                SmallVector<Value> next;
                for (int64_t s = 0; s < g.perLane; ++s)
                  next.push_back(arith::AddFOp::create(
                      b, acc[s], arith::MulFOp::create(b, ds, q[s])));
                for (int64_t s = 0; s < g.perLane; ++s)
                  next.push_back(arith::AddFOp::create(
                      b, acc[g.perLane + s], arith::MulFOp::create(b, p, dO[s])));
                return next;
              });
          ArrayRef<Value> all(acc);
          w.storeSlots(b, scaled(b, all.take_front(g.perLane), f32(b, scale)), dkm, base, g);
          w.storeSlots(b, all.drop_front(g.perLane), dvm, base, g);
        });
      });
  int64_t statBytes = g.rows() * 4;
  return OpKernels{{warpRowLaunch(queryKernel, g, {0, 1, 2, 3, 4, 7, 8}),
                    warpRowLaunch(keyKernel, g, {0, 1, 2, 3, 7, 8, 5, 6})},
                   {statBytes, statBytes},
                   {}};
}
