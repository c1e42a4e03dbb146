// make_avro.js writes the Avro fixtures of internal/ingest/avro and
// kafkasource with avsc (npm avsc@5.7.7, a pure-JavaScript Avro
// implementation), and beside them the values avsc reads back:
//
//   (cd /tmp/arw && npm install --ignore-scripts avsc@5.7.7)
//   NODE_PATH=/tmp/arw/node_modules node testdata/ingest/avro/make_avro.js
//
// readings.avsc is an IoT-style record (strings, long, float, a nullable
// double, boolean, enum, timestamp-millis, date, decimal(9,2) bytes, a
// nested record, an array, a map, a uuid string and a nullable record);
// readings_v2.avsc adds a field (a schema change mid-topic). It writes
//   readings.avro        a container file, deflate codec, blocks of about 1,500 bytes
//   readings_null.avro   the same records, null codec
//   readings.messages.json  per message: the bare binary datum (hex), the
//                        schema version it uses, and the record avsc reads
//                        back (longs as numbers, decimals as numbers, bytes
//                        as base64).
const avro = require('avsc');
const fs = require('fs');
const path = require('path');

const here = __dirname;

// Decimal as a logical type on bytes: unscaled big-endian two's complement.
class Decimal extends avro.types.LogicalType {
  constructor(attrs, opts) {
    super(attrs, opts);
    this._scl = attrs.scale || 0;
    this._precision = attrs.precision;
  }
  // Keep precision and scale in the schema avsc writes to file headers.
  _export(attrs) {
    attrs.precision = this._precision;
    attrs.scale = this._scl;
  }
  _fromValue(buf) {
    let n = 0n;
    for (const b of buf) n = (n << 8n) | BigInt(b);
    if (buf.length && buf[0] & 0x80) n -= 1n << BigInt(8 * buf.length);
    return Number(n) / 10 ** this._scl;
  }
  _toValue(x) {
    let n = BigInt(Math.round(x * 10 ** this._scl));
    const bytes = [];
    for (;;) {
      bytes.unshift(Number(n & 0xffn));
      n >>= 8n;
      if ((n === 0n && !(bytes[0] & 0x80)) || (n === -1n && bytes[0] & 0x80)) break;
    }
    return Buffer.from(bytes);
  }
}
// Time, date and uuid values kept as their stored numbers and strings; the
// classes exist so that avsc keeps the logicalType in the schemas it writes
// (it drops the ones it does not know).
class Same extends avro.types.LogicalType {
  _fromValue(v) { return v; }
  _toValue(v) { return v; }
}
const logicalTypes = { decimal: Decimal, 'timestamp-millis': Same, date: Same, uuid: Same };

const v1 = {
  type: 'record', name: 'Reading', namespace: 'gyre.iot',
  fields: [
    { name: 'device', type: 'string' },
    { name: 'seq', type: 'long' },
    { name: 'temp', type: 'float' },
    { name: 'humidity', type: ['null', 'double'], default: null },
    { name: 'ok', type: 'boolean' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['IDLE', 'RUNNING', 'FAULT'] } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } },
    { name: 'loc', type: { type: 'record', name: 'Loc', fields: [{ name: 'lat', type: 'double' }, { name: 'lon', type: 'double' }] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'int' } },
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'extra', type: ['null', { type: 'record', name: 'Extra', fields: [{ name: 'note', type: 'string' }, { name: 'level', type: 'int' }] }], default: null },
  ],
};
const v2 = JSON.parse(JSON.stringify(v1));
v2.fields.push({ name: 'battery', type: ['null', 'float'], default: null });
fs.writeFileSync(path.join(here, 'readings.avsc'), JSON.stringify(v1, null, 2) + '\n');
fs.writeFileSync(path.join(here, 'readings_v2.avsc'), JSON.stringify(v2, null, 2) + '\n');
const t1 = avro.Type.forSchema(v1, { logicalTypes });
const t2 = avro.Type.forSchema(v2, { logicalTypes });

const devices = ['pump-1', 'pump-2', 'fan-7', 'valve-3'];
function reading(i, v2) {
  const r = {
    device: devices[i % devices.length],
    seq: 1e12 + i * 7919,
    temp: Math.fround(20 + (i % 37) * 0.37 - 3),
    humidity: i % 5 === 0 ? null : 40 + (i % 23) * 1.5,
    ok: i % 3 !== 0,
    status: ['IDLE', 'RUNNING', 'FAULT'][i % 3],
    at: Date.UTC(2026, 11, 7, 9, 0, 0) + i * 1500,
    day: 20429 - (i % 30),
    price: ((i * 137) % 100000) / 100 - 250,
    loc: { lat: 48.85 + i / 1000, lon: 2.35 - i / 2000 },
    tags: i % 4 === 0 ? [] : ['t' + (i % 3), 'zone' + (i % 2)],
    attrs: i % 6 === 0 ? {} : { rpm: 1000 + i, errors: i % 7 },
    id: `00000000-0000-4000-8000-${String(100000000000 + i)}`,
    extra: i % 7 === 0 ? { note: `check ${i}`, level: i % 4 } : null,
  };
  if (v2) r.battery = i % 2 ? null : Math.fround(3.3 - i / 1000);
  return r;
}

const N = 200;
const records = Array.from({ length: N }, (_, i) => reading(i, false));
function writeFile(name, codec) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const codecs = { deflate: require('zlib').deflateRaw, null: (b, cb) => cb(null, b) };
    const enc = new avro.streams.BlockEncoder(t1, { codec, codecs, blockSize: 1500 });
    enc.on('data', (c) => chunks.push(c));
    enc.on('end', () => { fs.writeFileSync(path.join(here, name), Buffer.concat(chunks)); resolve(); });
    enc.on('error', reject);
    for (const r of records) enc.write(r);
    enc.end();
  });
}

function readBack(name) {
  return new Promise((resolve, reject) => {
    const out = [];
    fs.createReadStream(path.join(here, name))
      .pipe(new avro.streams.BlockDecoder({ parseHook: (s) => avro.Type.forSchema(s, { logicalTypes }) }))
      .on('data', (r) => out.push(r))
      .on('end', () => resolve(out))
      .on('error', reject);
  });
}

const plain = (r) => JSON.parse(JSON.stringify(r, (k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('base64') : v)));

async function main() {
  await writeFile('readings.avro', 'deflate');
  await writeFile('readings_null.avro', 'null');
  for (const f of ['readings.avro', 'readings_null.avro']) {
    const back = await readBack(f);
    fs.writeFileSync(path.join(here, f + '.json'), JSON.stringify(back.map(plain)) + '\n');
  }
  // Messages: 60 of v1 then 40 of v2 (the schema changes mid-topic).
  const msgs = [];
  for (let i = 0; i < 100; i++) {
    const v = i >= 60 ? 2 : 1;
    const t = v === 2 ? t2 : t1;
    const buf = t.toBuffer(reading(i, v === 2));
    msgs.push({ version: v, hex: buf.toString('hex'), record: plain(t.fromBuffer(buf)) });
  }
  fs.writeFileSync(path.join(here, 'readings.messages.json'), JSON.stringify(msgs) + '\n');
  process.stdout.write(`${records.length} records in the files, ${msgs.length} messages\n`);
}
main().catch((e) => { process.stderr.write(String(e.stack || e) + '\n'); process.exit(1); });
