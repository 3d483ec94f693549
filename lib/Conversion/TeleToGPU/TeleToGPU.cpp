//===- TeleToGPU.cpp - convert-tele-to-gpu pass ---------------------------===//
//
// This file implements convert-tele-to-gpu: it generates one GPU kernel per
// distinct supported op (family builders in ElementwiseKernels.cpp and
// RowKernels.cpp) in `gpu.module @tele_kernels` and annotates each op with
// the kernel and its launch configuration. The tensor-level function itself
// is left in place: the runtime walks it and launches the kernels.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"

#define DEBUG_TYPE "convert-tele-to-gpu"

namespace mlir::tele {
#define GEN_PASS_DEF_CONVERTTELETOGPU
#include "tele/Conversion/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

MemRefType mlir::tele::flatMemRef(Value tensor) {
  auto ty = cast<RankedTensorType>(tensor.getType());
  return MemRefType::get({std::max<int64_t>(1, ty.getNumElements())},
                         ty.getElementType());
}

gpu::GPUFuncOp mlir::tele::createKernel(gpu::GPUModuleOp kernels,
                                        StringRef stem,
                                        ArrayRef<Type> argTypes) {
  OpBuilder b(kernels.getBodyRegion());
  b.setInsertionPointToEnd(&kernels.getBodyRegion().front());
  auto fn = gpu::GPUFuncOp::create(b, kernels.getLoc(), stem,
                                   b.getFunctionType(argTypes, {}));
  fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  OpBuilder body(fn.getBody());
  body.setInsertionPointToEnd(&fn.getBody().front());
  gpu::ReturnOp::create(body, fn.getLoc());
  // Builders insert before the terminator.
  return fn;
}

namespace {
struct ConvertTeleToGPUPass
    : tele::impl::ConvertTeleToGPUBase<ConvertTeleToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
    auto kernels = module.lookupSymbol<gpu::GPUModuleOp>(kKernelModuleName);
    if (!kernels) {
      OpBuilder b(module.getBodyRegion());
      b.setInsertionPointToEnd(module.getBody());
      kernels = gpu::GPUModuleOp::create(b, module.getLoc(), kKernelModuleName);
    }
    // Reuse a kernel for ops that print identically (same op, attributes
    // and types) so that a step's 24 identical layers share kernels.
    llvm::StringMap<KernelLaunch> byKey;
    SymbolTable symbols(kernels);
    module.walk([&](Operation *op) {
      if (op->getDialect() != ctx->getLoadedDialect<TeleDialect>() ||
          op->getNumResults() == 0)
        return WalkResult::advance();
      std::string key;
      {
        llvm::raw_string_ostream os(key);
        os << op->getName() << op->getAttrDictionary();
        for (Type t : op->getOperandTypes())
          os << t;
      }
      KernelLaunch launch;
      if (auto it = byKey.find(key); it != byKey.end()) {
        launch = it->second;
      } else {
        FailureOr<KernelLaunch> built = buildElementwiseKernel(op, kernels);
        if (failed(built))
          built = buildRowKernel(op, kernels);
        if (failed(built))
          built = buildRopeKernel(op, kernels);
        if (failed(built))
          return WalkResult::advance(); // a library call or not yet supported
        launch = *built;
        // Unique names: rename a new kernel that clashes with an older one.
        symbols.insert(launch.kernel);
        byKey[key] = launch;
      }
      op->setAttr("tele.kernel",
                  SymbolRefAttr::get(ctx, kKernelModuleName,
                                     {FlatSymbolRefAttr::get(
                                         ctx, launch.kernel.getName())}));
      op->setAttr("tele.grid", DenseI64ArrayAttr::get(ctx, {launch.grid, 1, 1}));
      op->setAttr("tele.block", DenseI64ArrayAttr::get(ctx, {launch.block, 1, 1}));
      return WalkResult::advance();
    });
    if (kernelsOnly)
      keepOnlyKernels(module);
  }
};
} // namespace

void mlir::tele::keepOnlyKernels(ModuleOp module) {
  for (Operation &op : llvm::make_early_inc_range(module.getBody()->getOperations())) {
    auto kernels = dyn_cast<gpu::GPUModuleOp>(op);
    if (!kernels || kernels.getName() != kKernelModuleName)
      op.erase();
  }
}

FailureOr<std::string> mlir::tele::lowerKernelsToPTX(ModuleOp module,
                                                     StringRef chip) {
  PassManager pm(module.getContext());
  gpu::GPUToNVVMPipelineOptions options;
  options.cubinChip = chip.str();
  options.cubinFeatures = "+ptx80";
  options.cubinFormat = "isa";
  options.kernelUseBarePtrCallConv = true;
  gpu::buildLowerToNVVMPassPipeline(pm, options);
  if (failed(pm.run(module)))
    return failure();
  std::string ptx;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute obj : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(obj))
        ptx += object.getObject().getValue().str();
  });
  if (ptx.empty())
    return module.emitError() << "the NVVM pipeline produced no PTX";
  return ptx;
}
