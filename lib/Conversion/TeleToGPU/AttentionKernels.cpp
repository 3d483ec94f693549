//===- AttentionKernels.cpp - causal attention forward and backward -------===//
//
// Causal scaled-dot-product attention over [batch, seq, heads * head_dim]
// tensors with the online softmax of flash attention: no T x T matrix is
// ever stored. A block owns a tile of 64 rows of one (batch, head); each row
// is held by `split` adjacent threads (head_dim / split features each, as
// one vector in registers). Key (or query) tiles are staged in shared
// memory with 128-bit loads and read back as broadcasts, so each global
// element is read once per block instead of once per row.
//
// * forward: per staged tile of keys, the scores s_j = q.k_j (j <= i),
//   one rescale of the running max m, sum l and output accumulator o by the
//   tile's maximum, then o += exp(s_j - m) v_j (online softmax).
// * backward, query side: recomputes m, l and O, stores the log-sum-exp L_i
//   and D_i = dO_i . O_i in workspaces, and accumulates
//   dQ_i = scale * sum_j P_ij (dO_i . v_j - D_i) k_j.
// * backward, key side: a block owns 64 key rows and walks the query tiles
//   from its own on: dV_j = sum_i P_ij dO_i, dK_j = scale * sum_i dS_ij q_i.
//
// Loops over a tile run the same trip count in every thread (positions past
// the causal limit are masked, not skipped), so the warp shuffles that join
// a row's split and the block barriers stay uniform. These kernels run on
// CUDA cores in fp32: they serve the unfused ops (evaluation programs) and
// head sizes the tensor-core kernels (TensorCoreAttention.cpp, bf16
// mma.sync) do not take.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Rows (queries, or keys for the key-side kernel) per block.
constexpr int64_t kRowsPerBlock = 64;
/// Keys (or queries) staged in shared memory at a time.
constexpr int64_t kStageRows = 32;
/// Keys (or queries) whose scores a thread computes before using them, so
/// that their reductions and shuffles overlap.
constexpr int64_t kUnroll = 4;
/// Features one thread holds at most: with four such vectors live (the
/// key-side kernel) a thread stays within 255 registers.
constexpr int64_t kMaxPart = 32;

struct Geometry {
  int64_t batch, seq, heads, headDim;
  int64_t split, part; ///< threads per row, features per thread
  int64_t rows() const { return batch * heads * seq; }
  int64_t threads() const { return kRowsPerBlock * split; }
  std::string name(StringRef stem) const {
    return (stem + "_" + Twine(batch) + "x" + Twine(seq) + "x" + Twine(heads) + "x" +
            Twine(headDim) + "xf32")
        .str();
  }
};

/// Index arithmetic of one thread: its (batch, head) from the block, its
/// row in the tile and its slice of the features.
struct ThreadRow {
  Value tid, batch, head, row, pos, posClamped, sub, featureBase;
};

struct TileBuilder {
  ImplicitLocOpBuilder &b;
  const Geometry &g;
  VectorType vt;

  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value c(int64_t v) { return idx(b, v); }

