//===- Annotations.h - attributes the GPU lowering puts on tele ops -*- C++ -*-===//
//
// This file names the discardable attributes through which the GPU passes
// hand their decisions to the program emitter (tele compile --target cuda):
// which kernels run an op (convert-tele-to-gpu) and where its values live
// (tele-plan-memory).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_IR_ANNOTATIONS_H
#define TELE_DIALECT_TELE_IR_ANNOTATIONS_H

namespace mlir::tele {

/// convert-tele-to-gpu: `tele.launches` is an array of {kernel, grid, block,
/// args[, shared_bytes]} with args indexing the op's operands, then results, then
/// workspaces; `tele.workspace` the bytes of each scratch buffer;
/// `tele.zeroed` the buffers (same indexing) to zero before the first launch.
inline constexpr const char *kLaunchesAttrName = "tele.launches";
inline constexpr const char *kWorkspaceAttrName = "tele.workspace";
inline constexpr const char *kZeroedAttrName = "tele.zeroed";

/// tele-plan-memory: arena offsets of each result (-1 outside the arena)
/// and of each workspace; on the function, the planned peak and the bytes
/// one buffer per value would need.
inline constexpr const char *kOffsetsAttrName = "tele.offsets";
inline constexpr const char *kWorkspaceOffsetsAttrName = "tele.workspace_offsets";
inline constexpr const char *kArenaBytesAttrName = "tele.arena_bytes";
inline constexpr const char *kUnplannedBytesAttrName = "tele.unplanned_bytes";

} // namespace mlir::tele

#endif // TELE_DIALECT_TELE_IR_ANNOTATIONS_H
