//===- CacheWeightCopies.cpp - tele-cache-weight-copies pass --------------===//
//
// This file implements tele-cache-weight-copies: the bf16 copies of the
// weights that tele-bf16-gemms converts each step become state entries
// (tele.cached_convert), and each weight's AdamW update writes its next
// copy. The runtime keeps a copy until its weight changes otherwise.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"

#include "llvm/ADT/StringSet.h"

#define DEBUG_TYPE "tele-cache-weight-copies"

namespace mlir::tele {
#define GEN_PASS_DEF_TELECACHEWEIGHTCOPIES
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
/// The state entry that holds the bf16 copy of parameter `name`.
std::string copyEntryOf(StringRef name) { return ("bf16." + name).str(); }

/// A tele.convert of a tele.param read from f32 to bf16; null otherwise.
ParamOp weightConverted(ConvertOp convert) {
  auto read = convert.getInput().getDefiningOp<ParamOp>();
  if (!read || !read.getType().getElementType().isF32() ||
      !convert.getType().getElementType().isBF16())
    return {};
  return read;
}

/// Gives `update` a `copy` result and assigns it to `entry` right after
/// `assign` (the parameter's own assignment).
void storeCopyFromUpdate(AdamWOp update, AssignOp assign, StringRef entry) {
  OpBuilder b(update);
  Type paramType = update.getParam().getType();
  Type copyType = cast<RankedTensorType>(paramType).clone(b.getBF16Type());
  auto withCopy = AdamWOp::create(b, update.getLoc(),
                                  TypeRange{paramType, paramType, paramType, copyType},
                                  update->getOperands(), update->getAttrs());
  for (unsigned i = 0; i < update->getNumResults(); ++i)
    update->getResult(i).replaceAllUsesWith(withCopy->getResult(i));
  update.erase();
  b.setInsertionPointAfter(assign);
  AssignOp::create(b, assign.getLoc(), b.getStringAttr(entry), withCopy.getNewParamCopy());
}

struct CacheWeightCopiesPass
    : tele::impl::TeleCacheWeightCopiesBase<CacheWeightCopiesPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.getBody().empty())
      return;
    Block &body = fn.getBody().front();
    // How often each entry is assigned: a copy written with the update is
    // right only if that update is the parameter's one and final value.
    llvm::StringMap<int64_t> assignments;
    for (auto assign : body.getOps<AssignOp>())
      ++assignments[assign.getName()];

    llvm::StringSet<> assignedSoFar;
    llvm::StringMap<Value> copies; // by copy entry
    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (auto assign = dyn_cast<AssignOp>(op)) {
        assignedSoFar.insert(assign.getName());
        continue;
      }
      auto convert = dyn_cast<ConvertOp>(op);
      if (!convert)
        continue;
      ParamOp read = weightConverted(convert);
      // A read after an assignment sees the new value, not the entry's
      // value when the step starts, which is what the copy is of.
      if (!read || assignedSoFar.contains(read.getName()))
        continue;
      std::string entry = copyEntryOf(read.getName());
      Value &copy = copies[entry];
      if (!copy) {
        OpBuilder b(convert);
        copy = CachedConvertOp::create(b, convert.getLoc(), convert.getType(),
                                       b.getStringAttr(entry), read.getResult());
      }
      convert.replaceAllUsesWith(copy);
      convert.erase();
    }

    // The updates of the cached parameters store the next copies.
    for (auto update : llvm::make_early_inc_range(body.getOps<AdamWOp>())) {
      auto read = update.getParam().getDefiningOp<ParamOp>();
      if (!read || update.getNewParamCopy() || !update.getNewParam().hasOneUse())
        continue;
      std::string entry = copyEntryOf(read.getName());
      auto assign = dyn_cast<AssignOp>(*update.getNewParam().getUsers().begin());
      if (!copies.count(entry) || !assign || assign.getName() != read.getName() ||
          assignments[read.getName()] != 1 || assignments.count(entry))
        continue;
      storeCopyFromUpdate(update, assign, entry);
    }
  }
};
} // namespace