  /// Flat offset of (batch, position t, head) in a [B, T, H*dh] tensor.
  Value offset(const ThreadRow &r, Value t) {
    return mul(add(mul(add(mul(r.batch, c(g.seq)), t), c(g.heads)), r.head), c(g.headDim));
  }
  Value statRow(const ThreadRow &r, Value t) {
    return add(mul(add(mul(r.batch, c(g.heads)), r.head), c(g.seq)), t);
  }
  /// This thread's slice of a head vector that starts `at - featureBase`:
  /// chunks of 4 features, interleaved with the row's other threads (thread
  /// `sub` owns chunks sub, sub + split, ...), so the threads of a row read
  /// neighbouring 16-byte words of shared memory (no bank conflicts) and
  /// global memory in full 128-bit accesses.
  Value loadVec(Value memref, Value at) {
    auto v4 = VectorType::get({4}, vt.getElementType());
    Value out;
    for (int64_t chunk = 0; chunk < g.part / 4; ++chunk) {
      Value v = loadChunk(b, v4, memref, add(at, c(chunk * 4 * g.split)));
      if (!out) {
        out = v;
        continue;
      }
      // Concatenate (vector.shuffle lowers to one LLVM shufflevector).
      SmallVector<int64_t> mask;
      for (int64_t i = 0; i < (chunk + 1) * 4; ++i)
        mask.push_back(i);
      out = vector::ShuffleOp::create(b, out, v, mask);
    }
    return out;
  }
  void storeVec(Value v, Value memref, Value at) {
    for (int64_t chunk = 0; chunk < g.part / 4; ++chunk) {
      SmallVector<int64_t> mask;
      for (int64_t i = 0; i < 4; ++i)
        mask.push_back(chunk * 4 + i);
      Value part = g.part == 4 ? v : Value(vector::ShuffleOp::create(b, v, v, mask));
      storeChunk(b, part, memref, add(at, c(chunk * 4 * g.split)));
    }
  }
  Value splat(Value s) { return vector::BroadcastOp::create(b, vt, s); }
  Value scale(Value v, Value s) { return arith::MulFOp::create(b, v, splat(s)); }
  Value fma(Value a, Value x, Value y) { // a * x + y, a scalar
    return vector::FMAOp::create(b, splat(a), x, y);
  }
  /// x . y over the whole row: this thread's slice as four independent FMA
  /// chains (one per lane of a 4-vector), then its split partners.
  Value rowDot(Value x, Value y) {
    auto v4 = VectorType::get({4}, vt.getElementType());
    Value acc = splatFloat(b, v4, 0.0);
    for (int64_t chunk = 0; chunk < g.part / 4; ++chunk) {
      SmallVector<int64_t> mask{chunk * 4, chunk * 4 + 1, chunk * 4 + 2, chunk * 4 + 3};
      Value xs = g.part == 4 ? x : Value(vector::ShuffleOp::create(b, x, x, mask));
      Value ys = g.part == 4 ? y : Value(vector::ShuffleOp::create(b, y, y, mask));
      acc = vector::FMAOp::create(b, xs, ys, acc);
    }
    Value s = vector::ReductionOp::create(b, vector::CombiningKind::ADD, acc);
    return warpSum(b, s, int32_t(g.split));
  }
  Value select(Value cond, Value x, Value y) { return arith::SelectOp::create(b, cond, x, y); }
  Value lt(Value x, Value y) { return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y); }
  Value le(Value x, Value y) { return arith::CmpIOp::create(b, arith::CmpIPredicate::ule, x, y); }
  Value exp(Value x) { return math::ExpOp::create(b, x); }

  ThreadRow threadRow() {
    ThreadRow r;
    r.tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
    Value tile = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    Value bh = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    r.batch = arith::DivUIOp::create(b, bh, c(g.heads));
    r.head = arith::RemUIOp::create(b, bh, c(g.heads));
    r.row = arith::DivUIOp::create(b, r.tid, c(g.split));
    r.sub = arith::RemUIOp::create(b, r.tid, c(g.split));
    r.pos = add(mul(tile, c(kRowsPerBlock)), r.row);
    r.posClamped = arith::MinUIOp::create(b, r.pos, c(g.seq - 1));
    r.featureBase = mul(r.sub, c(4));
    return r;
  }

  /// Copies rows [first, first + kStageRows) of each of `sources` (clamped
  /// to the sequence; f32, or bf16 copies widened) into the matching f32
  /// shared buffers, 4 elements per load.
  void stage(const ThreadRow &r, Value first, ArrayRef<std::pair<Value, Value>> sources) {
    gpu::BarrierOp::create(b);
    int64_t chunks = kStageRows * g.headDim / 4;
    forLoop(b, r.tid, c(chunks), c(g.threads()), {},
            [&](ImplicitLocOpBuilder &, Value e, ValueRange) -> SmallVector<Value> {
              Value at = mul(e, c(4));
              Value t = arith::MinUIOp::create(
                  b, add(first, arith::DivUIOp::create(b, at, c(g.headDim))), c(g.seq - 1));
              Value from = add(offset(r, t), arith::RemUIOp::create(b, at, c(g.headDim)));
              auto v4 = VectorType::get({4}, b.getF32Type());
              for (auto [global, shared] : sources) {
                Value v = loadChunk(b, v4, global, from);
                vector::StoreOp::create(b, v, shared, ValueRange{at}, false, llvm::MaybeAlign(16));
              }
              return {};
            });
  }
};

