//===- PlanMemory.cpp - tele-plan-memory pass -----------------------------===//
//
// This file implements tele-plan-memory: a static arena for the values of a
// straight-line tensor function, from their live ranges. Ops run in block
// order, so a value is live from its defining op to its last user (the end
// of the function for returned values); a result is placed while the
// operands of its op are still live, so outputs never alias inputs.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"

#include <map>

#define DEBUG_TYPE "tele-plan-memory"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEPLANMEMORY
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
constexpr int64_t kAlignment = 256;

int64_t alignUp(int64_t bytes) {
  return (std::max<int64_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
}

int64_t bytesOf(Value v) {
  auto ty = cast<RankedTensorType>(v.getType());
  return ty.getNumElements() *
         std::max<int64_t>(1, ty.getElementTypeBitWidth() / 8);
}

/// First-fit placement of [begin, end] intervals in one arena.
class Arena {
public:
  /// Places `bytes` for ops [begin, end]; blocks that ended before `begin`
  /// are free again.
  int64_t place(int64_t bytes, int64_t begin, int64_t end) {
    bytes = alignUp(bytes);
    for (auto it = live.begin(); it != live.end();)
      it = it->second.end < begin ? live.erase(it) : std::next(it);
    int64_t offset = 0;
    for (const auto &[start, block] : live) {
      if (start - offset >= bytes)
        break;
      offset = std::max(offset, start + block.bytes);
    }
    live[offset] = {bytes, end};
    peak = std::max(peak, offset + bytes);
    total += bytes;
    return offset;
  }
  int64_t peak = 0, total = 0;

private:
  struct Block {
    int64_t bytes, end;
  };
  std::map<int64_t, Block> live; // by offset
};

/// Values that live outside the arena: parameters, their bf16 copies and
/// moments (state), constants, mask values, and in-place optimizer updates.
bool outsideArena(Value v) {
  Operation *def = v.getDefiningOp();
  if (isa<ParamOp, CachedConvertOp, arith::ConstantOp, MaskValueOp>(def))
    return true;
  return !stateEntryUpdatedInPlace(v).empty();
}

struct PlanMemoryPass : tele::impl::TelePlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (!fn.getBody().hasOneBlock()) {
      fn.emitError("tele-plan-memory needs a single-block function");
      return signalPassFailure();
    }
    Block &body = fn.getBody().front();
    llvm::DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(body.getOperations()))
      position[&op] = int64_t(i);
    int64_t end = int64_t(body.getOperations().size());

    auto lastUse = [&](Value v, int64_t def) {
      int64_t last = def;
      for (Operation *user : v.getUsers())
        last = std::max(last, isa<func::ReturnOp>(user) ? end : position[user]);
      return last;
    };

    Arena arena;
    Builder b(&getContext());
    for (Operation &op : body.without_terminator()) {
      int64_t at = position[&op];
      if (op.getNumResults() > 0) {
        SmallVector<int64_t> offsets;
        for (Value r : op.getResults())
          offsets.push_back(outsideArena(r) ? -1
                                            : arena.place(bytesOf(r), at, lastUse(r, at)));
        op.setAttr(kOffsetsAttrName, b.getDenseI64ArrayAttr(offsets));
      }
      if (auto ws = op.getAttrOfType<DenseI64ArrayAttr>(kWorkspaceAttrName)) {
        SmallVector<int64_t> offsets;
        for (int64_t bytes : ws.asArrayRef())
          offsets.push_back(arena.place(bytes, at, at));
        op.setAttr(kWorkspaceOffsetsAttrName, b.getDenseI64ArrayAttr(offsets));
      }
    }
    fn->setAttr(kArenaBytesAttrName, b.getI64IntegerAttr(arena.peak));
    fn->setAttr(kUnplannedBytesAttrName, b.getI64IntegerAttr(arena.total));
  }
};
} // namespace

StringRef mlir::tele::stateEntryUpdatedInPlace(Value result) {
  auto update = result.getDefiningOp<AdamWOp>();
  if (!update || !result.hasOneUse())
    return {};
  auto assign = dyn_cast<AssignOp>(*result.getUsers().begin());
  if (!assign)
    return {};
  // The read of the entry the result replaces: the parameter or a moment
  // (operands of the update), or the parameter's cached bf16 copy.
  unsigned k = cast<OpResult>(result).getResultNumber();
  Operation *read = nullptr;
  if (k < 3) {
    Value source = k == 0 ? update.getParam() : k == 1 ? update.getMoment1() : update.getMoment2();
    auto param = source.getDefiningOp<ParamOp>();
    if (param && param.getName() == assign.getName())
      read = param;
  } else {
    for (auto copy : update->getBlock()->getOps<CachedConvertOp>())
      if (copy.getName() == assign.getName())
        read = copy;
  }
  if (!read || read->getBlock() != update->getBlock())
    return {};
  for (Operation *user : read->getUsers())
    if (user != update && update->isBeforeInBlock(user))
      return {};
  // A second read of the entry after the update would see the new value.
  for (Operation *op = update->getNextNode(); op; op = op->getNextNode())
    if (isa<ParamOp, CachedConvertOp>(op) &&
        op->getAttrOfType<StringAttr>("name").getValue() == assign.getName())
      return {};
  return assign.getName();
}
