// check_gyre_avro.js reads the Avro container files Gyre wrote
// (gyre_written.deflate.avro, gyre_written.snappy.avro: see
// TestWriteAvroReadByAvsc in internal/ingest/avrofile_test.go) with avsc
// (npm avsc@5.7.7, a pure-JavaScript Avro implementation) and writes the
// records it decodes beside each file (FILE.avsc.json), longs as numbers.
// Snappy blocks are decoded here (raw snappy, then the big-endian CRC-32
// of the uncompressed bytes the Avro specification appends), independently
// of Gyre's Go code.
//
//   (cd /tmp/arw && npm install --ignore-scripts avsc@5.7.7)
//   NODE_PATH=/tmp/arw/node_modules node testdata/ingest/avro/check_gyre_avro.js
const avro = require('avsc');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const here = __dirname;

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (const b of buf) {
    c = (crc ^ b) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// snappyDecode decodes the raw snappy block format.
function snappyDecode(src) {
  let pos = 0, len = 0, shift = 0;
  for (;;) {
    const b = src[pos++];
    len |= (b & 0x7f) << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  const out = Buffer.alloc(len);
  let op = 0;
  while (pos < src.length) {
    const tag = src[pos++];
    const type = tag & 3;
    if (type === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let i = 0; i < bytes; i++) n |= src[pos++] << (8 * i);
      }
      n += 1;
      src.copy(out, op, pos, pos + n);
      pos += n;
      op += n;
      continue;
    }
    let n, off;
    if (type === 1) {
      n = ((tag >>> 2) & 7) + 4;
      off = ((tag >>> 5) << 8) | src[pos++];
    } else if (type === 2) {
      n = (tag >>> 2) + 1;
      off = src[pos] | (src[pos + 1] << 8);
      pos += 2;
    } else {
      n = (tag >>> 2) + 1;
      off = src.readUInt32LE(pos);
      pos += 4;
    }
    if (off === 0 || off > op) throw new Error('snappy: bad offset');
    for (let i = 0; i < n; i++, op++) out[op] = out[op - off];
  }
  if (op !== len) throw new Error('snappy: length mismatch');
  return out;
}

const codecs = {
  deflate: zlib.inflateRaw,
  snappy: (buf, cb) => {
    try {
      const data = snappyDecode(buf.subarray(0, buf.length - 4));
      if (crc32(data) !== buf.readUInt32BE(buf.length - 4)) return cb(new Error('snappy block: CRC mismatch'));
      cb(null, data);
    } catch (e) {
      cb(e);
    }
  },
};

for (const codec of ['deflate', 'snappy']) {
  const file = path.join(here, `gyre_written.${codec}.avro`);
  if (!fs.existsSync(file)) continue;
  const recs = [];
  avro.createFileDecoder(file, {codecs})
    .on('metadata', (type, c) => {
      if (c !== codec) throw new Error(`${file}: codec ${c}`);
    })
    .on('data', (r) => recs.push(Object.assign({}, r)))
    .on('end', () => {
      fs.writeFileSync(file + '.avsc.json', JSON.stringify(recs, null, 1) + '\n');
      console.log(`${file}: ${recs.length} records`);
    });
}
