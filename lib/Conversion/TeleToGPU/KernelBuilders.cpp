//===- KernelBuilders.cpp - helpers shared by the kernel builders ---------===//
//
// This file implements the kernel-creation and scalar IR-building helpers of
// KernelBuilders.h.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

using namespace mlir;
using namespace mlir::tele;

MemRefType mlir::tele::flatMemRef(Type elementType, int64_t numElements) {
  return MemRefType::get({std::max<int64_t>(1, numElements)}, elementType);
}

MemRefType mlir::tele::flatMemRef(Value tensor) {
  auto ty = cast<RankedTensorType>(tensor.getType());
  return flatMemRef(ty.getElementType(), ty.getNumElements());
}

gpu::GPUFuncOp mlir::tele::createKernel(gpu::GPUModuleOp kernels,
                                        StringRef stem,
                                        ArrayRef<Type> argTypes) {
  // Kernels specialized beyond their name (elementwise attributes) get a
  // numeric suffix when the name is taken.
  std::string name = stem.str();
  for (int i = 0; kernels.lookupSymbol(name); ++i)
    name = (stem + "_" + Twine(i)).str();
  OpBuilder b(kernels.getBodyRegion());
  b.setInsertionPointToEnd(&kernels.getBodyRegion().front());
  auto fn = gpu::GPUFuncOp::create(b, kernels.getLoc(), name,
                                   b.getFunctionType(argTypes, {}));
  fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  OpBuilder body(fn.getBody());
  body.setInsertionPointToEnd(&fn.getBody().front());
  gpu::ReturnOp::create(body, fn.getLoc());
  // Builders insert before the terminator.
  return fn;
}

gpu::GPUFuncOp mlir::tele::getOrCreateKernel(
    gpu::GPUModuleOp kernels, StringRef name, ArrayRef<Type> argTypes,
    Location loc,
    function_ref<void(ImplicitLocOpBuilder &, ValueRange)> body) {
  if (auto existing = kernels.lookupSymbol<gpu::GPUFuncOp>(name))
    return existing;
  gpu::GPUFuncOp fn = createKernel(kernels, name, argTypes);
  OpBuilder builder(fn.getBody());
  builder.setInsertionPoint(fn.getBody().front().getTerminator());
  ImplicitLocOpBuilder b(loc, builder);
  // A copy: adding workgroup buffers appends block arguments, which would
  // invalidate a range over them.
  SmallVector<Value> args(fn.getArguments());
  body(b, args);
  return fn;
}

std::string mlir::tele::narrowedSuffix(Value result) {
  return getElementTypeOrSelf(result.getType()).isBF16() ? "_to_bf16" : "";
}

std::string mlir::tele::bf16Signature(Operation *op) {
  auto isBf16 = [](Value v) { return getElementTypeOrSelf(v.getType()).isBF16(); };
  if (llvm::none_of(op->getOperands(), isBf16) && llvm::none_of(op->getResults(), isBf16))
    return "";
  std::string sig = "_";
  for (Value v : op->getOperands())
    sig += isBf16(v) ? 'b' : 'f';
  sig += '_';
  for (Value v : op->getResults())
    sig += isBf16(v) ? 'b' : 'f';
  return sig;
}

Value mlir::tele::f32(ImplicitLocOpBuilder &b, double v) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(float(v)));
}

Value mlir::tele::idx(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

Value mlir::tele::load(ImplicitLocOpBuilder &b, Value memref, Value index) {
  return memref::LoadOp::create(b, memref, ValueRange{index});
}

void mlir::tele::store(ImplicitLocOpBuilder &b, Value value, Value memref,
                       Value index) {
  Type et = cast<MemRefType>(memref.getType()).getElementType();
  if (value.getType() != et && isa<FloatType>(et))
    value = arith::TruncFOp::create(b, et, value); // f32 stored as bf16
  memref::StoreOp::create(b, value, memref, ValueRange{index});
}

void mlir::tele::storeChunk(ImplicitLocOpBuilder &b, Value value, Value memref,
                            Value index) {
  auto vt = cast<VectorType>(value.getType());
  Type et = cast<MemRefType>(memref.getType()).getElementType();
  if (vt.getElementType() != et) // f32 stored as bf16
    value = arith::TruncFOp::create(b, vt.clone(et), value);
  vector::StoreOp::create(b, value, memref, ValueRange{index}, /*nontemporal=*/false,
                          llvm::MaybeAlign(vt.getNumElements() * et.getIntOrFloatBitWidth() / 8));
}

Value mlir::tele::loadChunk(ImplicitLocOpBuilder &b, VectorType vt, Value memref, Value index) {
  Type et = cast<MemRefType>(memref.getType()).getElementType();
  Value v = vector::LoadOp::create(
      b, vt.clone(et), memref, ValueRange{index}, /*nontemporal=*/false,
      llvm::MaybeAlign(vt.getNumElements() * et.getIntOrFloatBitWidth() / 8));
  if (et != vt.getElementType()) // a bf16 copy read in f32
    v = arith::ExtFOp::create(b, vt, v);
  return v;
}

void mlir::tele::atomicAdd(ImplicitLocOpBuilder &b, Value value, Value memref,
                           Value index) {
  memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::addf, value, memref,
                              ValueRange{index});
}

