//===- Bf16Gemms.cpp - tele-bf16-gemms pass -------------------------------===//
//
// This file implements tele-bf16-gemms: the GEMMs of a step (tele.linear and
// its two gradients) read bf16 operands, made by a tele.convert right before
// them, and write f32 (cuBLASLt accumulates in fp32) unless their result is
// narrowed (below). Tensor cores run bf16 at twice the rate of fp32 inputs,
// and the GEMM reads half the bytes.
//
// Flash attention is treated alike: its kernels multiply on the tensor
// cores and round query, key and value (and, backward, the output and its
// gradient) to bf16 anyway, so they may as well read bf16 copies.
//
// A conversion is shared by the GEMMs that read the same value within
// `reuse-window` ops of its previous use: the q/k/v projections of one
// normalized input, or the input- and weight-gradient GEMMs of one incoming
// gradient. Further apart (a weight in the forward and again in the
// backward, an activation saved for its weight gradient) the value is
// converted again, so that no bf16 copy of an activation stays live from the
// forward to the backward: that would add half of the saved activations to
// the peak. Weights (tele.param results, or function arguments) are
// converted once per step with keep-weight-copies: their copies cost two
// bytes a parameter, far less than the activations, and save a conversion
// launch per weight.
//
// Where every reader of a value is such a conversion (or an op that may
// read a bf16 copy: SwiGLU and its gradient, RoPE, the fused loss's
// logits, the RMSNorm backward's output gradients, AdamW's gradient and the
// global norm's inputs) and its producer can store bf16 itself (RMSNorm,
// RoPE, SwiGLU and its gradient, flash attention's output, the fused
// cross-entropy's logit gradient and GEMMs without an addend compute in f32
// and may round at the store), the producer's result becomes bf16 and the
// conversions
// go: the normalized inputs of the projections, the rotated queries and
// keys and the projections they come from, the values, the attention
// output and its gradient, the SwiGLU product, its inputs and their
// gradients, the q/k gradients, and the logits and their gradient then
// live in bf16, which
// halves their memory (most are saved for the backward; the logits are
// the largest tensors of a small model) and saves the conversions'
// traffic. The weight gradients then live in bf16 too, as in PyTorch's
// autocast (the gradient of a bf16 weight copy), which halves what AdamW
// and the global norm read.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"

#include "llvm/ADT/SetVector.h"

#define DEBUG_TYPE "tele-bf16-gemms"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEBF16GEMMS
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
bool isF32(Value v) { return getElementTypeOrSelf(v.getType()).isF32(); }

/// The operands an f32 op feeds to the tensor cores: the two multiplied
/// operands of a GEMM (not its f32 addend, which its epilogue reads), and
/// the query, key and value of flash attention, plus the output and its
/// gradient in the backward. Empty for other ops.
SmallVector<OpOperand *> matmulOperands(Operation *op) {
  SmallVector<OpOperand *> out;
  auto pick = [&](ArrayRef<unsigned> indices) {
    for (unsigned i : indices)
      out.push_back(&op->getOpOperand(i));
  };
  if (isa<LinearOp, LinearGradInputOp, LinearGradWeightOp>(op) &&
      llvm::all_of(op->getOperands(), isF32) && isF32(op->getResult(0)))
    pick({0, 1});
  else if (auto fwd = dyn_cast<FlashAttentionOp>(op); fwd && isF32(fwd.getLse()))
    pick({0, 1, 2});
  else if (auto grad = dyn_cast<FlashAttentionGradOp>(op); grad && isF32(grad.getLse()))
    pick({0, 1, 2, 3, 5});
  llvm::erase_if(out, [](OpOperand *o) { return !isF32(o->get()); });
  return out;
}

/// Ops whose kernels compute in f32 and may store `result` as bf16: the
/// row-wise and elementwise producers, flash attention's output and its
/// gradients (the three together, see tiedResults), the fused
/// cross-entropy's logit gradient (only GEMMs read it), and GEMMs
/// on bf16 operands without an addend (cuBLASLt rounds D; an addend C would
/// have to be bf16 too).
bool canNarrow(OpResult result) {
  Operation *op = result.getOwner();
  if (isa<RMSNormOp, RopeOp, SwiGLUOp, SwiGLUGradOp, FlashAttentionGradOp>(op))
    return true;
  if (auto fwd = dyn_cast<FlashAttentionOp>(op))
    return result == fwd.getResult();
  if (auto ce = dyn_cast<CrossEntropyFusedOp>(op))
    return result == ce.getLogitsGrad() && isF32(ce.getGrad());
  if (isa<LinearOp, LinearGradInputOp, LinearGradWeightOp>(op))
    return getElementTypeOrSelf(op->getOperand(0).getType()).isBF16() &&
           op->getNumOperands() == 2;
  return false;
}

