//===- Plot.cpp - loss curves of a training run ---------------------------===//
//
// This file implements `tele plot`: it reads metrics.jsonl and draws the
// training and validation loss against the step, with a mark at each growth
// event, as an SVG file and as a compact text chart for the terminal.
//
//===----------------------------------------------------------------------===//

#include "tele/Tools/Commands.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::tele;

namespace {
struct Series {
  std::vector<std::pair<double, double>> train, val; ///< (step, loss)
  std::vector<std::pair<double, std::string>> growths; ///< (step, label)
};

void writeSvg(const Series &s, llvm::raw_ostream &os) {
  const double W = 800, H = 420, L = 60, R = 20, T = 30, B = 50;
  double maxStep = 1, lo = INFINITY, hi = -INFINITY;
  for (auto *pts : {&s.train, &s.val})
    for (auto [x, y] : *pts) {
      maxStep = std::max(maxStep, x);
      lo = std::min(lo, y);
      hi = std::max(hi, y);
    }
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  auto px = [&](double x) { return L + (W - L - R) * x / maxStep; };
  auto py = [&](double y) { return T + (H - T - B) * (hi - y) / (hi - lo); };
  os << llvm::formatv("<svg xmlns='http://www.w3.org/2000/svg' width='{0}' "
                      "height='{1}' font-family='sans-serif' font-size='12'>\n",
                      W, H);
  os << "<rect width='100%' height='100%' fill='white'/>\n";
  os << llvm::formatv("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='black'/>\n",
                      L, H - B, W - R);
  os << llvm::formatv("<line x1='{0}' y1='{1}' x2='{0}' y2='{2}' stroke='black'/>\n",
                      L, T, H - B);
  for (int i = 0; i <= 4; ++i) {
    double y = lo + (hi - lo) * i / 4;
    os << llvm::formatv("<text x='{0}' y='{1}' text-anchor='end'>{2:f2}</text>\n",
                        L - 5, py(y) + 4, y);
    double x = maxStep * i / 4;
    os << llvm::formatv("<text x='{0}' y='{1}' text-anchor='middle'>{2:f0}</text>\n",
                        px(x), H - B + 16, x);
  }
  os << llvm::formatv("<text x='{0}' y='{1}' text-anchor='middle'>optimizer "
                      "step</text>\n",
                      (W + L) / 2, H - 10);
  for (auto &[x, label] : s.growths) {
    os << llvm::formatv("<line x1='{0}' y1='{1}' x2='{0}' y2='{2}' "
                        "stroke='gray' stroke-dasharray='4 3'/>\n",
                        px(x), T, H - B);
    os << llvm::formatv("<text x='{0}' y='{1}' fill='gray'>{2}</text>\n",
                        px(x) + 3, T + 12, label);
  }
  auto polyline = [&](const std::vector<std::pair<double, double>> &pts,
                      StringRef color) {
    if (pts.empty())
      return;
    os << "<polyline fill='none' stroke='" << color << "' stroke-width='1.5' points='";
    for (auto [x, y] : pts)
      os << llvm::formatv("{0:f1},{1:f1} ", px(x), py(y));
    os << "'/>\n";
  };
  polyline(s.train, "steelblue");
  polyline(s.val, "darkorange");
  os << llvm::formatv("<text x='{0}' y='20' fill='steelblue'>train loss</text>"
                      "<text x='{1}' y='20' fill='darkorange'>validation "
                      "loss</text>\n",
                      L + 10, L + 110);
  os << "</svg>\n";
}

/// A text chart: 64 columns of per-bucket mean training loss, growth marks
/// on the axis line.
void writeText(const Series &s, llvm::raw_ostream &os) {
  const int cols = 64, rows = 12;
  if (s.train.empty())
    return;
  double maxStep = s.train.back().first;
  std::vector<double> sum(cols, 0), count(cols, 0);
  for (auto [x, y] : s.train) {
    int c = std::min(cols - 1, int((x - 1) / std::max(1.0, maxStep) * cols));
    sum[c] += y;
    count[c] += 1;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (int c = 0; c < cols; ++c)
    if (count[c]) {
      lo = std::min(lo, sum[c] / count[c]);
      hi = std::max(hi, sum[c] / count[c]);
    }
  if (!(hi > lo))
    hi = lo + 1;
  for (int r = 0; r < rows; ++r) {
    double top = hi - (hi - lo) * r / rows, bottom = hi - (hi - lo) * (r + 1) / rows;
    os << llvm::formatv("{0,7:f3} |", top);
    for (int c = 0; c < cols; ++c) {
      double v = count[c] ? sum[c] / count[c] : NAN;
      os << (v <= top && v > bottom - 1e-12 ? '*' : ' ');
    }
    os << "\n";
  }
  std::string axis(cols, '-');
  for (auto &[x, label] : s.growths)
    axis[std::min(cols - 1, int(x / std::max(1.0, maxStep) * cols))] = 'G';
  os << "        +" << axis << "\n";
  os << llvm::formatv("         step 0{0,57}\n", int64_t(maxStep));
  if (!s.growths.empty())
    os << "         G = growth\n";
}
} // namespace

LogicalResult mlir::tele::plotMetrics(MLIRContext *ctx, StringRef metricsPath,
                                      StringRef svgPath) {
  auto buffer = llvm::MemoryBuffer::getFile(metricsPath);
  if (!buffer)
    return emitError(UnknownLoc::get(ctx))
           << "cannot read " << metricsPath << ": "
           << buffer.getError().message();
  Series s;
  SmallVector<StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n', -1, false);
  for (auto [i, line] : llvm::enumerate(lines)) {
    auto value = llvm::json::parse(line);
    if (!value) {
      llvm::consumeError(value.takeError());
      return emitError(FileLineColLoc::get(ctx, metricsPath, i + 1, 1))
             << "not a JSON object";
    }
    auto *obj = value->getAsObject();
    if (!obj)
      continue;
    std::optional<double> step = obj->getNumber("step");
    if (!step)
      continue;
    if (auto event = obj->getString("event")) {
      std::string label = (*event).str();
      if (auto kind = obj->getString("kind"))
        label = (*kind + " " + label).str();
      s.growths.push_back({*step, label});
      continue;
    }
    if (auto loss = obj->getNumber("loss"))
      s.train.push_back({*step, *loss});
    if (auto val = obj->getNumber("val_loss"))
      s.val.push_back({*step, *val});
  }
  if (s.train.empty())
    return emitError(UnknownLoc::get(ctx))
           << metricsPath << " has no training records";
  writeText(s, llvm::outs());
  if (!svgPath.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(svgPath, ec);
    if (ec)
      return emitError(UnknownLoc::get(ctx))
             << "cannot write " << svgPath << ": " << ec.message();
    writeSvg(s, os);
    os.close();
    if (os.has_error()) {
      os.clear_error();
      return emitError(UnknownLoc::get(ctx)) << "cannot write " << svgPath;
    }
    llvm::outs() << "loss curve: " << svgPath << "\n";
  }
  return success();
}
