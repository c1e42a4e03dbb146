// make_arrow.js writes the Arrow fixtures of internal/ingest's Arrow tests
// (today: that Arrow input is refused by name; the tables for a future reader)
// with the official JavaScript implementation (npm apache-arrow@18.1.0):
//
//   (cd /tmp/arw && npm install --ignore-scripts apache-arrow@18.1.0)
//   NODE_PATH=/tmp/arw/node_modules node testdata/ingest/arrow/make_arrow.js
//
// From the held-out penguins rows (testdata/modelimport/penguins.csv) it
// writes the same table as an IPC file (penguins.arrow), as Feather v2
// (penguins.feather: the IPC file format under Feather's extension) and as
// an IPC stream (penguins.arrows). Columns: species (dictionary-encoded
// utf8), bill_length_mm (float64, with nulls), body_mass_g (int32, with
// nulls), gentoo (bool), row (int64), observed (timestamp[ms] without a zone: a day
// per row from 2007-11-10, made up for the test) and note (utf8 with nulls).
const arrow = require('apache-arrow');
const fs = require('fs');
const path = require('path');

const here = __dirname;
const csv = fs.readFileSync(path.join(here, '..', '..', 'modelimport', 'penguins.csv'), 'utf8').trim().split('\n');
const head = csv[0].split(',');
const rows = csv.slice(1).map((l) => l.split(','));
const col = (name) => rows.map((r) => r[head.indexOf(name)]);
const num = (s) => (s === '' ? null : Number(s));

const species = col('species');
const table = new arrow.Table({
  species: arrow.vectorFromArray(species, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
  bill_length_mm: arrow.vectorFromArray(col('bill_length_mm').map(num), new arrow.Float64()),
  body_mass_g: arrow.vectorFromArray(col('body_mass_g').map(num), new arrow.Int32()),
  gentoo: arrow.vectorFromArray(species.map((s) => s === 'Gentoo'), new arrow.Bool()),
  row: arrow.vectorFromArray(rows.map((_, i) => BigInt(i + 1)), new arrow.Int64()),
  observed: arrow.vectorFromArray(rows.map((_, i) => Date.UTC(2007, 10, 10) + i * 86400000), new arrow.TimestampMillisecond()),
  note: arrow.vectorFromArray(rows.map((_, i) => (i % 5 === 0 ? null : `n${i}`)), new arrow.Utf8()),
});
fs.writeFileSync(path.join(here, 'penguins.arrow'), arrow.tableToIPC(table, 'file'));
fs.writeFileSync(path.join(here, 'penguins.feather'), arrow.tableToIPC(table, 'file'));
fs.writeFileSync(path.join(here, 'penguins.arrows'), arrow.tableToIPC(table, 'stream'));
process.stdout.write(`${table.numRows} rows: ${table.schema.fields.map((f) => `${f.name}:${f.type}`).join(', ')}\n`);