/// Results an op ties to one type, which narrow only together: flash
/// attention's three gradients.
SmallVector<Value> tiedResults(Operation *op) {
  if (isa<FlashAttentionGradOp>(op))
    return SmallVector<Value>(op->getResults());
  return {};
}

/// Operands that ops computing in f32 may read as bf16 copies (widened in
/// their kernels), in groups that must change together (the ops tie their
/// types): SwiGLU's gate and up (and, backward, the incoming gradient),
/// RoPE's input, the fused cross-entropy's logits, and each on its own the
/// RMSNorm backward's output gradients, AdamW's gradient and the global
/// norm's inputs. Unlike a GEMM's, these are not converted for their own
/// sake: they only let a producer store bf16. Operands, not values: a value
/// that an op also reads elsewhere (a norm's gradient that is its addend
/// too) must stay f32.
using OperandGroup = SmallVector<OpOperand *>;
SmallVector<OperandGroup> bf16ReaderGroups(Operation *op) {
  auto eachOnItsOwn = [](MutableOperandRange operands) {
    SmallVector<OperandGroup> groups;
    for (unsigned i = 0; i < operands.size(); ++i)
      groups.push_back({&operands[i]});
    return groups;
  };
  if (auto s = dyn_cast<SwiGLUOp>(op))
    return {{&s.getGateMutable(), &s.getUpMutable()}};
  if (auto s = dyn_cast<SwiGLUGradOp>(op))
    return {{&s.getGateMutable(), &s.getUpMutable(), &s.getGradMutable()}};
  if (auto r = dyn_cast<RopeOp>(op))
    return {{&r.getInputMutable()}};
  if (auto ce = dyn_cast<CrossEntropyFusedOp>(op); ce && isF32(ce.getGrad()))
    return {{&ce.getLogitsMutable()}};
  if (auto n = dyn_cast<RMSNormGradOp>(op); n && isF32(n.getInput()))
    return eachOnItsOwn(n.getGradsMutable());
  // The weight gradients that the optimizer reads: AdamW and the global
  // norm widen them as they load.
  if (auto a = dyn_cast<AdamWOp>(op); a && isF32(a.getParam()))
    return {{&a.getGradMutable()}};
  if (auto g = dyn_cast<GlobalNormOp>(op); g && isF32(g.getResult()))
    return eachOnItsOwn(g.getInputsMutable());
  return {};
}

/// A weight: a training-state tensor read by tele.param, or (in a function
/// that takes its weights as arguments) a function argument.
bool isWeight(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return arg.getOwner()->isEntryBlock();
  return static_cast<bool>(v.getDefiningOp<ParamOp>());
}

bool convertsToBf16(Operation *user) {
  return isa<ConvertOp>(user) &&
         getElementTypeOrSelf(user->getResult(0).getType()).isBF16();
}

/// Makes the producers of `values` store bf16 where every reader either
/// converts the value to bf16 or may read a bf16 copy, and drops the
/// conversions: the normalized inputs of the projections, the values, the
/// SwiGLU product and its inputs, the projections RoPE rotates then live in
/// bf16, halving their memory (most are saved for the backward) and the
/// conversions' traffic.
void narrowProducers(ArrayRef<Value> values) {
  DenseMap<Operation *, SmallVector<OperandGroup>> groups;
  auto readsBf16 = [&](OpOperand &use) {
    auto [it, inserted] = groups.try_emplace(use.getOwner());
    if (inserted)
      it->second = bf16ReaderGroups(use.getOwner());
    return llvm::any_of(it->second,
                        [&](ArrayRef<OpOperand *> g) { return llvm::is_contained(g, &use); });
  };
  SetVector<Value> candidates;
  for (Value v : values) {
    auto result = dyn_cast<OpResult>(v);
    if (!result || !canNarrow(result) || v.use_empty())
      continue;
    if (llvm::all_of(v.getUses(), [&](OpOperand &use) {
          return convertsToBf16(use.getOwner()) || readsBf16(use);
        }))
      candidates.insert(v);
  }
  // A group changes only as a whole: drop every member of a group (of
  // operands a reader ties, or of results a producer ties) with a member
  // that stays f32, until nothing changes.
  SmallVector<SmallVector<Value>> tied;
  SmallPtrSet<Operation *, 8> producers;
  for (Value v : candidates)
    if (SmallVector<Value> results = tiedResults(v.getDefiningOp());
        !results.empty() && producers.insert(v.getDefiningOp()).second)
      tied.push_back(std::move(results));
  auto dropPartial = [&](ArrayRef<Value> g) {
    bool changed = false;
    if (!llvm::all_of(g, [&](Value v) { return candidates.contains(v); }))
      for (Value v : g)
        changed |= candidates.remove(v);
    return changed;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (auto &[op, opGroups] : groups)
      for (ArrayRef<OpOperand *> g : opGroups) {
        SmallVector<Value> members;
        for (OpOperand *o : g)
          members.push_back(o->get());
        changed |= dropPartial(members);
      }
    for (ArrayRef<Value> g : tied)
      changed |= dropPartial(g);
  }
  for (Value v : candidates) {
    v.setType(cast<RankedTensorType>(v.getType()).clone(BFloat16Type::get(v.getContext())));
    for (Operation *user : llvm::make_early_inc_range(v.getUsers()))
      if (isa<ConvertOp>(user)) {
        user->getResult(0).replaceAllUsesWith(v);
        user->erase();
      }
  }
}

