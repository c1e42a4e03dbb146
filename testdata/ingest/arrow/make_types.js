// make_types.js writes the type-coverage fixtures of internal/ingest/arrowipc
// with the official JavaScript implementation (npm apache-arrow@18.1.0), and
// beside each the values that library reads back from the file it wrote
// (the .json files), which the Go tests compare against:
//
//   (cd /tmp/arw && npm install --ignore-scripts apache-arrow@18.1.0)
//   NODE_PATH=/tmp/arw/node_modules node testdata/ingest/arrow/make_types.js
//
// types.arrow (IPC file) and types.arrows (IPC stream) hold one table in
// three record batches: every integer width signed and unsigned (a uint64
// at 2^63-1 and a uint8 at 255), float16/32/64, bool, utf8 and large_utf8,
// date32[day] and date64[ms], timestamps in each unit with and without a
// zone, a dictionary<utf8, int8> column (one dictionary in the file, a replacement
// dictionary per batch in the stream), and nulls in every column.
// unsupported.arrow adds a list<int32>, a struct and a binary column to an
// int column, for the errors that name them. big.arrow is a uint64 above
// 2^63-1 (an error naming the row).
const arrow = require('apache-arrow');
const fs = require('fs');
const path = require('path');

const here = __dirname;
const N = 9; // rows, three per batch
const pick = (vals) => Array.from({ length: N }, (_, i) => (i % 4 === 3 ? null : vals[i % vals.length]));
const day = 86400000;
const cols = {
  i8: [pick([-128, 0, 127, 5]), new arrow.Int8()],
  i16: [pick([-32768, 1, 32767]), new arrow.Int16()],
  i32: [pick([-2147483648, 2, 2147483647]), new arrow.Int32()],
  i64: [pick([-9223372036854775808n, 3n, 9223372036854775807n]), new arrow.Int64()],
  u8: [pick([0, 255, 7]), new arrow.Uint8()],
  u16: [pick([0, 65535, 8]), new arrow.Uint16()],
  u32: [pick([0, 4294967295, 9]), new arrow.Uint32()],
  u64: [pick([0n, 9223372036854775807n, 10n]), new arrow.Uint64()],
  f16: [pick([1.5, -0.25, 65504, 0.0001]), new arrow.Float16()],
  f32: [pick([3.25, -1e30, 0.1]), new arrow.Float32()],
  f64: [pick([Math.PI, -2.5e-300, 1e300, NaN]), new arrow.Float64()],
  flag: [pick([true, false, false]), new arrow.Bool()],
  text: [pick(['alpha', '', 'γάμμα', 'a "quoted", text']), new arrow.Utf8()],
  large: [pick(['x', 'yy', 'zzz', 'wwww', 'v']), new arrow.LargeUtf8()],
  d32: [pick([0, 19000 * day, -3653 * day]), new arrow.DateDay()],
  d64: [pick([day, 20000 * day, -day]), new arrow.DateMillisecond()],
  ts_s: [pick([1700000000000, -1000, 0]), new arrow.TimestampSecond()],
  ts_ms: [pick([1700000000123, 1, -1]), new arrow.TimestampMillisecond('UTC')],
  ts_us: [pick([1700000000123, 2, 86400000]), new arrow.TimestampMicrosecond('Europe/Paris')],
  ts_ns: [pick([1700000000123, 3, 4102444800000]), new arrow.TimestampNanosecond('+05:30')],
};
const dictValues = ['red', 'green', 'red', 'blue', 'green', 'violet', 'red', 'amber', 'blue'];

const colourType = () => new arrow.Dictionary(new arrow.Utf8(), new arrow.Int8());
const colourOf = (lo, hi) => arrow.vectorFromArray(dictValues.slice(lo, hi).map((v, i) => ((lo + i) % 4 === 3 ? null : v)), colourType());
function batchTable(lo, hi, colour) {
  const vecs = {};
  for (const [name, [vals, type]] of Object.entries(cols)) {
    vecs[name] = arrow.vectorFromArray(vals.slice(lo, hi), type);
  }
  vecs.colour = colour || colourOf(lo, hi);
  return new arrow.Table(vecs);
}
// The stream's batches each carry their own dictionary (replacement
// dictionaries); the file's share one (the file format allows no
// replacement), sent once.
const streamTable = batchTable(0, 3).concat(batchTable(3, 6), batchTable(6, 9));
const colours = colourOf(0, N);
const fileTable = batchTable(0, 3, colours.slice(0, 3)).concat(batchTable(3, 6, colours.slice(3, 6)), batchTable(6, 9, colours.slice(6, 9)));

// dump renders what the library reads: integers and BigInts as decimal
// strings, floats as numbers (NaN as "NaN"), dates and timestamps as epoch
// milliseconds (the library's unit), dictionary values as their strings.
function dump(t) {
  const out = { rows: t.numRows, batches: t.batches.length, columns: [] };
  for (const f of t.schema.fields) {
    const v = t.getChild(f.name);
    const values = [];
    for (let i = 0; i < v.length; i++) {
      let x = v.get(i);
      if (x === null || x === undefined) x = null;
      else if (typeof x === 'bigint') x = x.toString();
      else if (x instanceof Date) x = x.getTime();
      else if (typeof x === 'number' && Number.isNaN(x)) x = 'NaN';
      values.push(x);
    }
    out.columns.push({ name: f.name, type: String(f.type), values });
  }
  return JSON.stringify(out, null, 1) + '\n';
}

for (const [file, kind, table] of [['types.arrow', 'file', fileTable], ['types.arrows', 'stream', streamTable]]) {
  fs.writeFileSync(path.join(here, file), arrow.tableToIPC(table, kind));
  const back = arrow.tableFromIPC(fs.readFileSync(path.join(here, file)));
  fs.writeFileSync(path.join(here, file + '.json'), dump(back));
}

const unsupported = new arrow.Table({
  id: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()),
  tags: arrow.vectorFromArray([[1, 2], [], [3]], new arrow.List(new arrow.Field('item', new arrow.Int32()))),
  point: arrow.vectorFromArray([{ x: 1, y: 2 }, { x: 3, y: 4 }, null], new arrow.Struct([new arrow.Field('x', new arrow.Int32()), new arrow.Field('y', new arrow.Int32())])),
  blob: arrow.vectorFromArray([new Uint8Array([1]), new Uint8Array([2, 3]), null], new arrow.Binary()),
  after: arrow.vectorFromArray(['a', 'b', 'c'], new arrow.Utf8()),
});
fs.writeFileSync(path.join(here, 'unsupported.arrow'), arrow.tableToIPC(unsupported, 'file'));
const big = new arrow.Table({ n: arrow.vectorFromArray([1n, 9223372036854775808n], new arrow.Uint64()) });
fs.writeFileSync(path.join(here, 'big.arrow'), arrow.tableToIPC(big, 'file'));
process.stdout.write(`${streamTable.numRows} rows in ${streamTable.batches.length} batches: ${streamTable.schema.fields.map((f) => `${f.name}:${f.type}`).join(', ')}\n`);
