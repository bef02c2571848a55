// Times an ONNX model under ONNX Runtime (CPU): median milliseconds of
// `iters` runs after warm-up, printed as JSON.
//   node ort_bench.js MODEL.onnx N,C,H,W THREADS ITERS
const ort = require('onnxruntime-node');

async function main() {
  const [model, shapeText, threads, iters] = process.argv.slice(2);
  const shape = shapeText.split(',').map(Number);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({length: size}, () => Math.random() - 0.5);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, shape)};
  for (let i = 0; i < 3; ++i) await session.run(feeds);
  const times = [];
  const deadline = Date.now() + 60000;
  for (let i = 0; i < Number(iters); ++i) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (Date.now() > deadline && i >= 2) break;
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({median_ms: times[Math.floor(times.length / 2)]}));
}
main().catch((e) => { console.error(e); process.exit(1); });