/// The online-softmax pass of query row r over keys 0..min(T, tile end):
/// returns (m, l, o) for the scaled query slice `q`.
SmallVector<Value> onlineSoftmax(TileBuilder &k, const ThreadRow &r, Value q, Value key,
                                 Value value, Value sharedK, Value sharedV, Value keyEnd) {
  ImplicitLocOpBuilder &b = k.b;
  Value zero = splatFloat(b, k.vt, 0.0);
  Value negInf = f32(b, -std::numeric_limits<double>::infinity());
  return forLoop(
      b, k.c(0), keyEnd, k.c(kStageRows), {f32(b, -1e30), f32(b, 0.0), zero},
      [&](ImplicitLocOpBuilder &, Value kt, ValueRange acc) -> SmallVector<Value> {
        k.stage(r, kt, {{key, sharedK}, {value, sharedV}});
        gpu::BarrierOp::create(b);
        // Flash-attention style: the scores of the whole staged tile, one
        // rescale of the running state by the tile's maximum, then the
        // weighted values (one exp per key).
        SmallVector<Value> scores;
        Value tileMax = negInf;
        for (int64_t jj = 0; jj < kStageRows; ++jj) {
          Value at = k.add(k.c(jj * k.g.headDim), r.featureBase);
          Value s = k.rowDot(q, k.loadVec(sharedK, at));
          s = k.select(k.le(k.add(kt, k.c(jj)), r.posClamped), s, negInf);
          scores.push_back(s);
          tileMax = arith::MaximumFOp::create(b, tileMax, s);
        }
        Value m = arith::MaximumFOp::create(b, acc[0], tileMax);
        Value corr = k.exp(arith::SubFOp::create(b, acc[0], m));
        Value l = arith::MulFOp::create(b, acc[1], corr);
        Value o = k.scale(acc[2], corr);
        for (int64_t jj = 0; jj < kStageRows; ++jj) {
          Value p = k.exp(arith::SubFOp::create(b, scores[jj], m));
          l = arith::AddFOp::create(b, l, p);
          o = k.fma(p, k.loadVec(sharedV, k.add(k.c(jj * k.g.headDim), r.featureBase)), o);
        }
        return {m, l, o};
      });
}
/// The forward pass of one query row, shared by the forward kernel and the
/// query-side backward kernel: where the row lives, its scaled query slice
/// and the online-softmax state (m, l, o) over keys [0, keyEnd).
struct ForwardRow {
  ThreadRow r;
  Value at, q;
  SmallVector<Value> acc;
};

ForwardRow forwardRow(TileBuilder &k, ValueRange args, double scale, Value keyEnd) {
  ImplicitLocOpBuilder &b = k.b;
  Value sharedK = addWorkgroupBuffer(b, kStageRows * k.g.headDim);
  Value sharedV = addWorkgroupBuffer(b, kStageRows * k.g.headDim);
  ForwardRow f;
  f.r = k.threadRow();
  f.at = k.add(k.offset(f.r, f.r.posClamped), f.r.featureBase);
  f.q = k.scale(k.loadVec(args[0], f.at), f32(b, scale));
  f.acc = onlineSoftmax(k, f.r, f.q, args[1], args[2], sharedK, sharedV, keyEnd);
  return f;
}
} // namespace