/// An XOR butterfly over groups of `lanes` lanes, combining with `combine`.
template <typename CombineOp>
static Value butterfly(ImplicitLocOpBuilder &b, Value v, int32_t lanes) {
  for (int32_t offset = lanes / 2; offset > 0; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, v, offset, kWarp, gpu::ShuffleMode::XOR);
    v = CombineOp::create(b, v, shuffle.getShuffleResult());
  }
  return v;
}

Value mlir::tele::warpSum(ImplicitLocOpBuilder &b, Value v, int32_t lanes) {
  return butterfly<arith::AddFOp>(b, v, lanes);
}

Value mlir::tele::warpMax(ImplicitLocOpBuilder &b, Value v, int32_t lanes) {
  return butterfly<arith::MaximumFOp>(b, v, lanes);
}

void mlir::tele::ifThen(ImplicitLocOpBuilder &b, Value cond,
                        function_ref<void(ImplicitLocOpBuilder &)> body) {
  auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifOp.getThenRegion().front().getTerminator());
  body(b);
}

Value mlir::tele::addWorkgroupBuffer(ImplicitLocOpBuilder &b, int64_t floats) {
  auto fn = b.getInsertionBlock()->getParent()->getParentOfType<gpu::GPUFuncOp>();
  auto space = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto ty = MemRefType::get({floats}, b.getF32Type(), MemRefLayoutAttrInterface{}, space);
  return fn.addWorkgroupAttribution(ty, b.getLoc());
}

Value mlir::tele::blockSum(ImplicitLocOpBuilder &b, Value v, int64_t threads) {
  int64_t warps = threads / kWarp;
  Value sums = addWorkgroupBuffer(b, warps);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, tid, idx(b, kWarp));
  Value warp = arith::DivUIOp::create(b, tid, idx(b, kWarp));
  Value warpTotal = warpSum(b, v);
  ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(b, 0)),
         [&](ImplicitLocOpBuilder &b) { store(b, warpTotal, sums, warp); });
  gpu::BarrierOp::create(b);
  // Every warp adds the warps' sums (in the same order): thread 0 has it.
  Value mine = ifElse(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, lane, idx(b, warps)),
      [&](ImplicitLocOpBuilder &b) -> SmallVector<Value> { return {load(b, sums, lane)}; },
      [&](ImplicitLocOpBuilder &b) -> SmallVector<Value> { return {f32(b, 0.0)}; })[0];
  return warpSum(b, mine);
}

SmallVector<Value> mlir::tele::ifElse(
    ImplicitLocOpBuilder &b, Value cond,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)> thenBody,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)> elseBody) {
  // The result types are inferred from what the branches yield.
  auto branch = [&](function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)> body) {
    return [body](OpBuilder &builder, Location loc) {
      ImplicitLocOpBuilder inner(loc, builder);
      scf::YieldOp::create(inner, body(inner));
    };
  };
  auto ifOp = scf::IfOp::create(b, cond, branch(thenBody), branch(elseBody));
  return SmallVector<Value>(ifOp.getResults());
}

SmallVector<Value> mlir::tele::switchOnBlockTensor(
    ImplicitLocOpBuilder &b, ArrayRef<int64_t> firstBlocks, TypeRange resultTypes,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, int64_t, Value)> body,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)> fallback) {
  Value block = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value which = idx(b, 0);
  for (size_t i = 1; i < firstBlocks.size(); ++i) {
    Value past = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, block,
                                       idx(b, firstBlocks[i]));
    which = arith::AddIOp::create(b, which,
                                  arith::SelectOp::create(b, past, idx(b, 1), idx(b, 0)));
  }
  SmallVector<int64_t> cases;
  for (size_t i = 0; i < firstBlocks.size(); ++i)
    cases.push_back(int64_t(i));
  auto sw = scf::IndexSwitchOp::create(b, resultTypes, which, cases, cases.size());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&sw.getDefaultRegion().emplaceBlock());
  scf::YieldOp::create(b, fallback(b));
  for (size_t i = 0; i < firstBlocks.size(); ++i) {
    b.setInsertionPointToStart(&sw.getCaseRegions()[i].emplaceBlock());
    Value local = arith::SubIOp::create(b, block, idx(b, firstBlocks[i]));
    scf::YieldOp::create(b, body(b, int64_t(i), local));
  }
  return SmallVector<Value>(sw.getResults());
}

