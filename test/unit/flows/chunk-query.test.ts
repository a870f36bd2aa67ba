// The chunked flow layout without a database: chunks round-trip every column, are cut by
// exporter and time slice, and ChunkQuery answers what the row-per-flow SQL (the reference, run
// on an in-memory SQLite database) answers, for hundreds of random filters and group keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNK_COLUMNS, CHUNK_SLICE_MS, cutChunks, decodeChunk, decodeColumn, type EncodedChunk } from '../../../src/flows/store/chunk-codec.js';
import { ChunkQuery } from '../../../src/flows/store/chunk-query.js';
import { copyFlowBatch } from '../../../src/flows/store/batch-transfer.js';
import type { FlowQuerySpec } from '../../../src/flows/types.js';
import { syntheticBatch } from '../../fakes/flow-batch.js';
import { assertSameResult, randomBatches, randomSpec } from '../../fakes/flow-specs.js';
import { rng } from '../../fakes/rng.js';
import { rowFlowDatabase, rowFlowQuery } from '../../fakes/row-flow-oracle.js';

const blobsOf = (c: EncodedChunk): Record<string, Uint8Array> => Object.fromEntries(CHUNK_COLUMNS.map((col, k) => [col.column, c.blobs[k]!]));

void test('a chunk round-trips every column, each in the narrowest encoding that holds it; a misaligned BLOB is copied, a wrong length refused', () => {
  const now = 1_700_000_000_000;
  const b = syntheticBatch(3000, 1, now, now + CHUNK_SLICE_MS / 2);
  b.exporter.fill(0);
  // a few sampled flows, one start after its end, IPv6 sources: the wide encodings
  for (const i of [5, 6]) {
    b.samplingRate[i] = 10;
    b.bytes[i] = b.rawBytes[i]! * 10;
  }
  b.startMs[7] = b.endMs[7]! + 5;
  const chunks: EncodedChunk[] = [];
  cutChunks([copyFlowBatch(b)], () => [7], (c) => chunks.push(c));
  assert.equal(chunks.length, 1 + (Math.floor((now + CHUNK_SLICE_MS / 2) / CHUNK_SLICE_MS) - Math.floor(now / CHUNK_SLICE_MS)));
  assert.equal(chunks.reduce((n, c) => n + c.flows, 0), 3000);
  const c = chunks.find((x) => x.flows > 10 && x.minEndMs <= b.endMs[7]! && x.maxEndMs >= b.endMs[7]!)!;
  const n = c.flows;
  const len = (column: string): number => c.blobs[CHUNK_COLUMNS.findIndex((col) => col.column === column)]!.byteLength;
  assert.deepEqual(
    [len('end_ms'), len('bytes'), len('src'), len('dst'), len('src_port'), len('proto'), len('in_if'), len('tcp_flags'), len('start_ms'), len('next_hop'), len('raw_packets'), len('raw_bytes'), len('sampling_rate')],
    [2 * n, 4 * n, 4 * n, 16 * n, 2 * n, n, n, 4, 8 * n, 16, 0, 4 * n, n],
  );
  assert.equal(c.size, c.blobs.reduce((a, x) => a + x.byteLength, 0));
  const back = decodeChunk('198.18.255.1', n, c.minEndMs, blobsOf(c))!;
  // the chunk holds the batch's flows of its slice, in order
  const idx = [...Array(3000).keys()].filter((i) => Math.floor(b.endMs[i]! / CHUNK_SLICE_MS) === Math.floor(c.minEndMs / CHUNK_SLICE_MS));
  for (const { field } of CHUNK_COLUMNS) {
    const width = field === 'src' || field === 'dst' || field === 'nextHop' ? 16 : 1;
    const want = idx.flatMap((i) => [...(b[field] as Uint8Array).subarray(i * width, i * width + width)]);
    assert.deepEqual([...(back[field] as Uint8Array)], want, field);
  }
  const blob = c.blobs[1]!;
  const odd = new Uint8Array(blob.byteLength + 1).subarray(1);
  odd.set(blob);
  assert.deepEqual(decodeColumn('bytes', odd, n, 0), back.bytes);
  assert.equal(decodeColumn('bytes', blob.subarray(8), n, 0), null);
  assert.equal(decodeColumn('src', blob.subarray(4), n, 0), null);
});

void test('chunks hold one exporter and one time slice each, at most CHUNK_MAX_FLOWS flows', () => {
  const batches = randomBatches(3, 30_000, 10, 1_700_000_000_000, 1_700_000_000_000 + 3_600_000);
  const chunks: EncodedChunk[] = [];
  cutChunks(batches, (b) => b.exporters.map((a) => ['198.18.255.1', '198.18.255.2', '2001:db8:ffff::1', '2001:db8:ffff::2'].indexOf(a)), (c) => chunks.push(c));
  assert.equal(chunks.reduce((n, c) => n + c.flows, 0), 30_000);
  for (const c of chunks) assert.equal(Math.floor(c.minEndMs / CHUNK_SLICE_MS), Math.floor(c.maxEndMs / CHUNK_SLICE_MS));
  assert.equal(new Set(chunks.map((c) => `${c.exporter}/${Math.floor(c.minEndMs / CHUNK_SLICE_MS)}`)).size, chunks.length);
});

void test('ChunkQuery equals the row-per-flow SQL for 300 random queries (filters, CIDRs, group keys, orders, limits, time edges)', () => {
  const from = 1_700_000_000_000;
  const to = from + 3_600_000;
  const batches = randomBatches(11, 12_000, 30, from, to);
  const oracle = rowFlowDatabase(':memory:', batches);
  const exporters = new Map((oracle.prepare('SELECT id, address FROM exporters').raw(true).all() as [number, string][]));
  const idOf = new Map([...exporters].map(([id, a]) => [a, id]));
  const chunks: EncodedChunk[] = [];
  cutChunks(batches.map(copyFlowBatch), (b) => b.exporters.map((a) => idOf.get(a)!), (c) => chunks.push(c));
  const run = (spec: FlowQuerySpec): ReturnType<ChunkQuery['result']> => {
    const q = new ChunkQuery(spec, exporters);
    const order = q.newestFirst ? [...chunks.keys()].reverse() : [...chunks.keys()];
    for (const id of order) {
      const c = chunks[id]!;
      if (!q.wants(c.exporter, c.minEndMs, c.maxEndMs)) continue;
      const cols = decodeChunk('', c.flows, c.minEndMs, blobsOf(c))!;
      q.add({ id, exporter: c.exporter, flows: c.flows, minEndMs: c.minEndMs, maxEndMs: c.maxEndMs, cols });
    }
    return q.result();
  };
  const r = rng(5);
  let nonEmpty = 0;
  for (let k = 0; k < 300; k++) {
    const spec = randomSpec(r, from, to);
    const want = rowFlowQuery(oracle, spec);
    if (want.totals.flows > 0) nonEmpty++;
    assertSameResult(run(spec), want, spec);
  }
  assert.ok(nonEmpty > 100, `${nonEmpty} of 300 queries matched flows`);
  assert.throws(() => new ChunkQuery({ fromMs: 0, toMs: 1, filter: { src: ['300.1.1.0/24'] }, orderBy: 'bytes', limit: 1 }, exporters), { code: 'FLOWDB_ERR_QUERY_INVALID' });
  oracle.close();
});
