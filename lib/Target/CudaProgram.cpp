//===- CudaProgram.cpp - a tele function as a GPU runtime program ---------===//
//
// This file implements the program emitter of CudaProgram.h: it walks the
// annotated function once, resolving every value to a buffer reference and
// every op to runtime steps (kernel launches from `tele.launches`, GEMMs in
// cuBLASLt's column-major terms, zero-fills, state copies).
//
//===----------------------------------------------------------------------===//

#include "tele/Target/CudaProgram.h"
#include "tele/Conversion/Passes.h"
#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "tele/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/TypeSwitch.h"

#include <set>

using namespace mlir;
using namespace mlir::tele;
namespace json = llvm::json;

namespace {
int64_t bytesOf(Type t) {
  auto ty = cast<RankedTensorType>(t);
  return ty.getNumElements() * std::max<int64_t>(1, ty.getElementTypeBitWidth() / 8);
}

std::string dtypeOf(Type t) {
  Type et = cast<RankedTensorType>(t).getElementType();
  if (et.isF32())
    return "f32";
  if (et.isBF16())
    return "bf16";
  if (et.isInteger(32))
    return "i32";
  if (et.isInteger(64))
    return "i64";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << et;
  return s;
}

json::Object ref(StringRef kind, json::Value where, int64_t bytes) {
  return json::Object{{kind, std::move(where)}, {"bytes", bytes}};
}

class Emitter {
public:
  explicit Emitter(func::FuncOp fn) : fn(fn) {}
  FailureOr<json::Object> run();

private:
  LogicalResult emit(Operation *op);
  /// The op's kernel launches, appended to `into` (the program's steps,
  /// or the refresh of a cached copy).
  LogicalResult emitLaunches(Operation *op, ArrayAttr launches, json::Array &into);
  LogicalResult emitCachedConvert(CachedConvertOp copy);
  void emitGemm(Operation *op, bool transA, bool transB, int64_t m, int64_t n,
                int64_t k, Value a, int64_t lda, Value b, int64_t ldb,
                Value c, int64_t ldc, Value addend = Value());
  json::Object refOf(Value v) { return json::Object(refs.find(v)->second); }
  /// Records a state entry the program reads or writes, with how a fresh
  /// run initialises it (so that the runtime can run a program alone):
  /// a ParamInit, or "derived" for a cached copy (the runtime makes it).
  json::Object &addState(StringRef name, Type type, StringRef init = "zeros") {
    auto [it, inserted] = stateIndex.try_emplace(name, state.size());
    if (inserted) {
      auto ty = cast<RankedTensorType>(type);
      state.push_back(json::Object{{"name", name},
                                   {"shape", json::Array(ty.getShape())},
                                   {"dtype", dtypeOf(type)},
                                   {"init", init}});
    }
    return *state[it->second].getAsObject();
  }