/// Folds the bf16 conversions of an f32 RMSNorm input gradient (the
/// residual stream's gradient, which the next projections' gradient GEMMs
/// read) into the norm's backward as its `copy` result: the row kernel
/// rounds what it stores anyway, which saves the conversion's read of the
/// f32 gradient and a launch.
void foldNormGradCopies(Block &block) {
  for (auto norm : llvm::make_early_inc_range(block.getOps<RMSNormGradOp>())) {
    if (norm.getInputGradCopy() || !isF32(norm.getInput()))
      continue;
    SmallVector<Operation *> converts;
    for (Operation *user : norm.getInputGrad().getUsers())
      if (convertsToBf16(user) && user->getBlock() == &block)
        converts.push_back(user);
    if (converts.empty())
      continue;
    OpBuilder b(norm);
    auto ty = cast<RankedTensorType>(norm.getInput().getType());
    auto fused =
        RMSNormGradOp::create(b, norm.getLoc(),
                              TypeRange{norm.getInputGrad().getType(), norm.getGainGrad().getType(),
                                        ty.clone(b.getBF16Type())},
                              norm.getInput(), norm.getGain(), norm.getGrads(), norm.getMask(),
                              norm.getAddend(), norm.getEpsAttr());
    for (Operation *convert : converts) {
      convert->getResult(0).replaceAllUsesWith(fused.getInputGradCopy());
      convert->erase();
    }
    norm.getInputGrad().replaceAllUsesWith(fused.getInputGrad());
    norm.getGainGrad().replaceAllUsesWith(fused.getGainGrad());
    norm.erase();
  }
}

struct Bf16GemmsPass : tele::impl::TeleBf16GemmsBase<Bf16GemmsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (reuseWindow < 0) {
      getOperation().emitError("tele-bf16-gemms: reuse-window must be >= 0");
      return signalPassFailure();
    }
    struct Copy {
      Value bf16;
      int64_t lastUse = 0; ///< position of the last op that read it
    };
    for (Block &block : getOperation().getBody()) {
      DenseMap<Value, Copy> copies;
      int64_t position = 0;
      for (Operation &op : block) {
        ++position;
        for (OpOperand *operand : matmulOperands(&op)) {
          Copy &copy = copies[operand->get()];
          bool keep = keepWeightCopies && isWeight(operand->get());
          if (!copy.bf16 || (!keep && position - copy.lastUse > reuseWindow)) {
            OpBuilder b(&op);
            auto ty = cast<RankedTensorType>(operand->get().getType());
            copy.bf16 = ConvertOp::create(b, op.getLoc(), ty.clone(b.getBF16Type()),
                                          operand->get());
          }
          copy.lastUse = position;
          operand->set(copy.bf16);
        }
      }
      // Candidates: values the GEMMs and attention convert, and the values
      // ops may read as bf16 copies.
      SetVector<Value> values;
      for (auto &[value, copy] : copies)
        values.insert(value);
      for (Operation &op : block)
        for (ArrayRef<OpOperand *> g : bf16ReaderGroups(&op))
          for (OpOperand *o : g)
            values.insert(o->get());
      narrowProducers(values.getArrayRef());
      foldNormGradCopies(block);
    }
  }
};
} // namespace
