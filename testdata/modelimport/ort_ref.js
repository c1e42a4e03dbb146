// ort_ref.js: the onnxruntime references of the ONNX import fixtures. For
// each graph below it reads the held-out rows (CSV, empty = missing), runs
// the graph with onnxruntime-node (npm onnxruntime-node@1.30.0, found
// through NODE_PATH) and writes NAME.pred.csv with its predictions ("pred0"
// for a regressor's value, "pred0..predK-1" for class probabilities). For
// hgb_multi_double.onnx, whose reference is scikit-learn's, it prints
// onnxruntime's largest difference from that reference instead.
//
//   NODE_PATH=/tmp/ort/node_modules node testdata/modelimport/ort_ref.js
const ort = require('onnxruntime-node');
const fs = require('fs');
const path = require('path');

const here = __dirname;

function readRows(csv, cols) {
  const lines = fs.readFileSync(path.join(here, csv), 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const idx = cols.map((c) => head.indexOf(c));
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    return idx.map((i) => (f[i] === '' ? NaN : Number(f[i])));
  });
}

async function run(model, rows, double) {
  const p = rows[0].length;
  const flat = rows.flat();
  const x = new ort.Tensor(double ? 'float64' : 'float32', double ? Float64Array.from(flat) : Float32Array.from(flat), [rows.length, p]);
  const sess = await ort.InferenceSession.create(path.join(here, model), { intraOpNumThreads: 1 });
  const res = await sess.run({ [sess.inputNames[0]]: x });
  const out = res[sess.outputNames.includes('probabilities') ? 'probabilities' : 'variable'];
  const k = out.dims[1];
  return rows.map((_, i) => Array.from(out.data.slice(i * k, (i + 1) * k)));
}

function write(name, preds) {
  const k = preds[0].length;
  const head = Array.from({ length: k }, (_, j) => 'pred' + j).join(',');
  const body = preds.map((r) => r.map((v) => String(v)).join(',')).join('\n');
  fs.writeFileSync(path.join(here, name), head + '\n' + body + '\n');
}

async function main() {
  const mpg = ['cylinders', 'displacement', 'horsepower', 'weight', 'acceleration', 'model_year'];
  write('hgb_reg_float.pred.csv', await run('hgb_reg_float.onnx', readRows('auto_mpg.csv', mpg), false));
  const pima = ['pregnancies', 'glucose', 'blood_pressure', 'skin_thickness', 'insulin', 'bmi', 'diabetes_pedigree', 'age'];
  write('hgb_binary_cast.pred.csv', await run('hgb_binary_cast.onnx', readRows('pima.csv', pima), true));
  // Equality splits (BRANCH_EQ chains, BRANCH_NEQ; written by
  // GYRE_WRITE_FIXTURES=1 go test ./internal/modelimport -run TestONNXEqualitySplits).
  const eq = readRows('eq_rows.csv', ['f0', 'f1', 'f2']);
  write('eq_float.pred.csv', await run('eq_float.onnx', eq, false));
  write('eq_double.pred.csv', await run('eq_double.onnx', eq, true));
  // ai.onnx.ml opset 5 TreeEnsemble with BRANCH_MEMBER sets (written by
  // GYRE_WRITE_FIXTURES=1 go test ./internal/modelimport -run TestONNXOpset5Member).
  const mem = readRows('member5_rows.csv', ['f0', 'f1', 'f2']);
  write('member5_float.pred.csv', await run('member5_float.onnx', mem, false));
  write('member5_double.pred.csv', await run('member5_double.onnx', mem, true));
  const peng = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g'];
  const got = await run('hgb_multi_double.onnx', readRows('penguins.csv', peng), true);
  const ref = fs.readFileSync(path.join(here, 'hgb_multi_double.pred.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  let worst = 0;
  got.forEach((r, i) => r.forEach((v, c) => { worst = Math.max(worst, Math.abs(v - ref[i][c])); }));
  process.stdout.write(`hgb_multi_double.onnx: onnxruntime differs from scikit-learn by at most ${worst}\n`);
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
