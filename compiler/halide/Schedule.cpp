//===- Schedule.cpp - How a kernel is computed ----------------------------===//

#include "compiler/halide/Schedule.h"

#include <algorithm>
#include <optional>

using namespace Halide;

namespace netc::halide {

/// Multiply-adds (or values) of a kernel call worth spreading over threads.
static constexpr int64_t kParallelWork = 32 * 1024;

std::string Schedule::key() const {
  return "v" + std::to_string(vectorWidth) + "t" + std::to_string(tileColumns) +
         "c" + std::to_string(channelVectors) + "b" +
         std::to_string(channelBlock) + "x" + std::to_string(columnVectors) +
         (parallel ? "p" : "s") + (rowsPerTask ? "r" : "") + "k" +
         std::to_string(reductionBlock) + "b" + std::to_string(bandRows) +
         (samplePartials ? "s" : "") + (tileRows ? "k" : "") + "u" +
         std::to_string(inputsInRegisters) + "r" + std::to_string(taskRows) +
         "x" + std::to_string(taskBlocks) + "y" + std::to_string(rowBlock) +
         (gpu ? "g1" : "");
}

/// Taps of a convolution's kernel (its width by height), 0 when unknown.
static int64_t kernelTaps(const LoweredOp &op) {
  const int64_t *kw = as_const_int(op.reduction.x.extent());
  const int64_t *kh = as_const_int(op.reduction.y.extent());
  return kw && kh ? *kw * *kh : 0;
}

Schedule defaultSchedule(const LoweredOp &op, const Target &target,
                         int64_t batch) {
  Schedule schedule;
  schedule.gpu = target.has_gpu_feature();
  schedule.vectorWidth = target.has_feature(Target::AVX512) ? 16
                         : target.has_feature(Target::AVX)  ? 8
                                                            : 4;
  // Register tile of a convolution: `channelBlock` output channels by
  // `columnVectors` vectors of output columns, about half the registers.
  schedule.channelBlock = 4;
  schedule.columnVectors = 1;
  if (op.opName.rfind("conv2d", 0) == 0 && op.outputShape.size() == 4) {
    int64_t channels = op.outputShape[1], width = op.outputShape[3];
    schedule.channelBlock = channels % 8 == 0   ? 8
                            : channels % 4 == 0 ? 4
                            : channels % 3 == 0 ? 3
                            : channels % 2 == 0 ? 2
                                                : 1;
    // Depthwise: every channel reads its own plane, so a tile of many
    // channels loads a weight for every multiply-add. Two channels keep
    // their weights (at most 9 taps each) in registers from row to row.
    int64_t taps = kernelTaps(op);
    bool depthwise =
        op.outputsPerGroup == 1 && taps > 0 && taps <= 9 && channels % 2 == 0;
    if (depthwise)
      schedule.channelBlock = 2;
    if (width >= 2 * schedule.vectorWidth && schedule.channelBlock * 2 <= 16)
      schedule.columnVectors = 2;
    // Depthwise layers do little work per row: a task takes rows, then
    // channel blocks, until it holds about 128k multiply-adds.
    const int64_t taskWork = 128 * 1024;
    int64_t height = op.outputShape[2];
    int64_t rowWork = std::max<int64_t>(1, op.work / (height * channels) *
                                               schedule.channelBlock);
    // Both divide evenly, so that every task has the same constant loops.
    auto divisorAtMost = [](int64_t n, int64_t most) {
      while (n % most)
        --most;
      return int(most);
    };
    schedule.taskRows = divisorAtMost(
        height, std::min<int64_t>(height, (taskWork + rowWork - 1) / rowWork));
    if (schedule.taskRows == height) {
      int64_t blocks = channels / schedule.channelBlock;
      int64_t blockWork = rowWork * height;
      schedule.taskBlocks = divisorAtMost(
          blocks,
          std::min<int64_t>(blocks, (taskWork + blockWork - 1) / blockWork));
    }
    // ... and two rows: each tap's sum is a chain of dependent
    // multiply-adds, four chains keep the units busy (MobileNet's 14x14
    // depthwise layers 0.079 -> 0.055 ms).
    if (depthwise && schedule.taskRows % 2 == 0)
      schedule.rowBlock = 2;
  }
  if (op.flatPixels) {
    // Pointwise convolutions on flattened planes: a register tile of
    // `channelBlock` channels by `columnVectors` vectors of pixels, the
    // most vectors (fewest loads per multiply-add) whose tiles recompute
    // at most 1/8 of the plane when its last tile shifts inwards.
    int V = schedule.vectorWidth;
    int64_t pixels = op.flatPixels, channels = op.outputShape[1];
    int64_t inputs = op.work / (pixels * channels);
    schedule.columnVectors = 1;
    for (int vectors = 3; vectors > 1; --vectors) {
      int64_t tile = vectors * V;
      int64_t covered = (pixels + tile - 1) / tile * tile;
      if (tile <= pixels && vectors * schedule.channelBlock <= 24 &&
          covered * 8 <= pixels * 9) {
        schedule.columnVectors = vectors;
        break;
      }
    }
    // A task takes tiles of at most 256 KiB of inputs, and at most an
    // eighth of the plane, with every output channel: each group of
    // channels would copy the tiles' inputs again.
    int64_t tile = int64_t(schedule.columnVectors) * V;
    int64_t tiles = (pixels + tile - 1) / tile;
    int64_t perChunk = std::clamp<int64_t>(256 * 1024 / (tile * inputs * 4), 1,
                                           (tiles + 7) / 8);
    schedule.taskRows = int(perChunk);
    schedule.taskBlocks = int(channels / schedule.channelBlock);
  }
  if (op.packedWeight) {
    int64_t channels = op.outputShape[1], width = op.outputShape[3];
    int V = schedule.vectorWidth;
    // A tile covers whole blocks of the packed weight: one, or two when
    // the channels (of every group) come in pairs of blocks.
    bool twoBlocks = channels >= 2 * kChannelBlock &&
                     op.outputsPerGroup % (2 * kChannelBlock) == 0;
    schedule.channelVectors = kChannelBlock * (twoBlocks ? 2 : 1) / V;
    // Accumulators: tileColumns by channelVectors vectors, at most 24
    // (12 of AVX2's 16 registers).
    int registers = V >= 16 ? 24 : 12;
    int maxColumns = std::max(1, registers / schedule.channelVectors);
    schedule.tileColumns = int(std::min<int64_t>({width, 8, maxColumns}));
    for (int t = std::min(12, maxColumns); t >= 4; --t)
      if (width % t == 0) {
        schedule.tileColumns = t;
        break;
      }
    if (op.phaseColumns > 1) {
      // Tiles of one phase must not straddle: they divide its columns.
      int64_t columns = width / op.phaseColumns;
      for (int t = std::min(12, maxColumns); t >= 1; --t)
        if (columns % t == 0) {
          schedule.tileColumns = t;
          break;
        }
    }
    if (twoBlocks && schedule.tileColumns > 8 && V >= 16) {
      // Wide rows: twelve columns of one block beat eight of two.
      schedule.channelVectors = kChannelBlock / V;
    }
    int64_t blockWeightBytes = op.work / (op.outputShape[2] * width) /
                               channels * V * schedule.channelVectors * 4;
    schedule.rowsPerTask = blockWeightBytes > 256 * 1024;
    // Many input channels: a task keeps the accumulators of a band of
    // rows (at most 64 KiB, in the L2 cache) and sweeps it once per block
    // of input channels, whose weights and input rows then stay in the L1
    // cache. Bands of 32 KiB (4 rows of 56 columns) reloaded each block's
    // weights too often: ResNet-50's 56x56 1x1 layers 0.90 -> 0.63 ms.
    int64_t taps = kernelTaps(op);
    int64_t inputs =
        taps ? op.work / (op.outputShape[2] * width) / channels / taps : 0;
    int block = taps == 1 ? 32 : 16;
    if (op.phaseColumns <= 1 && inputs >= 64 && inputs % block == 0 &&
        width % schedule.tileColumns == 0) {
      schedule.reductionBlock = block;
      int64_t height = op.outputShape[2];
      int64_t rowBytes = width * V * schedule.channelVectors * 4;
      for (int64_t rows = height; rows >= 1; --rows)
        if (height % rows == 0 && rows * rowBytes <= 64 * 1024) {
          schedule.bandRows = int(rows);
          break;
        }
    }
  }
  if (op.pattern == Pattern::OuterProduct) {
    // Accumulators: vectors of output channels by kernel taps, at most 24.
    int64_t outputs = op.outputShape[0];
    int64_t taps = op.outputShape[2] * op.outputShape[3];
    int64_t columns = op.outputShape[3];
    int64_t inputs = op.outputShape[1];
    bool wide = outputs >= 2 * schedule.vectorWidth;
    schedule.tileRows = taps <= 24;
    int64_t perVector = schedule.tileRows ? taps : columns;
    schedule.channelVectors = wide && 2 * perVector <= 24 ? 2 : 1;
    int64_t perInput =
        (schedule.tileRows ? taps : columns) * schedule.channelVectors;
    // A block of input channels (and kernel rows) shares each row of the
    // gradient while it is in the L1 cache: the register tile of one input
    // channel (and kernel row) after the other sweeps the row.
    // Blocks stay small enough to leave eight tasks or more.
    int64_t inRegisters = std::max<int64_t>(1, 24 / perInput);
    int64_t lanes = schedule.vectorWidth * schedule.channelVectors;
    int64_t outputBlocks = (outputs + lanes - 1) / lanes;
    int64_t shared = std::min<int64_t>(48, inputs * outputBlocks / 8);
    int64_t block = std::min<int64_t>(inputs, std::max(shared, inRegisters));
    schedule.inputsInRegisters = int(std::min(block, inRegisters));
    schedule.channelBlock =
        int(block / schedule.inputsInRegisters * schedule.inputsInRegisters);
    // Rows of 16 columns or more with a gradient of 256 KiB or less: the
    // tiles of one row, of every channel, share it from the L1 cache.
    const int64_t *gradColumns = as_const_int(op.reduction.x.extent());
    int64_t partialBytes = outputs * inputs * taps * 4;
    schedule.samplePartials =
        gradColumns && *gradColumns >= 16 && partialBytes <= 256 * 1024;
  }
  // Small kernels run on one thread: waking the pool costs more. So do
  // kernels of a few million multiply-adds on small outputs (ResNet-20's
  // 3x3 convolutions on 16x32x32): each thread would read rows the other
  // wrote, and two threads took longer than one (42-56 us against 37).
  int64_t outputBytes = 4 * batch;
  for (size_t i = 1; i < op.outputShape.size(); ++i)
    outputBytes *= std::max<int64_t>(1, op.outputShape[i]);
  schedule.parallel =
      op.work * batch >= kParallelWork &&
      (op.work * batch >= 4 * 1024 * 1024 || outputBytes >= 128 * 1024);
  return schedule;
}

namespace {

/// Splits the first dimension of `acc`'s reduction into `ro` and V vector
/// lanes `u` of partial sums (rfactor), computed at the output's loop `at`
/// and stored lanes innermost, so each partial sum is one contiguous
/// vector. Returns them.
Func laneSums(LoweredOp &op, Func &acc, const Var &at, int V, RVar ro, Var u) {
  RVar ri("ri");
  acc.update().split(op.reduction.x, ro, ri, V, TailStrategy::GuardWithIf);
  Func partial = acc.update().rfactor(ri, u);
  std::vector<Var> dims = partial.args();
  std::rotate(dims.begin(), dims.end() - 1, dims.end());
  partial.compute_at(op.output, at).reorder_storage(dims).vectorize(u);
  return partial;
}

/// Threads over a fused channel-and-batch loop `cn` whose iterations are
/// planes of `plane` values: each task takes enough planes for about 16k
/// values, so small planes do not cost a task each.
void parallelPlanes(Stage f, const Var &cn, int64_t plane) {
  int64_t planes = 16384 / std::max<int64_t>(1, plane);
  if (planes > 1)
    f.parallel(cn, int(planes), TailStrategy::GuardWithIf);
  else
    f.parallel(cn);
}

/// Threads over bands of rows, then over groups of planes (`cn`: channels
/// and batch), each task about 16k values. The pool hands each thread a
/// contiguous share of a loop's tasks, so with the bands outermost a thread
/// takes the same rows of every plane from kernel to kernel, as the
/// convolutions' tasks do, and reads what it wrote itself from its own
/// cache instead of from another core's (MobileNet's global average pool
/// took 27 us on a layer half written by the other core, 12 on its own).
/// Returns the loops of a band's rows and of its planes, where the caller
/// may place stages computed per row.
std::optional<std::pair<Var, Var>> parallelBands(Stage f, const Var &y,
                                                 const Var &cn, int64_t rows,
                                                 int64_t plane) {
  if (rows < 2) {
    parallelPlanes(f, cn, plane);
    return std::nullopt;
  }
  int64_t bands = rows >= 8 ? 4 : 2;
  int64_t bandRows = (rows + bands - 1) / bands;
  int64_t bandValues = std::max<int64_t>(1, plane / rows * bandRows);
  int planes = int(std::max<int64_t>(1, 16384 / bandValues));
  Var yo("yo"), yi("yi"), co("co"), ci("ci"), task("task");
  f.split(y, yo, yi, int(bandRows), TailStrategy::GuardWithIf)
      .split(cn, co, ci, planes, TailStrategy::GuardWithIf)
      .reorder(yi, ci, co, yo)
      .fuse(co, yo, task)
      .parallel(task);
  return std::make_pair(yi, ci);
}

/// A max pool's input with its border of -infinity, one row at a time as
/// the output's rows need it (kept for the next rows that read it): the
/// windows then load whole vectors, where reading through the border
/// gathered the first and last vector of every row, tap by tap.
void borderRows(LoweredOp &op, const Schedule &schedule, const Var &row,
                const Var &plane) {
  Func &padded = op.paddedInput;
  padded.store_at(op.output, plane)
      .compute_at(op.output, row)
      .vectorize(padded.args()[0], schedule.vectorWidth,
                 TailStrategy::GuardWithIf);
}

/// The stage of `out` that should spread over threads: all of it when the
/// schedule is parallel; otherwise (little work per sample) a version of it
/// for batches large enough to pay for waking the thread pool.
std::optional<Stage> threadedStage(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output;
  if (schedule.parallel)
    return Stage(out);
  if (op.outputShape.empty() || op.outputShape[0] != -1)
    return std::nullopt;
  int64_t batch = (kParallelWork + op.work - 1) / std::max<int64_t>(1, op.work);
  int last = out.dimensions() - 1;
  return out.specialize(out.output_buffer().dim(last).extent() >= int(batch));
}

/// Elementwise and pooling outputs: threads over channels and batch,
/// vectors over columns (over columns and rows when rows are short).
void scheduleSimple(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output;
  std::vector<Var> &v = op.vars;
  int V = schedule.vectorWidth;
  if (v.size() == 4) {
    int64_t width = op.outputShape[3];
    Var cn("cn"), xy("xy");
    out.fuse(v[2], v[3], cn);
    // Windows (pooling) read neighbouring columns: over rows and columns
    // at once their vectors would gather, so narrow rows take narrower
    // vectors, the last one shifted inwards.
    bool windows = op.opName.find("pool2d") != std::string::npos;
    int lanes = V;
    while (windows && lanes > 4 && width < lanes)
      lanes /= 2;
    bool rows = true;
    if (width >= V) {
      out.vectorize(v[0], V, TailStrategy::GuardWithIf);
    } else if (windows && width >= lanes) {
      out.vectorize(v[0], lanes, TailStrategy::ShiftInwards);
    } else {
      out.fuse(v[0], v[1], xy).vectorize(xy, V, TailStrategy::GuardWithIf);
      rows = false;
    }
    int64_t height = op.outputShape[2];
    bool border = rows && op.paddedInput.defined();
    std::optional<Stage> threaded = threadedStage(op, schedule);
    if (threaded && rows) {
      auto loops = parallelBands(*threaded, v[1], cn, height, width * height);
      // A threaded version beside a serial one: its loops are its own.
      if (border && loops && schedule.parallel)
        borderRows(op, schedule, loops->first, loops->second);
    } else if (threaded) {
      parallelPlanes(*threaded, cn, width * height);
    } else if (border) {
      borderRows(op, schedule, v[1], cn);
    }
  } else if (v.size() == 1) {
    out.vectorize(v[0], V, TailStrategy::GuardWithIf);
  } else {
    out.vectorize(v[0], V, TailStrategy::GuardWithIf);
    if (std::optional<Stage> threaded = threadedStage(op, schedule))
      threaded->parallel(v.back());
  }
}

/// The zero-bordered input of a convolution, materialized once for the whole
/// batch, so the inner loop loads plain values instead of selecting at every
/// tap.
void materializePadding(LoweredOp &op, const Schedule &schedule) {
  if (!op.paddedInput.defined())
    return;
  Func &padded = op.paddedInput;
  std::vector<Var> args = padded.args();
  Var cn("cn");
  padded.compute_root()
      .fuse(args[2], args[3], cn)
      .vectorize(args[0], schedule.vectorWidth, TailStrategy::GuardWithIf);
  if (schedule.parallel && op.paddedRows)
    parallelBands(padded, args[1], cn, op.paddedRows, op.paddedPlane);
  else if (schedule.parallel)
    parallelPlanes(padded, cn, op.paddedPlane);
}

/// Direct convolution on NCHW: each task computes a block of output
/// channels for one sample; the register tile is `channelBlock` channels by
/// `columnVectors` vectors of columns, accumulated over input channels and
/// kernel taps, then written out once.
void scheduleConv(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output, &conv = op.accumulator;
  Var x = op.vars[0], y = op.vars[1], c = op.vars[2], n = op.vars[3];
  int V = schedule.vectorWidth, CB = schedule.channelBlock;
  int64_t width = op.outputShape[3];
  int tileWidth = width < V ? V : V * schedule.columnVectors;
  Var xo("xo"), xi("xi"), co("co"), ci("ci"), task("task");
  Var yo("yo"), yi("yi"), cg("cg"), cb("cb");
  // Without a border the last tile of a row shifts inwards, so that no
  // tile reads past the input's edge.
  TailStrategy lastTile = op.paddedInput.defined() ? TailStrategy::GuardWithIf
                                                   : TailStrategy::ShiftInwards;
  int R = schedule.rowBlock;
  out.split(x, xo, xi, tileWidth, lastTile)
      .split(c, co, ci, CB, TailStrategy::GuardWithIf)
      .split(y, yo, yi, schedule.taskRows, TailStrategy::GuardWithIf)
      .split(co, cg, cb, schedule.taskBlocks, TailStrategy::GuardWithIf);
  if (R > 1) {
    // The tile's rows (taskRows is a multiple of R).
    Var yt("yt"), yr("yr");
    out.split(yi, yt, yr, R)
        .reorder(xi, ci, yr, xo, yt, cb, cg, yo, n)
        .unroll(yr);
  } else {
    out.reorder(xi, ci, xo, yi, cb, cg, yo, n);
  }
  // Rows outermost in the tasks: a thread's share is bands of rows (see
  // parallelBands).
  out.vectorize(xi, V, TailStrategy::GuardWithIf)
      .fuse(cg, yo, task)
      .fuse(task, n, task);
  if (CB > 1)
    out.unroll(ci);
  if (schedule.parallel)
    out.parallel(task);

  // The accumulation covers whole vectors (RoundUp): masked updates of the
  // accumulators would stall on every tap. The extra columns read the
  // zero border and are never stored.
  conv.compute_at(out, xo).vectorize(x, V, TailStrategy::RoundUp);
  if (CB > 1)
    conv.unroll(c);
  if (R > 1)
    conv.unroll(y);
  RDom &r = op.reduction;
  conv.update()
      .reorder(x, c, y, r.x, r.y, r.z)
      .vectorize(x, V, TailStrategy::RoundUp);
  if (CB > 1)
    conv.update().unroll(c);
  if (R > 1)
    conv.update().unroll(y);
  // Depthwise tiles unroll their taps: the rows that both output rows
  // read are loaded once (MobileNet's depthwise layers 2-5% faster).
  if (R > 1 && kernelTaps(op) <= 9)
    conv.update().unroll(r.x).unroll(r.y);

  // When the channels of a task read only their own groups' inputs
  // (depthwise layers), each task borders just the rows it reads, while
  // they are in cache; otherwise the input is bordered once for all.
  if (op.paddedInput.defined() && op.outputsPerGroup > 0 &&
      op.outputsPerGroup <= CB) {
    Func &padded = op.paddedInput;
    padded.compute_at(out, task).vectorize(padded.args()[0], V,
                                           TailStrategy::GuardWithIf);
  } else {
    materializePadding(op, schedule);
  }
}

/// A pointwise convolution on flattened planes: a register tile of
/// `channelBlock` output channels by `columnVectors` vectors of pixels sums
/// over all input channels, then stores whole vectors of the NCHW output.
/// A task takes `taskRows` tiles of a plane by `taskBlocks` channel
/// blocks; each tile's inputs are copied once into a contiguous block that
/// stays in the L1 cache while every channel block sums over it (read in
/// place, a tile's inputs come from a new row of the plane at every input
/// channel: MobileNet's 56x56 pointwise layer 1.1 -> 0.6 ms).
void scheduleConvFlat(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output, &conv = op.accumulator;
  Var p = op.vars[0], c = op.vars[1], n = op.vars[2];
  int V = schedule.vectorWidth, CB = schedule.channelBlock;
  Var po("po"), pi("pi"), pu("pu"), pv("pv"), co("co"), ci("ci");
  Var chunk("chunk"), pt("pt"), cg("cg"), cb("cb"), task("task");
  // The plane's last tile shifts inwards: every tile is whole.
  out.split(p, po, pi, V * schedule.columnVectors, TailStrategy::ShiftInwards)
      .split(pi, pu, pv, V)
      .split(c, co, ci, CB, TailStrategy::GuardWithIf)
      .split(po, chunk, pt, schedule.taskRows, TailStrategy::GuardWithIf)
      .split(co, cg, cb, schedule.taskBlocks, TailStrategy::GuardWithIf)
      .reorder(pv, pu, ci, cb, pt, chunk, cg, n)
      .vectorize(pv)
      .unroll(pu)
      .unroll(ci)
      .fuse(chunk, cg, task)
      .fuse(task, n, task);
  if (schedule.parallel)
    out.parallel(task);
  // The tile's inputs, copied to a contiguous block (pixels innermost)
  // that stays in the L1 cache while every channel block sweeps it.
  Func staged = op.args[0].in();
  std::vector<Var> sa = staged.args();
  staged.compute_at(out, pt).vectorize(sa[0], V, TailStrategy::GuardWithIf);
  std::vector<Var> a = conv.args();
  Var ao("ao"), av("av");
  conv.compute_at(out, cb)
      .split(a[0], ao, av, V)
      .reorder(av, ao, a[1])
      .vectorize(av)
      .unroll(ao)
      .unroll(a[1]);
  conv.update()
      .split(a[0], ao, av, V)
      .reorder(av, ao, a[1], op.reduction.x)
      .vectorize(av)
      .unroll(ao)
      .unroll(a[1]);
}

/// The accumulator of a packed convolution over a band of rows, computed
/// at the output's `task`: the register tile of `tileColumns` columns by
/// `blocks` channel blocks sweeps the band once per `reductionBlock` input
/// channels, adding to the sums kept in memory.
void scheduleBandAccumulator(LoweredOp &op, const Schedule &schedule,
                             const Var &task, int blocks) {
  Func &conv = op.accumulator;
  RDom &r = op.reduction;
  std::vector<Var> a = conv.args();
  Var vo("vo"), vi("vi"), xo("xo"), xi("xi");
  RVar ro("ro"), ri("ri");
  int V = schedule.vectorWidth;
  conv.compute_at(op.output, task)
      .bound_extent(a[0], kChannelBlock)
      .bound_extent(a[1], int(op.outputShape[3]))
      .bound_extent(a[2], schedule.bandRows)
      .bound_extent(a[3], blocks);
  conv.split(a[0], vo, vi, V, TailStrategy::GuardWithIf)
      .reorder(vi, vo, a[3], a[1])
      .vectorize(vi)
      .unroll(vo)
      .unroll(a[3]);
  conv.update()
      .split(a[0], vo, vi, V, TailStrategy::GuardWithIf)
      .split(a[1], xo, xi, schedule.tileColumns, TailStrategy::GuardWithIf)
      .split(r.z, ro, ri, schedule.reductionBlock, TailStrategy::GuardWithIf)
      // A column's input, broadcast once, meets every channel vector of
      // the tile before the next column's: one broadcast register live.
      .reorder(vi, vo, a[3], xi, r.x, r.y, ri, xo, a[2], ro)
      .vectorize(vi)
      .unroll(xi)
      .unroll(vo)
      .unroll(a[3]);
}

/// Convolution with packed weights: a register tile of output columns by
/// blocks of output channels (channels innermost in the tile and in the
/// packed weight, whose blocks the tile streams in order), accumulated over
/// input channels and taps, then transposed in registers into the NCHW
/// output.
void scheduleConvPacked(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output, &conv = op.accumulator;
  // Phased outputs are (px, xq, py, yq, c, n): x and y stand for xq and
  // the rows of all phases (py, yq).
  int S = op.phaseColumns;
  std::vector<Var> &v = op.vars;
  Var x = v[S > 1 ? 1 : 0], y = S > 1 ? Var("rows") : v[1], c = v[v.size() - 2],
      n = v.back();
  int V = schedule.vectorWidth, T = schedule.tileColumns;
  int lanes = V * schedule.channelVectors;
  int blocks = std::max(1, lanes / kChannelBlock);
  Var xo("xo"), xi("xi"), co("co"), ci("ci"), task("task");
  // Tiles shift inwards at the right edge (recomputing a few outputs) so
  // that every tile has the same constant size and unrolls fully. Tiles of
  // channels stay aligned to the weight's blocks: the last one computes
  // channels past the end (their weights are zero) and stores only the
  // real ones.
  int64_t outChannels = op.outputShape[1];
  out.split(x, xo, xi, T, TailStrategy::ShiftInwards)
      .split(c, co, ci, lanes,
             outChannels % lanes == 0 ? TailStrategy::RoundUp
                                      : TailStrategy::GuardWithIf);
  // Phases: a tile is T columns of one phase, every S-th column.
  Var tileAt = xo;
  if (S > 1) {
    tileAt = v[0];
    out.reorder(xi, ci, tileAt, xo, v[2], v[3], co, n).fuse(v[2], v[3], y);
  } else {
    out.reorder(xi, ci, xo, y, co, n);
  }
  if (schedule.reductionBlock) {
    // A band of rows per task: its accumulators stay in cache while the
    // tiles sweep the band one block of input channels at a time.
    Var yo("yo"), yi("yi");
    // Bands outermost: a thread's share of the tasks is rows (see
    // parallelBands), each band with every channel block.
    out.split(y, yo, yi, schedule.bandRows, TailStrategy::ShiftInwards)
        .reorder(yi, co, yo)
        .fuse(co, yo, task)
        .fuse(task, n, task);
  } else if (schedule.rowsPerTask) {
    // The weights of a channel block are too large to stay in cache from
    // task to task: each task sweeps all rows with one block.
    out.fuse(co, n, task);
  } else {
    // Rows outermost, as above.
    out.reorder(co, y).fuse(co, y, task).fuse(task, n, task);
  }
  // The tile's rows of output columns are whole vectors (masked when the
  // tile is narrower than a vector); with whole channel blocks, the tile is
  // first transposed in registers into a small buffer (below).
  bool transposed = T >= 4 && S == 1 && outChannels % lanes == 0;
  if (T >= 4 && S == 1)
    out.vectorize(xi);
  if (schedule.parallel)
    out.parallel(task);

  // The accumulator is (channel in block, x, y, block, n[, phase]).
  RDom &r = op.reduction;
  std::vector<Var> a = conv.args();
  Var vo("vo"), vi("vi");
  if (transposed) {
    // The accumulator's channel-major block of the tile, loaded whole and
    // transposed in registers into a column-major copy, from which every
    // channel's row of columns stores as one vector. Transposing straight
    // into the output scattered: its rows are a plane apart, and the
    // stores went out one value at a time (14x14 pointwise layers 9%
    // faster without).
    Func tile = conv.in(out);
    tile.compute_at(out, xo)
        .bound_extent(a[0], kChannelBlock)
        .bound_extent(a[1], T)
        .reorder_storage(a[1], a[0], a[2], a[3], a[4])
        .reorder(a[1], a[0], a[2], a[3], a[4])
        .vectorize(a[1])
        .vectorize(a[0])
        .unroll(a[3]);
    out.unroll(ci);
  }
  if (schedule.reductionBlock) {
    scheduleBandAccumulator(op, schedule, task, blocks);
    materializePadding(op, schedule);
    return;
  }
  conv.compute_at(out, tileAt)
      .bound_extent(a[0], kChannelBlock)
      .bound_extent(a[1], T)
      .bound_extent(a[3], blocks);
  if (S > 1)
    conv.bound_extent(a[2], 1).bound_extent(a[5], 1);
  conv.split(a[0], vo, vi, V, TailStrategy::GuardWithIf)
      .reorder(vi, a[1], vo, a[3])
      .vectorize(vi)
      .unroll(a[1])
      .unroll(vo)
      .unroll(a[3]);
  conv.update()
      .split(a[0], vo, vi, V, TailStrategy::GuardWithIf)
      // Channel vectors innermost: one broadcast of a column serves all.
      .reorder(vi, vo, a[3], a[1], r.x, r.y, r.z)
      .vectorize(vi)
      .unroll(a[1])
      .unroll(vo)
      .unroll(a[3]);

  materializePadding(op, schedule);
}

/// Dense and rbf: each output is a dot product; its reduction is split into
/// vector lanes of partial sums (rfactor), added up at the end. A thread
/// task takes 16 outputs for the whole batch, their weight rows staying in
/// cache from sample to sample.
void scheduleDense(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output, &acc = op.accumulator;
  Var f = op.vars[0], n = op.vars[1];
  int V = schedule.vectorWidth;
  const int64_t *extent = Internal::as_const_int(op.reduction.x.extent());
  int64_t inputs = extent ? *extent : 0;
  Var fo("fo"), fi("fi"), fb("fb"), fv("fv");
  out.split(f, fo, fi, 16, TailStrategy::GuardWithIf)
      .split(fi, fb, fv, 4, TailStrategy::GuardWithIf)
      .reorder(fv, fb, n, fo);
  if (schedule.parallel)
    out.parallel(fo);
  // Four outputs at a time: their sums are independent chains of adds.
  Var af = acc.args()[0];
  acc.compute_at(out, fb).unroll(af, 4, TailStrategy::GuardWithIf);
  RVar summed = op.reduction.x;
  if (inputs >= 4 * V) {
    Var u("u");
    RVar ro("ro");
    Func partial = laneSums(op, acc, fb, V, ro, u);
    std::vector<Var> pa = partial.args();
    partial.update()
        .reorder(u, pa[1], ro)
        .vectorize(u)
        .unroll(pa[1], 4, TailStrategy::GuardWithIf);
    summed = RVar("ri"); // what laneSums leaves of the reduction: the lanes
  }
  acc.update().reorder(af, summed).unroll(af, 4, TailStrategy::GuardWithIf);
}

/// Image-shaped stages of a kernel (a pooling window's maximum, where a
/// gradient scatters to): computed for the whole batch first, vectors along
/// the columns, threads over channels and batch; their updates alike.
void scheduleImageStages(LoweredOp &op, const Schedule &schedule) {
  int V = schedule.vectorWidth;
  for (Func &stage : op.stages) {
    std::vector<Var> args = stage.args();
    if (args.size() != 4)
      continue;
    Var cn("cn");
    std::vector<Stage> steps = {stage};
    for (int u = 0; u < stage.num_update_definitions(); ++u)
      steps.push_back(stage.update(u));
    for (Stage &step : steps) {
      step.fuse(args[2], args[3], cn)
          .vectorize(args[0], V, TailStrategy::GuardWithIf);
      if (schedule.parallel)
        step.parallel(cn);
    }
  }
}

/// Vectors along the output's first dimension, each accumulating its sum
/// over the reduction in registers; threads over the outermost dimension
/// (rank 2) or over channels and batch (rank 4).
void scheduleGather(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output, &acc = op.accumulator;
  std::vector<Var> &v = op.vars;
  int V = schedule.vectorWidth;
  Var xo("xo"), xi("xi"), task("task");
  out.split(v[0], xo, xi, V, TailStrategy::GuardWithIf).vectorize(xi);
  if (v.size() == 4) {
    out.fuse(v[2], v[3], task);
    if (schedule.parallel)
      out.parallel(task);
  } else if (v.size() >= 2 && schedule.parallel) {
    out.parallel(v.back());
  }
  acc.compute_at(out, xo).vectorize(v[0], V, TailStrategy::GuardWithIf);
  acc.update().vectorize(v[0], V, TailStrategy::GuardWithIf);
  // Image-shaped stages (the windows' maxima of a pooling gradient).
  scheduleImageStages(op, schedule);
}

/// A small output (a weight's or a channel's gradient) summed over batch
/// and image: one thread task per outermost index; the reduction's first
/// dimension (image columns) is split into vector lanes of partial sums,
/// and the loops over the output's other dimensions run inside the loop
/// over rows, so each row of the inputs is reused from cache.
void scheduleReduce(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output, &acc = op.accumulator;
  std::vector<Var> &v = op.vars;
  int V = schedule.vectorWidth;
  Var outer = v.back();
  if (schedule.parallel)
    out.parallel(outer);
  acc.compute_at(out, outer);
  materializePadding(op, schedule);
  // Lanes of partial sums along the image columns: a vector's worth, or
  // half a vector for rows of 8 to 15 (14x14 maps).
  const int64_t *columns = Internal::as_const_int(op.reduction.x.extent());
  int lanes = !columns ? 0 : *columns >= V ? V : *columns >= 8 ? 8 : 0;
  if (!lanes)
    return;
  RVar ro("ro");
  Var u("u");
  Func partial = laneSums(op, acc, outer, lanes, ro, u);
  std::vector<VarOrRVar> order = {u};
  for (size_t i = 0; i + 1 < v.size(); ++i)
    order.push_back(v[i]);
  order.push_back(ro);
  for (int i = 1; i < op.reduction.dimensions(); ++i)
    order.push_back(op.reduction[i]);
  order.push_back(outer);
  partial.update().reorder(order).vectorize(u);
}

/// Weight gradients over large images with few channels: each sample's
/// sums go to its own partial gradient (one thread task per sample), and
/// every tile of it sweeps one row of the gradient, transposed for that row
/// only, while the row and its inputs are in the L1 cache. The partials are
/// added up at the end.
void scheduleSamplePartials(LoweredOp &op, const Schedule &schedule) {
  Func &acc = op.accumulator;
  RDom &r = op.reduction;
  int V = schedule.vectorWidth, U = schedule.inputsInRegisters;
  int lanes = V * schedule.channelVectors;
  Var u("u");
  Func partial = acc.update().rfactor(r.z, u);
  std::vector<Var> a = acc.args();     // (o, kx, ky, i)
  std::vector<Var> p = partial.args(); // (o, kx, ky, i, u)
  int64_t outputs = op.outputShape[0];
  Var ao("ao"), av("av"), oo("oo"), ov("ov"), ib("ib"), iu("iu");
  acc.compute_root().vectorize(a[0], V, TailStrategy::GuardWithIf);
  acc.update().vectorize(a[0], V, TailStrategy::GuardWithIf);
  partial.compute_root()
      .bound(p[0], 0, int((outputs + lanes - 1) / lanes * lanes))
      .vectorize(p[0], V)
      .parallel(p[4]);
  Stage update = partial.update();
  update.split(p[0], oo, ov, lanes)
      .split(ov, ao, av, V)
      .split(p[3], ib, iu, U, TailStrategy::GuardWithIf)
      .vectorize(av)
      .unroll(ao)
      .unroll(p[1])
      .unroll(iu);
  std::vector<VarOrRVar> order = {av, ao, p[1]};
  if (schedule.tileRows)
    order.push_back(p[2]);
  order.push_back(iu);
  order.push_back(r.x);
  if (!schedule.tileRows)
    order.push_back(p[2]);
  for (VarOrRVar v :
       {VarOrRVar(ib), VarOrRVar(oo), VarOrRVar(r.y), VarOrRVar(p[4])})
    order.push_back(v);
  update.reorder(order);
  if (schedule.tileRows)
    update.unroll(p[2]);
  update.parallel(p[4]);
  Func &transposed = op.stages.back();
  std::vector<Var> t = transposed.args();
  transposed.compute_at(partial, r.y).vectorize(t[0], V, TailStrategy::RoundUp);
  materializePadding(op, schedule);
}

/// Weight gradients as outer products: for each input channel and kernel
/// row, a register tile of one vector of output channels by every kernel
/// column, accumulated over batch and image positions, then written out
/// transposed.
void scheduleOuterProduct(LoweredOp &op, const Schedule &schedule) {
  if (schedule.samplePartials) {
    scheduleSamplePartials(op, schedule);
    return;
  }
  Func &out = op.output, &acc = op.accumulator;
  Var kx = op.vars[0], ky = op.vars[1], i = op.vars[2], o = op.vars[3];
  int V = schedule.vectorWidth;
  // The tile: `channelVectors` vectors of output channels by every kernel
  // column, and every kernel row when that still fits the registers; a
  // task covers `channelBlock` input channels, so it streams the gradient
  // once for that many.
  int lanes = V * schedule.channelVectors, block = schedule.channelBlock;
  Var oo("oo"), oi("oi"), io("io"), ii("ii");
  out.split(o, oo, oi, lanes, TailStrategy::GuardWithIf)
      .split(i, io, ii, block, TailStrategy::ShiftInwards);
  // One thread task per tile: blocks of output channels, (kernel rows,)
  // and input channels, so that layers with few input channels (a
  // network's first) still spread over the threads.
  Var task("task");
  out.reorder(oi, kx, ky, ii, oo, io).fuse(oo, io, task);
  if (schedule.parallel)
    out.parallel(task);
  std::vector<Var> a = acc.args(); // (o, kx, ky, i)
  int U = schedule.inputsInRegisters;
  Var ao("ao"), av("av"), iu("iu"), ib("ib");
  acc.compute_at(out, task)
      .bound_extent(a[3], block)
      .split(a[0], ao, av, V, TailStrategy::RoundUp)
      .vectorize(av)
      .unroll(ao)
      .unroll(a[1]);
  if (schedule.tileRows)
    acc.unroll(a[2]);
  RDom &r = op.reduction;
  Stage update = acc.update();
  update.split(a[0], ao, av, V, TailStrategy::RoundUp)
      .split(a[3], ib, iu, U, TailStrategy::GuardWithIf)
      .vectorize(av)
      .unroll(ao)
      .unroll(a[1])
      .unroll(iu);
  // Registers: vectors of output channels by the taps of U input channels
  // (of one kernel row), swept along a row of the gradient; then the next
  // U input channels (kernel row) of the block over the same row, from
  // the cache.
  // Short rows (7x7 maps): the sweep covers the whole image instead.
  const int64_t *columns = Internal::as_const_int(r.x.extent());
  bool wholeImage = columns && *columns < 16;
  std::vector<VarOrRVar> order = {av, ao, a[1]};
  if (schedule.tileRows)
    order.push_back(a[2]);
  order.push_back(iu);
  order.push_back(r.x);
  if (wholeImage)
    order.push_back(r.y);
  if (!schedule.tileRows)
    order.push_back(a[2]);
  order.push_back(ib);
  if (!wholeImage)
    order.push_back(r.y);
  order.push_back(r.z);
  update.reorder(order);
  if (schedule.tileRows)
    update.unroll(a[2]);
  // The transposed gradient: whole for the batch, one task per sample.
  Func &transposed = op.stages.back();
  std::vector<Var> t = transposed.args();
  transposed.compute_root().vectorize(t[0], V, TailStrategy::RoundUp);
  if (schedule.parallel)
    transposed.parallel(t[3]);
  materializePadding(op, schedule);
}

/// A scatter (`sum(f(r)) += …` over a reduction) into one plane at a time:
/// the stages it reads (a pooling window's maximum) and its sums are
/// computed per plane, threads over channels and batch, which it never
/// crosses.
void scheduleScatter(LoweredOp &op, const Schedule &schedule) {
  Func &out = op.output, &dx = op.accumulator;
  std::vector<Var> &v = op.vars;
  int V = schedule.vectorWidth;
  Var cn("cn");
  // One task per plane: the windows' maxima, the zeros and the scatter of
  // a plane stay in cache; the output is written once.
  out.fuse(v[2], v[3], cn).vectorize(v[0], V, TailStrategy::GuardWithIf);
  if (schedule.parallel)
    out.parallel(cn);
  dx.compute_at(out, cn).vectorize(dx.args()[0], V, TailStrategy::GuardWithIf);
  for (Func &stage : op.stages) {
    std::vector<Var> args = stage.args();
    stage.compute_at(out, cn).vectorize(args[0], V, TailStrategy::GuardWithIf);
    for (int u = 0; u < stage.num_update_definitions(); ++u)
      stage.update(u).vectorize(args[0], V, TailStrategy::GuardWithIf);
  }
}

} // namespace

void applySchedule(LoweredOp &op, const Schedule &schedule) {
  if (schedule.gpu)
    return applyGpuSchedule(op);
  for (Func &stage : op.stages)
    stage.compute_root();
  if (op.pattern == Pattern::Gather)
    return scheduleGather(op, schedule);
  if (op.pattern == Pattern::Reduce)
    return scheduleReduce(op, schedule);
  if (op.pattern == Pattern::OuterProduct)
    return scheduleOuterProduct(op, schedule);
  if (op.pattern == Pattern::Scatter)
    return scheduleScatter(op, schedule);
  bool conv = op.opName.rfind("conv2d", 0) == 0;
  if (conv && op.flatPixels)
    scheduleConvFlat(op, schedule);
  else if (conv && op.packedWeight)
    scheduleConvPacked(op, schedule);
  else if (conv)
    scheduleConv(op, schedule);
  else if (op.accumulator.defined())
    scheduleDense(op, schedule);
  else
    scheduleSimple(op, schedule);
}

} // namespace netc::halide
