// ort_run.js MODEL.onnx INPUT.json: runs MODEL with onnxruntime-node
// (npm onnxruntime-node@1.30.0, found through NODE_PATH) on the input
// {"rows": n, "cols": p, "double": bool, "data": [row-major values, null =
// NaN]} and prints {"name": {"dims": [...], "data": [...]}} for every output.
// Used by the onnxruntime-tagged Go test of internal/onnx.
const ort = require('onnxruntime-node');
const fs = require('fs');

async function main() {
  const [model, input] = process.argv.slice(2);
  const inp = JSON.parse(fs.readFileSync(input, 'utf8'));
  const vals = inp.data.map((v) => (v === null ? NaN : v));
  const arr = inp.double ? Float64Array.from(vals) : Float32Array.from(vals);
  const x = new ort.Tensor(inp.double ? 'float64' : 'float32', arr, [inp.rows, inp.cols]);
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const res = await sess.run({ [sess.inputNames[0]]: x });
  const out = {};
  for (const name of sess.outputNames) {
    const t = res[name];
    out[name] = { dims: t.dims, data: Array.from(t.data, (v) => (typeof v === 'number' && isNaN(v) ? null : v)) };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