  func::FuncOp fn;
  llvm::DenseMap<Value, json::Object> refs;
  llvm::StringMap<size_t> stateIndex; ///< entries of `state` by name
  std::set<std::string> maskNames;
  json::Array state, masks, constants, steps, refresh, ops;
  /// Index of the op being emitted, recorded on each of its steps.
  int64_t opId = -1;
};

FailureOr<json::Object> Emitter::run() {
  if (!fn.getBody().hasOneBlock())
    return fn.emitError("the CUDA program needs a single-block function");
  Block &body = fn.getBody().front();
  json::Array inputs;
  for (BlockArgument arg : body.getArguments()) {
    auto ty = cast<RankedTensorType>(arg.getType());
    inputs.push_back(json::Object{{"shape", json::Array(ty.getShape())},
                                  {"dtype", dtypeOf(ty)}});
    refs[arg] = ref("input", int64_t(arg.getArgNumber()), bytesOf(ty));
  }
  for (Operation &op : body.without_terminator())
    if (failed(emit(&op)))
      return failure();
  json::Array outputs;
  for (Value v : body.getTerminator()->getOperands())
    outputs.push_back(refOf(v));
  auto arena = fn->getAttrOfType<IntegerAttr>(kArenaBytesAttrName);
  if (!arena)
    return fn.emitError("run tele-plan-memory before emitting the CUDA program");
  double initStd = 0.02;
  if (auto cfg = fn->getAttrOfType<ModelConfigAttr>("tele.model_config"))
    initStd = cfg.getInitStdValue();
  return json::Object{{"format", "tele-cuda-program"},
                      {"version", 1},
                      {"function", fn.getSymName()},
                      {"init_std", initStd},
                      {"arena_bytes", arena.getInt()},
                      {"inputs", std::move(inputs)},
                      {"state", std::move(state)},
                      {"masks", std::move(masks)},
                      {"constants", std::move(constants)},
                      {"outputs", std::move(outputs)},
                      {"ops", std::move(ops)},
                      {"refresh", std::move(refresh)},
                      {"steps", std::move(steps)}};
}

LogicalResult Emitter::emit(Operation *op) {
  // Where the results live.
  auto offsets = op->getAttrOfType<DenseI64ArrayAttr>(kOffsetsAttrName);
  for (OpResult r : op->getResults()) {
    int64_t bytes = bytesOf(r.getType());
    if (auto param = dyn_cast<ParamOp>(op)) {
      addState(param.getName(), r.getType(), stringifyParamInit(param.getInit()));
      refs[r] = ref("state", param.getName(), bytes);
    } else if (auto copy = dyn_cast<CachedConvertOp>(op)) {
      refs[r] = ref("state", copy.getName(), bytes);
    } else if (auto mask = dyn_cast<MaskValueOp>(op)) {
      if (maskNames.insert(mask.getName().str()).second)
        masks.push_back(mask.getName());
      refs[r] = ref("mask", mask.getName(), bytes);
    } else if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
      if (!dense || !dense.getElementType().isF32())
        return op->emitError("the CUDA program supports only dense f32 constants");
      json::Array values;
      for (APFloat f : dense.getValues<APFloat>())
        values.push_back(f.convertToDouble());
      refs[r] = ref("const", int64_t(constants.size()), bytes);
      constants.push_back(json::Object{{"values", std::move(values)}});
    } else if (StringRef entry = stateEntryUpdatedInPlace(r); !entry.empty()) {
      refs[r] = ref("state", entry, bytes);
    } else {
      if (!offsets || offsets.size() != op->getNumResults() ||
          offsets[r.getResultNumber()] < 0)
        return op->emitError("has no planned memory (run tele-plan-memory)");
      refs[r] = ref("arena", offsets[r.getResultNumber()], bytes);
    }
  }
  if (isa<ParamOp, MaskValueOp, arith::ConstantOp>(op))
    return success();
  if (auto copy = dyn_cast<CachedConvertOp>(op))
    return emitCachedConvert(copy);

  if (auto assign = dyn_cast<AssignOp>(op)) {
    addState(assign.getName(), assign.getValue().getType())["written"] = true;
    json::Object src = refOf(assign.getValue());
    if (src.getString("state") == assign.getName())
      return success(); // updated in place
    steps.push_back(json::Object{
        {"op", "tele.assign"},
        {"copy", json::Object{{"src", std::move(src)},
                              {"dst", ref("state", assign.getName(),
                                          bytesOf(assign.getValue().getType()))}}}});
    return success();
  }
  // GEMMs in cuBLAS's column-major terms: a row-major [R, C] matrix is a
  // column-major [C, R] one.
  if (auto l = dyn_cast<LinearOp>(op)) {
    auto w = l.getWeight().getType();
    int64_t N = w.getDimSize(0), K = w.getDimSize(1);
    int64_t M = cast<RankedTensorType>(l.getInput().getType()).getNumElements() / K;
    // Y[M,N] = X[M,K] W[N,K]^T  <=>  Y^T = W X^T.
    emitGemm(op, true, false, N, M, K, l.getWeight(), K, l.getInput(), K, l.getResult(), N,
             l.getAddend());
    return success();
  }
  if (auto l = dyn_cast<LinearGradInputOp>(op)) {
    auto w = l.getWeight().getType();
    int64_t N = w.getDimSize(0), K = w.getDimSize(1);
    int64_t M = cast<RankedTensorType>(l.getGrad().getType()).getNumElements() / N;
    // dX[M,K] = dY[M,N] W[N,K]  <=>  dX^T = W^T dY^T.
    emitGemm(op, false, false, K, M, N, l.getWeight(), K, l.getGrad(), N, l.getResult(), K,
             l.getAddend());
    return success();
  }
  if (auto l = dyn_cast<LinearGradWeightOp>(op)) {
    auto dy = cast<RankedTensorType>(l.getGrad().getType());
    auto x = cast<RankedTensorType>(l.getInput().getType());
    int64_t N = dy.getShape().back(), K = x.getShape().back();
    int64_t M = x.getNumElements() / K;
    // dW[N,K] = dY[M,N]^T X[M,K]  <=>  dW^T = X^T dY.
    emitGemm(op, false, true, K, N, M, l.getInput(), K, l.getGrad(), N, l.getResult(), K);
    return success();
  }
  if (auto launches = op->getAttrOfType<ArrayAttr>(kLaunchesAttrName))
    return emitLaunches(op, launches, steps);
  return op->emitError("has no GPU kernel yet (the CUDA target supports the "
                       "unmasked f32 training step; see the README's status)");
}

