import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPartitionSql, insertColumns, parsePartitionBound, partitionName, partitionStart, PG_INSERT } from '../../../src/flows/store/postgres-sql.js';
import { redact } from '../../../src/flows/store/postgres.js';
import { flowBatch } from '../../fakes/flow-batch.js';

const T = Date.UTC(2026, 11, 4, 17, 42, 5);

void test('partitions: start, UTC name, DDL, and the bound PostgreSQL prints back', () => {
  assert.equal(partitionStart(T, 3_600_000), Date.UTC(2026, 11, 4, 17));
  assert.equal(partitionName(Date.UTC(2026, 11, 4, 17)), 'wireprobe_flows_p20261204_170000');
  assert.equal(
    createPartitionSql(Date.UTC(2026, 11, 4, 17), 3_600_000),
    "CREATE TABLE IF NOT EXISTS wireprobe_flows_p20261204_170000 PARTITION OF wireprobe_flows FOR VALUES FROM ('2026-12-04T17:00:00.000Z') TO ('2026-12-04T18:00:00.000Z')",
  );
  assert.deepEqual(parsePartitionBound("FOR VALUES FROM ('2026-12-04 17:00:00+00') TO ('2026-12-04 18:00:00+00')"), { fromMs: Date.UTC(2026, 11, 4, 17), toMs: Date.UTC(2026, 11, 4, 18) });
  assert.equal(parsePartitionBound('DEFAULT'), null);
});

void test('insert columns: one array per column, addresses as text, absent ones null, counters rounded', () => {
  const b = flowBatch([
    { src: '198.18.0.1', dst: '2001:db8::2', endMs: T, bytes: 10.4, srcPort: 1, dstPort: 2, exporter: '198.18.255.9' },
    { src: '198.18.0.3', dst: '198.19.0.4', endMs: T + 1, samplingRate: 100, bytes: 5 },
  ]);
  const cols = insertColumns(b, [1, 0]);
  assert.equal(cols.length, (PG_INSERT.match(/\$\d+/g) ?? []).length);
  assert.deepEqual(cols[0], [new Date(T + 1).toISOString(), new Date(T).toISOString()]);
  assert.deepEqual(cols[2], ['198.18.0.1', '198.18.255.9']);
  assert.deepEqual(cols[5], ['198.18.0.3', '198.18.0.1']);
  assert.deepEqual(cols[6], ['198.19.0.4', '2001:db8::2']);
  assert.deepEqual(cols[7], [null, null]);
  assert.deepEqual(cols[17], [500, 10]);
  assert.deepEqual(cols[19], [5, 10]);
  assert.deepEqual(cols[21], [100, 1]);
});

void test('redact cuts the URL and its (decoded) password out of messages', () => {
  const url = 'postgres://u:p%40ss-w0rd@db.example:5432/flows';
  assert.equal(redact(`connect ${url} failed for p@ss-w0rd`, url), 'connect <url> failed for <password>');
  assert.equal(redact('plain', 'not a url'), 'plain');
});
