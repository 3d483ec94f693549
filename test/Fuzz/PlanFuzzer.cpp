//===- PlanFuzzer.cpp - libFuzzer target of the plan-file parser ----------===//
//
// This file fuzzes the YAML/JSON plan front end (parsePlanYaml, the parser
// behind `tele plan/train/compile <plan>`): any text must either become a
// verified module or be refused with an error diagnostic. A crash, a
// sanitizer report, a refusal without an error, an error that spans several
// lines or an accepted plan that does not verify is a finding.
//
//===----------------------------------------------------------------------===//

#include "tele/Config/PlanFile.h"
#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  MLIRContext context(MLIRContext::Threading::DISABLED);
  bool sawError = false;
  ScopedDiagnosticHandler capture(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Error)
      return success();
    sawError = true;
    // The project's error format is one line per error.
    std::string message = diag.str();
    if (message.find('\n') != std::string::npos) {
      llvm::errs() << "plan fuzzer: multi-line error: " << message << "\n";
      std::abort();
    }
    return success();
  });
  // NUL-terminated like the files tele reads (MemoryBuffer::getFile).
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module =
      tele::parsePlanYaml(text, "fuzz.yaml", &context);
  if (!module) {
    if (!sawError) {
      llvm::errs() << "plan fuzzer: plan refused without an error\n";
      std::abort();
    }
    return 0;
  }
  if (sawError || failed(verify(*module))) {
    llvm::errs() << "plan fuzzer: accepted plan with errors or that does not "
                    "verify\n";
    std::abort();
  }
  return 0;
}