void Emitter::emitGemm(Operation *op, bool transA, bool transB, int64_t m,
                       int64_t n, int64_t k, Value a, int64_t lda, Value b,
                       int64_t ldb, Value c, int64_t ldc, Value addend) {
  // args: A, B, the result D, and the addend C when there is one
  // (D = A B + C in cuBLASLt's epilogue, C laid out like D).
  json::Array args{refOf(a), refOf(b), refOf(c)};
  if (addend)
    args.push_back(refOf(addend));
  steps.push_back(json::Object{
      {"op", op->getName().getStringRef()},
      {"gemm", json::Object{{"trans_a", transA}, {"trans_b", transB},
                            {"m", m}, {"n", n}, {"k", k},
                            {"lda", lda}, {"ldb", ldb}, {"ldc", ldc},
                            {"a_dtype", dtypeOf(a.getType())},
                            {"b_dtype", dtypeOf(b.getType())},
                            {"c_dtype", dtypeOf(c.getType())}}},
      {"args", std::move(args)}});
}

/// Shapes, element types and numeric attributes of an op, for tools that
/// check kernels one op at a time (the runtime's GPU kernel test).
json::Object describeOp(Operation *op, int64_t id) {
  auto types = [](TypeRange range) {
    json::Array out;
    for (Type t : range)
      out.push_back(json::Object{{"shape", json::Array(cast<RankedTensorType>(t).getShape())},
                                 {"dtype", dtypeOf(t)}});
    return out;
  };
  json::Object attrs;
  for (NamedAttribute a : op->getAttrs()) {
    if (auto f = dyn_cast<FloatAttr>(a.getValue()))
      attrs[a.getName().getValue()] = f.getValueAsDouble();
    else if (auto i = dyn_cast<IntegerAttr>(a.getValue()))
      attrs[a.getName().getValue()] = i.getInt();
    else if (isa<UnitAttr>(a.getValue()))
      attrs[a.getName().getValue()] = true;
    else if (auto segments = dyn_cast<DenseI32ArrayAttr>(a.getValue()))
      attrs[a.getName().getValue()] = json::Array(segments.asArrayRef()); // operandSegmentSizes
  }
  if (auto lr = dyn_cast<LRScheduleOp>(op))
    attrs["decay"] = stringifyDecayKind(lr.getDecay());
  json::Array workspace;
  if (auto ws = op->getAttrOfType<DenseI64ArrayAttr>(kWorkspaceAttrName))
    workspace = json::Array(ws.asArrayRef());
  return json::Object{{"id", id},
                      {"op", op->getName().getStringRef()},
                      {"operands", types(op->getOperandTypes())},
                      {"results", types(op->getResultTypes())},
                      {"attrs", std::move(attrs)},
                      {"workspace", std::move(workspace)}};
}

/// A cached copy is a state entry ("init": "derived", with its "source")
/// and the launches that make it from its source, listed under "refresh":
/// the runtime runs them before the steps where the copy is stale.
LogicalResult Emitter::emitCachedConvert(CachedConvertOp copy) {
  auto source = copy.getInput().getDefiningOp<ParamOp>();
  json::Object &entry = addState(copy.getName(), copy.getType(), "derived");
  entry["source"] = source.getName();
  if (stateIndex.count(source.getName()) &&
      state[stateIndex.lookup(source.getName())].getAsObject()->get("written"))
    return copy.emitOpError() << "copies '" << source.getName()
                              << "' after the function assigned it";
  auto launches = copy->getAttrOfType<ArrayAttr>(kLaunchesAttrName);
  if (!launches)
    return copy.emitOpError() << "has no GPU kernel (run convert-tele-to-gpu)";
  return emitLaunches(copy, launches, refresh);
}