SmallVector<Value> mlir::tele::forLoop(
    ImplicitLocOpBuilder &b, Value lb, Value ub, Value step, ValueRange init,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>
        body) {
  auto loop = scf::ForOp::create(b, lb, ub, step, init);
  {
    OpBuilder::InsertionGuard guard(b);
    Block *block = loop.getBody();
    if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
      b.setInsertionPoint(&block->back());
    else
      b.setInsertionPointToEnd(block);
    SmallVector<Value> next =
        body(b, loop.getInductionVar(), loop.getRegionIterArgs());
    if (block->empty() || !block->back().hasTrait<OpTrait::IsTerminator>())
      scf::YieldOp::create(b, next);
  }
  return SmallVector<Value>(loop.getResults());
}

void mlir::tele::forEachWarpRow(
    ImplicitLocOpBuilder &b, int64_t rows, int64_t width,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value, Value)> body) {
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, tid, idx(b, kWarp));
  Value row = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            idx(b, kWarpRowsPerBlock)),
      arith::DivUIOp::create(b, tid, idx(b, kWarp)));
  ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, idx(b, rows)),
         [&](ImplicitLocOpBuilder &b) {
           body(b, row, lane, arith::MulIOp::create(b, row, idx(b, width)));
         });
}

KernelLaunch mlir::tele::warpRowLaunch(gpu::GPUFuncOp kernel, int64_t rows) {
  return KernelLaunch{kernel,
                      {(rows + kWarpRowsPerBlock - 1) / kWarpRowsPerBlock, 1, 1},
                      {kWarpRowsPerBlock * kWarp, 1, 1},
                      {}};
}

RowWalk RowWalk::of(int64_t width, int64_t lanes) {
  int64_t vec = width % (4 * lanes) == 0 ? 4 : width % (2 * lanes) == 0 ? 2 : 1;
  int64_t count = (width + vec * lanes - 1) / (vec * lanes);
  return {width, vec, count, width % (vec * lanes) != 0, lanes};
}

VectorType RowWalk::type(ImplicitLocOpBuilder &b) const {
  return VectorType::get({vec}, b.getF32Type());
}

Value RowWalk::column(ImplicitLocOpBuilder &b, Value lane, Value i) const {
  return arith::MulIOp::create(
      b, arith::AddIOp::create(b, arith::MulIOp::create(b, i, idx(b, lanes)), lane),
      idx(b, vec));
}

Value RowWalk::load(ImplicitLocOpBuilder &b, Value memref, Value rowBase, Value lane,
                    Value i, bool guarded, double fill) const {
  Value col = column(b, lane, i);
  Value at = rowBase ? arith::AddIOp::create(b, rowBase, col) : col;
  if (!guarded)
    return loadChunk(b, type(b), memref, at);
  Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, col, idx(b, width));
  return ifElse(
      b, inside,
      [&](ImplicitLocOpBuilder &b) -> SmallVector<Value> {
        return {loadChunk(b, type(b), memref, at)};
      },
      [&](ImplicitLocOpBuilder &b) -> SmallVector<Value> {
        return {splatFloat(b, type(b), fill)};
      })[0];
}

Value RowWalk::load(ImplicitLocOpBuilder &b, Value memref, Value rowBase, Value lane,
                    int64_t i, double fill) const {
  return load(b, memref, rowBase, lane, idx(b, i), mayPassEnd(i), fill);
}

Value RowWalk::load(ImplicitLocOpBuilder &b, Value memref, Value rowBase, Value lane, Value i,
                    double fill) const {
  return load(b, memref, rowBase, lane, i, ragged, fill);
}

void RowWalk::store(ImplicitLocOpBuilder &b, Value value, Value memref, Value rowBase,
                    Value lane, Value i, bool guarded) const {
  Value col = column(b, lane, i);
  Value at = arith::AddIOp::create(b, rowBase, col);
  if (!guarded)
    return storeChunk(b, value, memref, at);
  ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, col, idx(b, width)),
         [&](ImplicitLocOpBuilder &b) { storeChunk(b, value, memref, at); });
}

void RowWalk::store(ImplicitLocOpBuilder &b, Value value, Value memref, Value rowBase,
                    Value lane, int64_t i) const {
  store(b, value, memref, rowBase, lane, idx(b, i), mayPassEnd(i));
}

void RowWalk::store(ImplicitLocOpBuilder &b, Value value, Value memref, Value rowBase,
                    Value lane, Value i) const {
  store(b, value, memref, rowBase, lane, i, ragged);
}

Value RowWalk::sum(ImplicitLocOpBuilder &b, Value v) {
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, v);
}

Value RowWalk::max(ImplicitLocOpBuilder &b, Value v) {
  return vector::ReductionOp::create(b, vector::CombiningKind::MAXIMUMF, v);
}
