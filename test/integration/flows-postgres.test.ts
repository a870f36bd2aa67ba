/**
 * The PostgreSQL flow sink against a real server this test starts (Debian `postgresql`, run as
 * the postgres user in a temp dir on 127.0.0.1): rows land in time partitions, retention drops
 * whole partitions by age and by size, a server restart is survived, the password never reaches
 * the log, and nothing throws into the caller.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { FlowPostgresConfig } from '../../src/config/types.js';
import { createPostgresFlowSink } from '../../src/flows/store/postgres.js';
import { PG_TABLE } from '../../src/flows/store/postgres-sql.js';
import { flowBatch, syntheticBatch } from '../fakes/flow-batch.js';
import { memoryLogger } from '../fakes/logger.js';
import { startPostgres, type PostgresHandle } from '../lab/postgres.js';
import { waitFor } from '../lab/wait-for.js';

const HOUR = 3_600_000;

void describe('postgres flow sink', () => {
  let server: PostgresHandle;
  let sql: pg.Client;
  before(async () => {
    server = await startPostgres();
    sql = new pg.Client({ connectionString: server.url });
    await sql.connect();
  });
  after(async () => {
    await sql?.end().catch(() => undefined);
    await server?.destroy();
  });

  const count = async (where = 'true'): Promise<number> =>
    Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM ${PG_TABLE} WHERE ${where}`)).rows[0]!.n);
  const partitionNames = async (): Promise<string[]> =>
    (await sql.query<{ relname: string }>(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${PG_TABLE}'::regclass ORDER BY 1`)).rows.map(
      (r) => r.relname,
    );
  const config = (over: Partial<FlowPostgresConfig> = {}): FlowPostgresConfig => ({
    url: server.url,
    partition_interval: 3600,
    retention: { max_age: 0, max_bytes: 0 },
    batch_size: 5000,
    flush_interval: 0.2,
    ...over,
  });

  void test('rows land in hourly partitions (made ahead and for late flows); retention drops partitions by age, then by size', async () => {
    let now = Date.UTC(2026, 11, 4, 17, 30);
    const { log, lines } = memoryLogger();
    const sink = createPostgresFlowSink({ config: config({ retention: { max_age: 3 * 3600, max_bytes: 0 } }), log, wallMs: () => now, retentionIntervalMs: 3_600_000 });
    try {
      sink.write(syntheticBatch(3000, 1, now - 10 * 60_000, now)); // this hour
      sink.write(syntheticBatch(2000, 2, now - 2 * HOUR, now - 2 * HOUR + 60_000)); // two hours ago: a partition made on demand
      sink.write(flowBatch([{ src: '198.18.0.1', dst: '2001:db8::1', endMs: now - 5 * HOUR, bytes: 1 }])); // older than max_age: not stored
      await sink.flush(30_000);
      assert.equal(await count(), 5000);
      assert.equal(await count("src = '198.18.0.1'"), 0);
      assert.deepEqual(await partitionNames(), [
        `${PG_TABLE}_p20261204_150000`,
        `${PG_TABLE}_p20261204_170000`,
        `${PG_TABLE}_p20261204_180000`,
        `${PG_TABLE}_p20261204_190000`,
      ]);
      const s1 = sink.stats();
      assert.equal(s1.written, 5000);
      assert.equal(s1.expired, 1);
      // IPv4 as IPv4, IPv6 as IPv6
      const one = await sql.query<{ src: string; fam: number }>(`SELECT host(src) AS src, family(dst) AS fam FROM ${PG_TABLE} WHERE family(dst) = 6 LIMIT 1`);
      assert.match(one.rows[0]!.src, /^198\.18\.\d+\.\d+$/);

      now += 3 * HOUR; // 20:30: the 15:00 partition ended 4.5 h ago
      await sink.retention();
      assert.equal(await count(), 3000);
      assert.ok(!(await partitionNames()).includes(`${PG_TABLE}_p20261204_150000`));
      assert.ok((await partitionNames()).includes(`${PG_TABLE}_p20261204_220000`), 'partitions made ahead of the clock');
      assert.equal(sink.stats().expired, 2001);
      assert.ok(sink.stats().sizeBytes > 0);
      assert.ok(!lines.join('\n').includes(server.password));
    } finally {
      await sink.close(10_000);
    }
    // size: with a tiny max_bytes every partition that is past goes (on connect, then each pass), never the current one
    let now2 = Date.UTC(2026, 11, 4, 20, 30);
    const sized = createPostgresFlowSink({ config: config({ retention: { max_age: 0, max_bytes: 1 } }), log: memoryLogger().log, wallMs: () => now2, retentionIntervalMs: 3_600_000 });
    try {
      sized.write(syntheticBatch(1000, 3, now2 - 60_000, now2));
      await sized.flush(30_000);
      assert.equal(await count(), 1000, 'the 17:00 partition was dropped for size when the sink connected');
      assert.ok((await partitionNames()).includes(`${PG_TABLE}_p20261204_200000`));
      now2 += HOUR;
      await sized.retention();
      assert.equal(await count(), 0, 'the 20:00 partition goes once it is past');
      assert.ok((await partitionNames()).includes(`${PG_TABLE}_p20261204_210000`), 'the current partition stays');
    } finally {
      await sized.close(10_000);
    }
  });

  void test('a server restart is survived: rows written while it is down arrive after; the password is never logged', async () => {
    await sql.query(`TRUNCATE ${PG_TABLE}`);
    const { log, lines } = memoryLogger();
    const sink = createPostgresFlowSink({ config: config(), log, reconnectMinMs: 100, reconnectMaxMs: 500 });
    try {
      const now = Date.now();
      sink.write(syntheticBatch(500, 4, now - 1000, now));
      await sink.flush(30_000);
      await sql.end();
      await server.stop();
      sink.write(syntheticBatch(700, 5, now - 1000, now));
      await waitFor(() => Promise.resolve(sink.stats().errors > 0), { timeoutMs: 15_000, what: 'a connection error' });
      assert.equal(sink.stats().connected, false);
      await server.restart();
      sql = new pg.Client({ connectionString: server.url });
      await sql.connect();
      await sink.flush(30_000);
      assert.equal(await count(), 1200);
      const s = sink.stats();
      assert.equal(s.written, 1200);
      assert.equal(s.failed, 0);
      assert.equal(s.connected, true);
      const text = lines.join('\n');
      assert.match(text, /cannot connect|insert failed|connection error/);
      assert.ok(!text.includes(server.password), 'the password is not logged');
      assert.ok(!text.includes(server.url));
    } finally {
      await sink.close(10_000);
    }
  });

  void test('an unreachable server: write() never throws, the queue is bounded and drops are counted', async () => {
    const { log, lines } = memoryLogger();
    const url = 'postgres://wireprobe:hunter2-not-logged@127.0.0.1:1/postgres';
    const sink = createPostgresFlowSink({ config: { ...config(), url }, log, maxQueuedRows: 1500, reconnectMinMs: 50, reconnectMaxMs: 100, connectTimeoutMs: 500 });
    const now = Date.now();
    for (let i = 0; i < 4; i++) sink.write(syntheticBatch(500, 10 + i, now - 1000, now));
    const s = sink.stats();
    assert.equal(s.queued, 1500);
    assert.equal(s.dropped, 500);
    await waitFor(() => Promise.resolve(sink.stats().errors >= 2), { timeoutMs: 10_000, what: 'two connection errors' });
    await assert.rejects(sink.close(300), { code: 'OP_ERR_TIMEOUT' });
    assert.equal(sink.stats().failed, 1500);
    assert.ok(!lines.join('\n').includes('hunter2'));
  });
});