LogicalResult Emitter::emitLaunches(Operation *op, ArrayAttr launches, json::Array &into) {
  ++opId;
  ops.push_back(describeOp(op, opId));
  // Buffers in launch-argument order: operands, results, workspaces.
  SmallVector<json::Object> buffers;
  for (Value v : op->getOperands())
    buffers.push_back(refOf(v));
  for (Value v : op->getResults())
    buffers.push_back(refOf(v));
  auto wsBytes = op->getAttrOfType<DenseI64ArrayAttr>(kWorkspaceAttrName);
  auto wsOffsets = op->getAttrOfType<DenseI64ArrayAttr>(kWorkspaceOffsetsAttrName);
  if (wsBytes) {
    if (!wsOffsets || wsOffsets.size() != wsBytes.size())
      return op->emitError("has unplanned workspaces (run tele-plan-memory)");
    for (auto [offset, bytes] : llvm::zip(wsOffsets.asArrayRef(), wsBytes.asArrayRef()))
      buffers.push_back(ref("arena", offset, bytes));
  }
  auto at = [&](int64_t i) -> FailureOr<json::Object> {
    if (i < 0 || i >= int64_t(buffers.size()))
      return op->emitError("launch argument ")
             << i << " of " << op->getName() << " is out of range (" << buffers.size()
             << " operands, results and workspaces)";
    return json::Object(buffers[i]);
  };
  StringRef name = op->getName().getStringRef();
  if (auto zeroed = op->getAttrOfType<DenseI64ArrayAttr>(kZeroedAttrName))
    for (int64_t i : zeroed.asArrayRef()) {
      auto buffer = at(i);
      if (failed(buffer))
        return failure();
      into.push_back(
          json::Object{{"op", name}, {"id", opId}, {"index", i}, {"zero", std::move(*buffer)}});
    }
  for (Attribute a : launches) {
    auto launch = cast<DictionaryAttr>(a);
    json::Array args;
    auto indices = cast<DenseI64ArrayAttr>(launch.get("args")).asArrayRef();
    for (int64_t i : indices) {
      auto buffer = at(i);
      if (failed(buffer))
        return failure();
      args.push_back(std::move(*buffer));
    }
    json::Object step{
        {"op", name},
        {"id", opId},
        {"indices", json::Array(indices)},
        {"launch", cast<SymbolRefAttr>(launch.get("kernel")).getLeafReference().getValue()},
        {"grid", json::Array(cast<DenseI64ArrayAttr>(launch.get("grid")).asArrayRef())},
        {"block", json::Array(cast<DenseI64ArrayAttr>(launch.get("block")).asArrayRef())},
        {"args", std::move(args)}};
    if (auto shared = launch.getAs<IntegerAttr>("shared_bytes"))
      step["shared_bytes"] = shared.getInt();
    into.push_back(std::move(step));
  }
  return success();
}
} // namespace

FailureOr<json::Object> mlir::tele::buildCudaProgram(func::FuncOp fn) {
  return Emitter(fn).run();
}

FailureOr<CudaProgram> mlir::tele::compileCudaProgram(ModuleOp module,
                                                      StringRef name,
                                                      StringRef chip) {
  if (!module.lookupSymbol<func::FuncOp>(name))
    return module.emitError("no function '") << name << "' to compile for CUDA";
  PassManager pm(module.getContext());
  CudaProgramPipelineOptions options;
  options.function = name.str();
  buildCudaProgramPipeline(pm, options);
  if (failed(pm.run(module)))
    return failure();
  return emitCudaProgram(module, chip);
}

FailureOr<CudaProgram> mlir::tele::emitCudaProgram(ModuleOp module,
                                                   StringRef chip) {
  auto functions = llvm::to_vector(module.getOps<func::FuncOp>());
  if (functions.size() != 1)
    return module.emitError("a CUDA program is one function, the module has ")
           << functions.size() << " (run tele-cuda-program-pipeline first)";
  func::FuncOp fn = functions.front();
  FailureOr<json::Object> program = buildCudaProgram(fn);
  if (failed(program))
    return failure();
  CudaProgram out;
  out.arenaBytes = fn->getAttrOfType<IntegerAttr>(kArenaBytesAttrName).getInt();
  out.unplannedBytes = fn->getAttrOfType<IntegerAttr>(kUnplannedBytesAttrName).getInt();
  out.program = std::move(*program);
  OwningOpRef<ModuleOp> kernels = cast<ModuleOp>(module->clone());
  keepOnlyKernels(*kernels);
  FailureOr<std::string> ptx = lowerKernelsToPTX(*kernels, chip);
  if (failed(ptx))
    return failure();
  out.ptx = std::move(*ptx);
  return out;
}
