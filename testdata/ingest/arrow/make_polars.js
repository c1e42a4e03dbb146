// make_polars.js writes the compressed Arrow fixtures of
// internal/ingest/arrowipc with Polars (npm nodejs-polars@0.26.1, whose
// native module is the Rust polars-arrow IPC writer), and beside each the
// values Polars reads back from the file it wrote (the .json files):
//
//   (cd /tmp/arw && npm install --ignore-scripts nodejs-polars@0.26.1 nodejs-polars-linux-x64-gnu@0.26.1)
//   NODE_PATH=/tmp/arw/node_modules node testdata/ingest/arrow/make_polars.js
//
// One table of 3 x 300 rows in three chunks, not rechunked (the files hold
// three record batches; Polars's stream writer writes one):
// an int64 id, an int32 with nulls, a float64 with nulls and NaN, a bool, a
// string column (utf8_view in the IPC file, large_utf8 in the stream, as
// Polars writes them), a categorical (dictionary-encoded), a date and
// datetimes in ns with a zone and in us without (the categorical in the
// stream only, see below). Written as
// lz4.feather (IPC file, LZ4_FRAME, Feather v2's default codec),
// zstd.arrow (IPC file, ZSTD) and zstd.arrows (IPC stream, ZSTD).
const pl = require('nodejs-polars');
const fs = require('fs');
const path = require('path');

const here = __dirname;
const words = ['oak', 'birch', 'willow', 'elm', 'a rather longer value past twelve bytes', ''];
function chunk(b) {
  const n = 300;
  const ids = Array.from({ length: n }, (_, i) => b * n + i);
  return pl.DataFrame({
    id: ids,
    count: ids.map((i) => (i % 7 === 0 ? null : (i * 37) % 1000 - 500)),
    ratio: ids.map((i) => (i % 11 === 0 ? null : i % 13 === 0 ? NaN : i / 8)),
    ok: ids.map((i) => i % 3 === 0),
    word: ids.map((i) => (i % 5 === 0 ? null : `${words[i % words.length]}${i % 17}`)),
    kind: ids.map((i) => (i % 9 === 0 ? null : words[i % 4])),
    day: ids.map((i) => i - 1000),
    at_ns: ids.map((i) => BigInt(1700000000) * 1000000000n + BigInt(i) * 123456789n),
    at_us: ids.map((i) => i * 3600000000 - 5e11),
  }).withColumns(
    pl.col('id').cast(pl.Int64),
    pl.col('count').cast(pl.Int32),
    pl.col('day').cast(pl.Int32).cast(pl.Date),
    pl.col('at_ns').cast(pl.Int64).cast(pl.Datetime('ns', 'America/New_York')),
    pl.col('at_us').cast(pl.Int64).cast(pl.Datetime('us')),
  );
}
// Polars gives each chunk of a categorical its own dictionary, which the IPC
// file format cannot hold (no replacement dictionaries): the files leave the
// categorical out, the stream has it (a replacement dictionary per batch).
const cat = (d) => d.withColumns(pl.col('kind').cast(pl.Categorical));
const fileDf = pl.concat([chunk(0), chunk(1), chunk(2)], { rechunk: false, how: 'vertical' }).drop('kind');
const streamDf = pl.concat([cat(chunk(0)), cat(chunk(1)), cat(chunk(2))], { rechunk: false, how: 'vertical' });

// dump renders what Polars reads: dates as days and datetimes as their
// stored integers (cast to Int32/Int64, so nothing is rounded to JS
// milliseconds), int64 as decimal strings, NaN as "NaN".
function dump(d) {
  let cast = d.withColumns(
    pl.col('day').cast(pl.Int32),
    pl.col('at_ns').cast(pl.Int64).cast(pl.Utf8),
    pl.col('at_us').cast(pl.Int64).cast(pl.Utf8),
    pl.col('id').cast(pl.Utf8),
  );
  if (d.columns.includes('kind')) cast = cast.withColumns(pl.col('kind').cast(pl.Utf8));
  const out = { rows: d.height, columns: [] };
  for (const name of cast.columns) {
    const values = cast.getColumn(name).toArray().map((x) => (x === undefined ? null : typeof x === 'number' && Number.isNaN(x) ? 'NaN' : x));
    out.columns.push({ name, type: String(d.getColumn(name).dtype), values });
  }
  return JSON.stringify(out) + '\n';
}

for (const [file, write, compression] of [['lz4.feather', 'writeIPC', 'lz4'], ['zstd.arrow', 'writeIPC', 'zstd'], ['zstd.arrows', 'writeIPCStream', 'zstd']]) {
  const p = path.join(here, file);
  const df = write === 'writeIPC' ? fileDf : streamDf;
  const bytes = df[write](null, { compression });
  fs.writeFileSync(p, bytes);
  const back = write === 'writeIPC' ? pl.readIPC(fs.readFileSync(p)) : pl.readIPCStream(fs.readFileSync(p));
  fs.writeFileSync(p + '.json', dump(back));
}
process.stdout.write(`${streamDf.height} rows: ${streamDf.columns.join(', ')}, ${streamDf.nChunks()} chunks\n`);
