/**
 * The SQLite flow store with real worker threads and files: what is written is what queries
 * return (checked against totals computed here, and against the row-per-flow SQL it replaced for
 * random queries), filters and groups, the bounded queue, query timeouts, retention by age (a
 * chunk straddling the limit trimmed), retention by size under constant input: the file stops
 * growing; a database of the row-per-flow layout is refused with FLOWDB_ERR_LAYOUT, untouched.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { addressRange, flowAddressText } from '../../src/flows/flow-address.js';
import { CHUNK_SLICE_MS } from '../../src/flows/store/chunk-codec.js';
import { openSqliteFlowReader, openSqliteFlowStore, type SqliteFlowStore } from '../../src/flows/store/sqlite.js';
import type { FlowQuerySpec } from '../../src/flows/types.js';
import type { FlowBatch } from '../../src/packet/flow/types.js';
import { flowBatch, syntheticBatch } from '../fakes/flow-batch.js';
import { assertSameResult, randomBatches, randomSpec } from '../fakes/flow-specs.js';
import { memoryLogger } from '../fakes/logger.js';
import { rng } from '../fakes/rng.js';
import { rowFlowDatabase, rowFlowQuery } from '../fakes/row-flow-oracle.js';
import { sleep } from '../lab/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'wpt-flowdb-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fileSize = (path: string): number => {
  let n = 0;
  for (const s of ['', '-wal']) {
    try {
      n += statSync(path + s).size;
    } catch {
      // absent
    }
  }
  return n;
};

function inRange(col: Uint8Array, i: number, cidr: string): boolean {
  const r = addressRange(cidr)!;
  const a = col.subarray(i * 16, i * 16 + 16);
  return Buffer.compare(a, r.lo) >= 0 && Buffer.compare(a, r.hi) <= 0;
}

void describe('sqlite flow store: writes and queries', () => {
  let store: SqliteFlowStore;
  const now = Date.now();
  const batches: FlowBatch[] = [];
  before(async () => {
    store = await openSqliteFlowStore({
      config: { path: join(dir, 'q.db'), retention: { max_age: 0, max_bytes: 0 }, batch_size: 5000, flush_interval: 0.2 },
      log: memoryLogger().log,
      maxQueuedRows: 200_000,
    });
    for (let i = 0; i < 20; i++) batches.push(syntheticBatch(5000, 100 + i, now - 3_600_000, now));
    // the store takes the buffers over: keep copies of the truth first
    const truth = batches.map((b) => ({ ...b, src: b.src.slice(), dst: b.dst.slice(), bytes: b.bytes.slice(), endMs: b.endMs.slice(), dstPort: b.dstPort.slice(), proto: b.proto.slice() }));
    for (const b of batches) store.write(b);
    batches.splice(0, batches.length, ...truth);
    store.write(
      flowBatch([
        { src: '2001:db8:1::5', dst: '198.19.0.9', srcPort: 5353, dstPort: 53, proto: 17, bytes: 777, packets: 3, endMs: now - 1000, exporter: '2001:db8:ffff::9', inIf: 77, outIf: 78 },
      ]),
    );
    await store.flush(60_000);
  });
  after(() => store.close(10_000));

  const span = (over: Partial<FlowQuerySpec>): FlowQuerySpec => ({ fromMs: now - 3_600_000, toMs: now + 1, filter: {}, orderBy: 'bytes', limit: 10, ...over });

  void test('the written batches\' buffers come back for the collector to decode into, a few at most', () => {
    const spares: ArrayBuffer[] = [];
    for (let b = store.takeSpare(); b !== undefined; b = store.takeSpare()) spares.push(b);
    assert.equal(spares.length, 4);
    for (const b of spares) assert.ok(b.byteLength > 0, 'not detached');
  });

  void test('every row is written; the totals equal the sum of what was written', async () => {
    assert.equal(store.stats().written, 100_001);
    assert.equal(store.stats().queued, 0);
    const r = await store.query(span({}), 10_000);
    const bytes = batches.reduce((n, b) => n + b.bytes.reduce((a, x) => a + x, 0), 0) + 777;
    assert.equal(r.totals.flows, 100_001);
    assert.equal(r.totals.bytes, bytes);
  });

  void test('a CIDR filter (IPv4 and IPv6) and group by dst_port match a computation over the batches', async () => {
    for (const cidr of ['198.18.7.0/24', '2001:db8::/32']) {
      const field = cidr.includes(':') ? 'dst' : 'src';
      const expect = new Map<number, { flows: number; bytes: number }>();
      for (const b of batches) {
        for (let i = 0; i < b.count; i++) {
          if (!inRange(b[field], i, cidr)) continue;
          const e = expect.get(b.dstPort[i]!) ?? { flows: 0, bytes: 0 };
          e.flows++;
          e.bytes += b.bytes[i]!;
          expect.set(b.dstPort[i]!, e);
        }
      }
      if (field === 'dst') expect.delete(-1);
      const r = await store.query(span({ filter: { [field]: [cidr] }, groupBy: 'dst_port', limit: 100 }), 10_000);
      const got = new Map(r.rows.map((row) => [row.key['dst_port'] as number, { flows: row.flows, bytes: row.bytes }]));
      assert.deepEqual(got, expect, cidr);
      assert.ok(got.size > 0);
    }
  });

  void test('address text, exporter, interfaces, protocol and port filters; ungrouped rows newest first', async () => {
    const r = await store.query(span({ filter: { addr: ['2001:db8:1::5'], proto: [17], port: [5353], exporter: ['2001:db8:ffff::9'], inIf: [77], outIf: [78] }, orderBy: 'flows' }), 10_000);
    assert.equal(r.rows.length, 1);
    const k = r.rows[0]!.key;
    assert.equal(k['src'], '2001:db8:1::5');
    assert.equal(k['dst'], '198.19.0.9');
    assert.equal(k['exporter'], '2001:db8:ffff::9');
    assert.equal(k['end'], new Date(now - 1000).toISOString());
    assert.deepEqual([r.rows[0]!.bytes, r.totals.flows], [777, 1]);
    const none = await store.query(span({ filter: { addr: ['2001:db8:1::5'], proto: [6] } }), 10_000);
    assert.equal(none.totals.flows, 0);
    const newest = await store.query(span({ orderBy: 'flows', limit: 50 }), 10_000);
    const ends = newest.rows.map((row) => Date.parse(String(row.key['end'])));
    assert.deepEqual(ends, [...ends].sort((a, b) => b - a));
  });

  void test('group by conversation, src, exporter: top-N ordered, others = totals - rows', async () => {
    for (const groupBy of ['conversation', 'src', 'exporter', 'proto', 'in_if'] as const) {
      const r = await store.query(span({ groupBy, limit: 5 }), 10_000);
      assert.ok(r.rows.length > 0 && r.rows.length <= 5, groupBy);
      const bytes = r.rows.map((row) => row.bytes);
      assert.deepEqual(bytes, [...bytes].sort((a, b) => b - a), groupBy);
      assert.ok(r.rows.reduce((n, row) => n + row.flows, 0) <= r.totals.flows);
    }
    const top = await store.query(span({ groupBy: 'src', limit: 1, filter: { src: ['198.18.0.0/16'] } }), 10_000);
    // the top source's bytes, computed here
    const per = new Map<string, number>();
    for (const b of batches) for (let i = 0; i < b.count; i++) per.set(flowAddressText(b.src, i * 16), (per.get(flowAddressText(b.src, i * 16)) ?? 0) + b.bytes[i]!);
    const best = [...per.entries()].sort((a, b) => b[1] - a[1])[0]!;
    assert.deepEqual([top.rows[0]!.key['src'], top.rows[0]!.bytes], best);
  });

  void test('a query that overruns its timeout is interrupted with FLOWDB_ERR_QUERY_TIMEOUT; the next query works', async () => {
    const t0 = Date.now();
    await assert.rejects(store.query(span({ groupBy: 'conversation', fromMs: 0 }), 2), { code: 'FLOWDB_ERR_QUERY_TIMEOUT' });
    assert.ok(Date.now() - t0 < 1500, 'interrupted, not run to the end');
    assert.equal((await store.query(span({}), 10_000)).totals.flows, 100_001);
  });

  void test('a bad CIDR in a spec is a coded error, not a crash', async () => {
    await assert.rejects(store.query(span({ filter: { src: ['300.1.1.0/24'] } }), 10_000), { code: 'FLOWDB_ERR_QUERY_INVALID' });
  });
});

void test('sqlite flow store: the queue is bounded; what does not fit is dropped and counted, never blocking', async () => {
  const store = await openSqliteFlowStore({
    config: { path: join(dir, 'bounded.db'), retention: { max_age: 0, max_bytes: 0 }, batch_size: 1000, flush_interval: 1 },
    log: memoryLogger().log,
    maxQueuedRows: 20_000,
  });
  try {
    const now = Date.now();
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) store.write(syntheticBatch(1000, i, now - 1000, now));
    assert.ok(performance.now() - t0 < 2000);
    const s = store.stats();
    assert.ok(s.dropped >= 30_000, `dropped ${s.dropped}`);
    await store.flush(30_000);
    const after = store.stats();
    assert.equal(after.written + after.dropped, 50_000);
    assert.equal((await store.query({ fromMs: 0, toMs: now + 1, filter: {}, orderBy: 'flows', limit: 1 }, 10_000)).totals.flows, after.written);
  } finally {
    await store.close(10_000);
  }
});

void test('sqlite flow store: retention by age deletes the flows that ended before max_age', async () => {
  const store = await openSqliteFlowStore({
    config: { path: join(dir, 'age.db'), retention: { max_age: 3600, max_bytes: 0 }, batch_size: 5000, flush_interval: 0.2 },
    log: memoryLogger().log,
    retentionIntervalMs: 200,
  });
  try {
    const now = Date.now();
    store.write(syntheticBatch(30_000, 1, now - 3 * 3_600_000, now - 2 * 3_600_000));
    store.write(syntheticBatch(10_000, 2, now - 600_000, now));
    await store.flush(30_000);
    const deadline = Date.now() + 15_000;
    while (store.stats().expired < 30_000 && Date.now() < deadline) await sleep(100);
    assert.equal(store.stats().expired, 30_000);
    const r = await store.query({ fromMs: 0, toMs: now + 1, filter: {}, orderBy: 'flows', limit: 1 }, 10_000);
    assert.equal(r.totals.flows, 10_000);
  } finally {
    await store.close(10_000);
  }
});

void test('sqlite flow store: retention by size under constant input: rows are deleted and the file stops growing', async () => {
  const maxBytes = 4 << 20;
  const path = join(dir, 'size.db');
  const store = await openSqliteFlowStore({
    config: { path, retention: { max_age: 0, max_bytes: maxBytes }, batch_size: 2000, flush_interval: 0.1 },
    log: memoryLogger().log,
    retentionIntervalMs: 250,
  });
  const sizes: number[] = [];
  try {
    const t0 = Date.now();
    for (let tick = 0; Date.now() - t0 < 12_000; tick++) {
      const now = Date.now();
      store.write(syntheticBatch(1000, tick, now - 1000, now));
      await sleep(40);
      if (tick % 10 === 0) sizes.push(fileSize(path));
    }
    await store.flush(30_000);
    const s = store.stats();
    const half = sizes.slice(Math.floor(sizes.length / 2));
    process.stdout.write(`# size retention: written ${s.written}, expired ${s.expired}, file sizes (KiB) ${sizes.map((n) => Math.round(n / 1024)).join(' ')}\n`);
    assert.ok(s.written > 80_000, `written ${s.written}: enough input to fill the limit several times`);
    assert.ok(s.expired > s.written / 2, `expired ${s.expired}`);
    // the limit holds for the database and its WAL, give or take a retention interval of input
    const cap = maxBytes * 1.2;
    for (const n of half) assert.ok(n <= cap, `file ${n} bytes above ${cap} in the second half: ${half.join(' ')}`);
    assert.ok(half.reduce((a, n) => a + n, 0) / half.length <= maxBytes, `mean above the limit: ${half.join(' ')}`);
    assert.ok(Math.max(...half) <= Math.max(...sizes.slice(0, Math.floor(sizes.length / 2))) * 1.1, `the file keeps growing: ${sizes.join(' ')}`);
    const r = await store.query({ fromMs: 0, toMs: Date.now() + 1, filter: {}, orderBy: 'flows', limit: 1 }, 10_000);
    assert.equal(r.totals.flows, s.written - s.expired);
  } finally {
    await store.close(10_000);
  }
});

void test('sqlite flow store: 60 random queries answer what the row-per-flow SQL answers over the same flows', async () => {
  const to = Date.now();
  const from = to - 2 * 3_600_000;
  const batches = randomBatches(21, 30_000, 60, from, to);
  const oracle = rowFlowDatabase(':memory:', batches);
  const store = await openSqliteFlowStore({
    config: { path: join(dir, 'random.db'), retention: { max_age: 0, max_bytes: 0 }, batch_size: 4000, flush_interval: 0.2 },
    log: memoryLogger().log,
  });
  try {
    // the store takes the buffers over: the reference was filled first
    for (const b of batches) store.write(b);
    await store.flush(30_000);
    const r = rng(17);
    for (let k = 0; k < 60; k++) {
      const spec = randomSpec(r, from, to);
      assertSameResult(await store.query(spec, 10_000), rowFlowQuery(oracle, spec), spec);
    }
  } finally {
    oracle.close();
    await store.close(10_000);
  }
});

void test('sqlite flow store: age retention trims a chunk that straddles the limit, keeping its newer flows', async () => {
  const now = Date.now();
  const slice = Math.floor((now - 7_200_000) / CHUNK_SLICE_MS) * CHUNK_SLICE_MS;
  // one exporter, one time slice: one chunk, with 300 flows before the limit and 200 after it
  const rows = Array.from({ length: 500 }, (_, i) => ({ src: '198.18.0.1', dst: '198.19.0.1', endMs: slice + (i < 300 ? 1000 + i : CHUNK_SLICE_MS - 1000 - i), bytes: 100 }));
  const path = join(dir, 'straddle.db');
  const store = await openSqliteFlowStore({
    config: { path, retention: { max_age: Math.floor((now - (slice + CHUNK_SLICE_MS / 2)) / 1000), max_bytes: 0 }, batch_size: 5000, flush_interval: 0.1 },
    log: memoryLogger().log,
    retentionIntervalMs: 200,
  });
  try {
    store.write(flowBatch(rows));
    await store.flush(10_000);
    const deadline = Date.now() + 10_000;
    while (store.stats().expired < 300 && Date.now() < deadline) await sleep(100);
    assert.equal(store.stats().expired, 300);
    const r = await store.query({ fromMs: 0, toMs: now + 1, filter: {}, orderBy: 'flows', limit: 1 }, 10_000);
    assert.deepEqual(r.totals, { flows: 200, bytes: 20_000, packets: 200 });
    const db = new Database(path, { readonly: true });
    try {
      assert.deepEqual(db.prepare('SELECT count(*) AS chunks, total(flows) AS flows, min(min_end_ms) AS first FROM chunks').get(), { chunks: 1, flows: 200, first: slice + CHUNK_SLICE_MS - 1000 - 499 });
    } finally {
      db.close();
    }
  } finally {
    await store.close(10_000);
  }
});

void test('sqlite flow store: a database of the row-per-flow layout is refused with FLOWDB_ERR_LAYOUT and left as it was', async () => {
  const path = join(dir, 'rows.db');
  rowFlowDatabase(path, [syntheticBatch(100, 1, Date.now() - 1000, Date.now())]).close();
  const before = statSync(path).size;
  const log = memoryLogger().log;
  const config = { path, retention: { max_age: 0, max_bytes: 0 }, batch_size: 1000, flush_interval: 1 };
  await assert.rejects(openSqliteFlowStore({ config, log }), (e: Error & { code?: string }) => e.code === 'FLOWDB_ERR_LAYOUT' && /row-per-flow layout/.test(e.message) && /move the file aside/.test(e.message));
  await assert.rejects(openSqliteFlowReader(path, { log }), { code: 'FLOWDB_ERR_LAYOUT' });
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.prepare('SELECT count(*) FROM flows').pluck().get(), 100);
    assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'chunks'").pluck().get(), 0);
  } finally {
    db.close();
  }
  assert.equal(statSync(path).size, before);
});