FailureOr<OpKernels> mlir::tele::buildAttentionKernels(Operation *op,
                                                       gpu::GPUModuleOp kernels) {
  if (!isa<AttentionOp, AttentionGradOp, FlashAttentionOp, FlashAttentionGradOp>(op))
    return failure();
  // Every attention op has the query first and a head_dim attribute.
  Value query = op->getOperand(0);
  int64_t headDim = op->getAttrOfType<IntegerAttr>("head_dim").getInt();
  bool forward = isa<AttentionOp, FlashAttentionOp>(op);
  bool flash = isa<FlashAttentionOp, FlashAttentionGradOp>(op);
  auto ty = cast<RankedTensorType>(query.getType());
  int64_t split = 1;
  while (headDim / split > kMaxPart)
    split *= 2;
  // Computes in f32 (the flash pair's lse type); the flash pair's inputs
  // and output may be bf16 copies, read widened and stored rounded.
  Value stats = !flash ? query : forward ? op->getResult(1) : op->getOperand(4);
  Type compute = getElementTypeOrSelf(stats.getType());
  if (!compute.isF32() || headDim % split || (headDim / split) % 4 || split > kWarp)
    return failure();
  Geometry g{ty.getDimSize(0), ty.getDimSize(1), ty.getDimSize(2) / headDim, headDim,
             split,         headDim / split};
  double scaleValue = 1.0 / std::sqrt(double(headDim));
  auto mem = [](Value v) -> Type { return flatMemRef(v); };
  MemRefType stat = flatMemRef(compute, g.rows());
  std::string sig = bf16Signature(op);
  Location loc = op->getLoc();
  int64_t tiles = (g.seq + kRowsPerBlock - 1) / kRowsPerBlock;
  auto launch = [&](gpu::GPUFuncOp fn, SmallVector<int64_t> args) {
    return KernelLaunch{fn, {tiles, g.batch * g.heads, 1}, {g.threads(), 1, 1}, std::move(args)};
  };
  auto vt = VectorType::get({g.part}, compute);
  // Keys a query tile attends to: up to its last row.
  auto keyEndOf = [&](TileBuilder &k) {
    Value tile = gpu::BlockIdOp::create(k.b, gpu::Dimension::x);
    return arith::MinUIOp::create(k.b, k.mul(k.add(tile, k.c(1)), k.c(kRowsPerBlock)),
                                  k.c(g.seq));
  };

  if (forward) {
    // attention: q 0, k 1, v 2 -> out 3; flash_attention also -> lse 4.
    SmallVector<Type> args{mem(op->getOperand(0)), mem(op->getOperand(1)),
                           mem(op->getOperand(2)), mem(op->getResult(0))};
    if (flash)
      args.push_back(stat);
    auto fn = getOrCreateKernel(
        kernels, g.name(flash ? "flash_attention" : "attention") + sig, args, loc,
        [&](ImplicitLocOpBuilder &b, ValueRange args) {
          TileBuilder k{b, g, vt};
          ForwardRow f = forwardRow(k, args, scaleValue, keyEndOf(k));
          Value out = k.scale(f.acc[2], arith::DivFOp::create(b, f32(b, 1.0), f.acc[1]));
          Value inRange = k.lt(f.r.pos, k.c(g.seq));
          ifThen(b, inRange, [&](ImplicitLocOpBuilder &) { k.storeVec(out, args[3], f.at); });
          if (flash) {
            Value lse = arith::AddFOp::create(b, f.acc[0], math::LogOp::create(b, f.acc[1]));
            Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, f.r.sub, k.c(0));
            ifThen(b, arith::AndIOp::create(b, inRange, first), [&](ImplicitLocOpBuilder &) {
              store(b, lse, args[4], k.statRow(f.r, f.r.pos));
            });
          }
        });
    return OpKernels{{launch(fn, {})}, {}, {}};
  }

  /// dQ_i = scale * sum_j P_ij (dO_i . v_j - D_i) k_j over the staged keys.
  auto dqPass = [&](TileBuilder &k, const ThreadRow &r, Value q, Value dO, Value lse,
                    Value dsum, Value keyMem, Value valueMem, Value sharedK, Value sharedV,
                    Value keyEnd) -> Value {
    ImplicitLocOpBuilder &b = k.b;
    auto dq = forLoop(
        b, k.c(0), keyEnd, k.c(kStageRows), {splatFloat(b, vt, 0.0)},
        [&](ImplicitLocOpBuilder &, Value kt, ValueRange acc) -> SmallVector<Value> {
          k.stage(r, kt, {{keyMem, sharedK}, {valueMem, sharedV}});
          gpu::BarrierOp::create(b);
          return forLoop(
              b, k.c(0), k.c(kStageRows), k.c(kUnroll), acc,
              [&](ImplicitLocOpBuilder &, Value j0, ValueRange acc) -> SmallVector<Value> {
                // Unrolled: the accumulation does not feed the next key's
                // reductions, so their shuffles overlap.
                Value dq = acc[0];
                for (int64_t u = 0; u < kUnroll; ++u) {
                  Value jj = k.add(j0, k.c(u));
                  Value sat = k.add(k.mul(jj, k.c(g.headDim)), r.featureBase);
                  Value kv = k.loadVec(sharedK, sat);
                  Value p = k.exp(arith::SubFOp::create(b, k.rowDot(q, kv), lse));
                  p = k.select(k.le(k.add(kt, jj), r.posClamped), p, f32(b, 0.0));
                  Value dp = k.rowDot(dO, k.loadVec(sharedV, sat));
                  dq = k.fma(arith::MulFOp::create(b, p, arith::SubFOp::create(b, dp, dsum)),
                             kv, dq);
                }
                return {dq};
              });
        });
    return dq[0];
  };

  // attention_grad: operands q 0, k 1, v 2, dO 3; results dq 4, dk 5, dv 6;
  // workspaces L 7, D 8 (the query kernel recomputes the forward for L).
  // flash_attention_grad: operands q 0, k 1, v 2, out 3, lse 4, dO 5;
  // results dq 6, dk 7, dv 8; workspace D 9.
  gpu::GPUFuncOp queryKernel;
  if (!flash) {
    queryKernel = getOrCreateKernel(
        kernels, g.name("attention_grad_query"),
        {mem(op->getOperand(0)), mem(op->getOperand(1)), mem(op->getOperand(2)),
         mem(op->getOperand(3)), mem(op->getResult(0)), stat, stat},
        loc,
        [&](ImplicitLocOpBuilder &b, ValueRange args) {
          TileBuilder k{b, g, vt};
          Value keyEnd = keyEndOf(k);
          ForwardRow f = forwardRow(k, args, scaleValue, keyEnd);
          // The staging buffers of the forward pass, reused for the dQ pass.
          auto workgroup = b.getInsertionBlock()
                               ->getParent()
                               ->getParentOfType<gpu::GPUFuncOp>()
                               .getWorkgroupAttributions();
          Value o = k.scale(f.acc[2], arith::DivFOp::create(b, f32(b, 1.0), f.acc[1]));
          Value dO = k.loadVec(args[3], f.at);
          Value lse = arith::AddFOp::create(b, f.acc[0], math::LogOp::create(b, f.acc[1]));
          Value dsum = k.rowDot(dO, o);
          Value inRange = k.lt(f.r.pos, k.c(g.seq));
          Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, f.r.sub, k.c(0));
          ifThen(b, arith::AndIOp::create(b, inRange, first), [&](ImplicitLocOpBuilder &) {
            store(b, lse, args[5], k.statRow(f.r, f.r.pos));
            store(b, dsum, args[6], k.statRow(f.r, f.r.pos));
          });
          Value dq = dqPass(k, f.r, f.q, dO, lse, dsum, args[1], args[2], workgroup[0],
                            workgroup[1], keyEnd);
          ifThen(b, inRange, [&](ImplicitLocOpBuilder &) {
            k.storeVec(k.scale(dq, f32(b, scaleValue)), args[4], f.at);
          });
        });
  } else {
    queryKernel = getOrCreateKernel(
        kernels, g.name("flash_attention_grad_query") + sig,
        {mem(op->getOperand(0)), mem(op->getOperand(1)), mem(op->getOperand(2)),
         mem(op->getOperand(3)), stat, mem(op->getOperand(5)), mem(op->getResult(0)), stat},
        loc, [&](ImplicitLocOpBuilder &b, ValueRange args) {
          TileBuilder k{b, g, vt};
          Value sharedK = addWorkgroupBuffer(b, kStageRows * g.headDim);
          Value sharedV = addWorkgroupBuffer(b, kStageRows * g.headDim);
          ThreadRow r = k.threadRow();
          Value at = k.add(k.offset(r, r.posClamped), r.featureBase);
          Value q = k.scale(k.loadVec(args[0], at), f32(b, scaleValue));
          Value lse = load(b, args[4], k.statRow(r, r.posClamped));
          Value dO = k.loadVec(args[5], at);
          Value dsum = k.rowDot(dO, k.loadVec(args[3], at));
          Value inRange = k.lt(r.pos, k.c(g.seq));
          Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, r.sub, k.c(0));
          ifThen(b, arith::AndIOp::create(b, inRange, first), [&](ImplicitLocOpBuilder &) {
            store(b, dsum, args[7], k.statRow(r, r.pos));
          });
          Value dq = dqPass(k, r, q, dO, lse, dsum, args[1], args[2], sharedK, sharedV,
                            keyEndOf(k));
          ifThen(b, inRange, [&](ImplicitLocOpBuilder &) {
            k.storeVec(k.scale(dq, f32(b, scaleValue)), args[6], at);
          });
        });
  }

  auto keyKernel = getOrCreateKernel(
      kernels, g.name("attention_grad_key") + sig,
      {mem(op->getOperand(0)), mem(op->getOperand(1)), mem(op->getOperand(2)),
       mem(op->getOperand(flash ? 5 : 3)), stat, stat, mem(op->getResult(1)),
       mem(op->getResult(2))},
      loc,
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        TileBuilder k{b, g, vt};
        Value sharedQ = addWorkgroupBuffer(b, kStageRows * g.headDim);
        Value sharedDO = addWorkgroupBuffer(b, kStageRows * g.headDim);
        Value sharedL = addWorkgroupBuffer(b, kStageRows);
        Value sharedD = addWorkgroupBuffer(b, kStageRows);
        ThreadRow r = k.threadRow(); // rows are keys here
        Value at = k.add(k.offset(r, r.posClamped), r.featureBase);
        Value kv = k.scale(k.loadVec(args[1], at), f32(b, scaleValue));
        Value vv = k.loadVec(args[2], at);
        Value tile = gpu::BlockIdOp::create(b, gpu::Dimension::x);
        Value zero = splatFloat(b, vt, 0.0);
        auto acc = forLoop(
            b, k.mul(tile, k.c(kRowsPerBlock)), k.c(g.seq), k.c(kStageRows), {zero, zero},
            [&](ImplicitLocOpBuilder &, Value qt, ValueRange acc) -> SmallVector<Value> {
              k.stage(r, qt, {{args[0], sharedQ}, {args[3], sharedDO}});
              ifThen(b, k.lt(r.tid, k.c(kStageRows)), [&](ImplicitLocOpBuilder &) {
                Value i = arith::MinUIOp::create(b, k.add(qt, r.tid), k.c(g.seq - 1));
                store(b, load(b, args[4], k.statRow(r, i)), sharedL, r.tid);
                store(b, load(b, args[5], k.statRow(r, i)), sharedD, r.tid);
              });
              gpu::BarrierOp::create(b);
              return forLoop(
                  b, k.c(0), k.c(kStageRows), k.c(kUnroll), acc,
                  [&](ImplicitLocOpBuilder &, Value i0, ValueRange acc) -> SmallVector<Value> {
                    Value dk = acc[0], dv = acc[1];
                    for (int64_t u = 0; u < kUnroll; ++u) {
                      Value ii = k.add(i0, k.c(u));
                      Value i = k.add(qt, ii);
                      Value sat = k.add(k.mul(ii, k.c(g.headDim)), r.featureBase);
                      Value qv = k.loadVec(sharedQ, sat);
                      Value dov = k.loadVec(sharedDO, sat);
                      Value p = k.exp(arith::SubFOp::create(b, k.rowDot(qv, kv),
                                                            load(b, sharedL, ii)));
                      Value allowed = arith::AndIOp::create(b, k.le(r.posClamped, i),
                                                            k.lt(i, k.c(g.seq)));
                      p = k.select(allowed, p, f32(b, 0.0));
                      Value dp = k.rowDot(dov, vv);
                      Value ds = arith::MulFOp::create(
                          b, p, arith::SubFOp::create(b, dp, load(b, sharedD, ii)));
                      dk = k.fma(ds, qv, dk);
                      dv = k.fma(p, dov, dv);
                    }
                    return {dk, dv};
                  });
            });
        ifThen(b, k.lt(r.pos, k.c(g.seq)), [&](ImplicitLocOpBuilder &) {
          k.storeVec(k.scale(acc[0], f32(b, scaleValue)), args[6], at);
          k.storeVec(acc[1], args[7], at);
        });
      });
  int64_t statBytes = g.rows() * 4;
  if (flash)
    return OpKernels{{launch(queryKernel, {0, 1, 2, 3, 4, 5, 6, 9}),
                      launch(keyKernel, {0, 1, 2, 5, 4, 9, 7, 8})},
                     {statBytes},
                     {}};
  return OpKernels{{launch(queryKernel, {0, 1, 2, 3, 4, 7, 8}),
                    launch(keyKernel, {0, 1, 2, 3, 7, 8, 5, 6})},
                   {statBytes, statBytes},
                   {}};
}
