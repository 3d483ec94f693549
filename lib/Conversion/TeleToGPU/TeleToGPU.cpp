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

#include <cstdlib>
#include <optional>

#define DEBUG_TYPE "convert-tele-to-gpu"

namespace mlir::tele {
#define GEN_PASS_DEF_CONVERTTELETOGPU
#include "tele/Conversion/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Runs the family builders in turn; failure if none handles `op`.
FailureOr<OpKernels> buildKernels(Operation *op, gpu::GPUModuleOp kernels) {
  auto single = [](FailureOr<KernelLaunch> l) -> FailureOr<OpKernels> {
    if (failed(l))
      return failure();
    return OpKernels{{*l}, {}, {}};
  };
  if (auto k = single(buildElementwiseKernel(op, kernels)); succeeded(k))
    return k;
  if (auto k = single(buildRopeKernel(op, kernels)); succeeded(k))
    return k;
  // Tensor-core attention first; the fp32 attention kernels take the shapes
  // it does not.
  for (auto family : {buildRowKernels, buildEmbedKernels, buildLossKernels,
                      buildTensorCoreAttentionKernels, buildAttentionKernels,
                      buildOptimizerKernels})
    if (auto k = family(op, kernels); succeeded(k))
      return k;
  return failure();
}

/// The `tele.launches` entry of one launch.
DictionaryAttr launchAttr(MLIRContext *ctx, const KernelLaunch &l,
                          int64_t numOperandsAndResults) {
  SmallVector<int64_t> args(l.args);
  if (args.empty())
    for (int64_t i = 0; i < numOperandsAndResults; ++i)
      args.push_back(i);
  Builder b(ctx);
  SmallVector<NamedAttribute> entries{
      b.getNamedAttr("kernel", SymbolRefAttr::get(ctx, kKernelModuleName,
                                                  {FlatSymbolRefAttr::get(
                                                      ctx, const_cast<gpu::GPUFuncOp &>(l.kernel).getName())})),
      b.getNamedAttr("grid", b.getDenseI64ArrayAttr(l.grid)),
      b.getNamedAttr("block", b.getDenseI64ArrayAttr(l.block)),
      b.getNamedAttr("args", b.getDenseI64ArrayAttr(args))};
  if (l.sharedBytes)
    entries.push_back(b.getNamedAttr("shared_bytes", b.getI64IntegerAttr(l.sharedBytes)));
  return b.getDictionaryAttr(entries);
}
} // namespace

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
    // Ops that print identically (same op, attributes, operand and result
    // types: a narrowed or extra result changes the kernel) share their
    // kernels, so that a step's 24 identical layers share code. A state
    // entry's name (tele.cached_convert) does not change the kernel.
    Builder attrs(ctx);
    llvm::StringMap<std::optional<OpKernels>> byKey;
    module.walk([&](Operation *op) {
      if (op->getDialect() != ctx->getLoadedDialect<TeleDialect>() ||
          op->getNumResults() == 0)
        return WalkResult::advance();
      std::string key;
      {
        llvm::raw_string_ostream os(key);
        NamedAttrList kernelAttrs(op->getAttrDictionary());
        kernelAttrs.erase("name");
        os << op->getName() << kernelAttrs.getDictionary(ctx);
        for (Type t : op->getOperandTypes())
          os << t;
        os << "->";
        for (Type t : op->getResultTypes())
          os << t;
      }
      auto [it, inserted] = byKey.try_emplace(key);
      if (inserted) {
        FailureOr<OpKernels> k = buildKernels(op, kernels);
        if (succeeded(k))
          it->second = std::move(*k);
      }
      std::optional<OpKernels> &built = it->second;
      if (!built)
        return WalkResult::advance(); // a library call or not generated yet
      SmallVector<Attribute> launches;
      for (const KernelLaunch &l : built->launches)
        launches.push_back(
            launchAttr(ctx, l, op->getNumOperands() + op->getNumResults()));
      op->setAttr(kLaunchesAttrName, attrs.getArrayAttr(launches));
      if (!built->workspaceBytes.empty())
        op->setAttr(kWorkspaceAttrName,
                    attrs.getDenseI64ArrayAttr(built->workspaceBytes));
      if (!built->zeroed.empty())
        op->setAttr(kZeroedAttrName, attrs.getDenseI64ArrayAttr(built->zeroed));
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
  // MLIR links libdevice (exp, log, sin, ...) from the CUDA toolkit named by
  // CUDA_ROOT, CUDA_HOME or CUDA_PATH; without one of them the math calls
  // stay unresolved and the PTX would not load. Default to the toolkit
  // found at configure time.
#ifdef TELE_CUDA_LIBRARY_ROOT
  if (!std::getenv("CUDA_ROOT") && !std::getenv("CUDA_HOME") && !std::getenv("CUDA_PATH"))
    ::setenv("CUDA_HOME", TELE_CUDA_LIBRARY_ROOT, /*overwrite=*/0);
#endif
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
  if (StringRef(ptx).contains("__nv_"))
    return module.emitError()
           << "libdevice was not linked into the kernels (calls to __nv_* remain): set "
              "CUDA_HOME to a CUDA toolkit with nvvm/libdevice/libdevice.10.bc";
  return ptx;
}
