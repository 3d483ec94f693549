//===- EmbedKernels.cpp - embedding gather and scatter-add kernels --------===//
//
// tele.embed gathers table rows: each thread copies `vec` consecutive
// features of one token (128-bit loads when the width allows). tele.embed_grad
// adds each token's gradient row into its table row with atomics, into a
// result the runtime zeroes first; repeated tokens make the summation order
// vary between runs (fp32 round-off only).
//
// Token ids are clamped into the table: the trainer checks them on the host,
// and a bad id must not become an out-of-bounds access on the device.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
/// The table row of the token at `position`, clamped to [0, vocab).
Value tokenRow(ImplicitLocOpBuilder &b, Value tokens, Value position,
               int64_t vocab) {
  Value t = load(b, tokens, position);
  Value lo = arith::ConstantIntOp::create(b, b.getI32Type(), 0);
  Value hi = arith::ConstantIntOp::create(b, b.getI32Type(), vocab - 1);
  t = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, t, lo), hi);
  return arith::IndexCastOp::create(b, b.getIndexType(), t);
}

/// The table element that element `i` of a [tokens..., d] activation maps
/// to: (token of row i / d) * d + i mod d.
Value tableIndex(ImplicitLocOpBuilder &b, Value tokens, Value i, int64_t d, int64_t vocab) {
  Value row = arith::DivUIOp::create(b, i, idx(b, d));
  Value col = arith::RemUIOp::create(b, i, idx(b, d));
  return arith::AddIOp::create(
      b, arith::MulIOp::create(b, tokenRow(b, tokens, row, vocab), idx(b, d)), col);
}
} // namespace

FailureOr<OpKernels> mlir::tele::buildEmbedKernels(Operation *op,
                                                   gpu::GPUModuleOp kernels) {
  if (auto embed = dyn_cast<EmbedOp>(op)) {
    auto table = embed.getTable().getType();
    if (!table.getElementType().isF32())
      return failure();
    int64_t vocab = table.getDimSize(0), d = table.getDimSize(1);
    int64_t n = embed.getType().getNumElements();
    int64_t vec = d % 4 == 0 ? 4 : 1;
    std::string name = ("embed_" + Twine(n / d) + "x" + Twine(vocab) + "x" +
                        Twine(d) + "xf32").str();
    auto fn = getOrCreateKernel(
        kernels, name,
        {flatMemRef(embed.getTable()), flatMemRef(embed.getTokens()),
         flatMemRef(embed.getResult())},
        op->getLoc(), [&](ImplicitLocOpBuilder &b, ValueRange args) {
          auto vt = VectorType::get({vec}, b.getF32Type());
          llvm::MaybeAlign align(vec * 4);
          Value base = beginChunk(b, n, vec);
          Value src = tableIndex(b, args[1], base, d, vocab);
          Value v = vector::LoadOp::create(b, vt, args[0], ValueRange{src}, false, align);
          vector::StoreOp::create(b, v, args[2], ValueRange{base}, false, align);
        });
    return OpKernels{{chunkedLaunch(fn, n, vec)}, {}, {}};
  }
  if (auto grad = dyn_cast<EmbedGradOp>(op)) {
    auto table = grad.getType();
    if (!table.getElementType().isF32())
      return failure();
    int64_t vocab = table.getDimSize(0), d = table.getDimSize(1);
    int64_t n = grad.getGrad().getType().getNumElements();
    std::string name = ("embed_grad_" + Twine(n / d) + "x" + Twine(vocab) + "x" +
                        Twine(d) + "xf32").str();
    auto fn = getOrCreateKernel(
        kernels, name,
        {flatMemRef(grad.getGrad()), flatMemRef(grad.getTokens()),
         flatMemRef(grad.getResult())},
        op->getLoc(), [&](ImplicitLocOpBuilder &b, ValueRange args) {
          Value i = beginChunk(b, n, 1);
          Value dst = tableIndex(b, args[1], i, d, vocab);
          atomicAdd(b, load(b, args[0], i), args[2], dst);
        });
    return OpKernels{{chunkedLaunch(fn, n, 1)}, {}, {/*result=*/2}};
  }
  return failure();
}
