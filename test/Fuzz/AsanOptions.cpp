//===- AsanOptions.cpp - ASan defaults of the MLIR fuzz targets -----------===//
//
// This file sets AddressSanitizer's defaults for the targets that link
// Debian's libMLIR.so, which is not instrumented. LLVM's BumpPtrAllocator
// (the storage of MLIR attributes and types) poisons the unused part of each
// slab when compiled with ASan, as in tele's code, and unpoisons each piece
// it hands out; libMLIR's own copy of the same inline code does not, so its
// allocations from a slab that tele's code started are reported as
// use-after-poison. Manual poisoning is therefore off; ASan's redzones,
// use-after-free and leak checks are unaffected.
//
//===----------------------------------------------------------------------===//

extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}
