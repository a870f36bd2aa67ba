// SQL of flow queries: the clauses built from a spec, and their meaning when run on a real
// in-memory SQLite database with the store's schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ALIVE_FUNCTION, INSERT_COLUMNS, insertSql, querySql, SQLITE_SCHEMA, whereClause } from '../../../src/flows/store/sqlite-sql.js';
import { flowAddressBytes } from '../../../src/flows/flow-address.js';
import type { FlowQuerySpec } from '../../../src/flows/types.js';

const spec = (over: Partial<FlowQuerySpec> = {}): FlowQuerySpec => ({ fromMs: 1000, toMs: 2000, filter: {}, orderBy: 'bytes', limit: 10, ...over });

void test('the time range, then every filter as ranges or IN lists, ending with the deadline check', () => {
  const w = whereClause(spec({ filter: { src: ['198.18.0.0/15'], addr: ['2001:db8::1'], port: [53, 853], proto: [17], exporter: ['198.18.255.1'], inIf: [1] } }));
  assert.equal(
    w.text,
    'f.end_ms >= ? AND f.end_ms < ? AND (f.src BETWEEN ? AND ?) AND (f.src BETWEEN ? AND ? OR f.dst BETWEEN ? AND ?) AND (f.src_port IN (?, ?) OR f.dst_port IN (?, ?)) ' +
      'AND (f.proto IN (?)) AND (f.in_if IN (?)) AND f.exporter IN (SELECT id FROM exporters WHERE address IN (?)) AND wireprobe_alive()',
  );
  assert.equal(w.params.length, 2 + 2 + 4 + 4 + 1 + 1 + 1);
  assert.deepEqual(w.params.slice(0, 2), [1000, 2000]);
  assert.deepEqual(w.params.slice(-3), [17, 1, '198.18.255.1']);
  assert.throws(() => whereClause(spec({ filter: { dst: ['198.18.0.0/99'] } })), { code: 'FLOWDB_ERR_QUERY_INVALID' });
});

void test('grouped queries select the key, order by the measure then the key, and bind the limit last', () => {
  const q = querySql(spec({ groupBy: 'conversation', orderBy: 'packets', limit: 7 }));
  assert.match(q.rows.text, /^SELECT f\.src AS src, f\.dst AS dst, count\(\*\) AS flows/);
  assert.match(q.rows.text, /GROUP BY f\.src, f\.dst ORDER BY packets DESC, f\.src, f\.dst LIMIT \?$/);
  assert.equal(q.rows.params.at(-1), 7);
  assert.match(q.totals.text, /^SELECT count\(\*\) AS flows, total\(f\.bytes\)/);
  assert.match(querySql(spec({ orderBy: 'flows' })).rows.text, /ORDER BY f\.end_ms DESC, f\.id DESC LIMIT \?$/);
  assert.equal(insertSql(2).split('(?,').length - 1, 2);
  assert.equal(INSERT_COLUMNS.length, 22);
});

void test('on a real database: CIDR ranges are exact at their edges, for IPv4 and IPv6, and never mix the families', () => {
  const db = new Database(':memory:');
  db.exec(SQLITE_SCHEMA);
  db.function(ALIVE_FUNCTION, () => 1);
  db.prepare("INSERT INTO exporters (id, address) VALUES (1, '198.18.255.1')").run();
  const insert = db.prepare(insertSql(1));
  const addrs = ['198.17.255.255', '198.18.0.0', '198.19.255.255', '198.20.0.0', '2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db9::', '::c612:1'];
  addrs.forEach((a, i) => insert.run(1500, 1400, 1, 10, 0, Buffer.from(flowAddressBytes(a)!), Buffer.from(flowAddressBytes('203.0.113.1')!), null, 1000 + i, 53, 17, 0, 0, 1, 2, 0, 0, 100 * (i + 1), 1, 100, 1, 1));
  const srcPorts = (s: FlowQuerySpec): number[] => {
    const q = querySql(s);
    return (db.prepare(q.rows.text).all(...q.rows.params) as { src_port: number }[]).map((r) => r.src_port - 1000).sort();
  };
  assert.deepEqual(srcPorts(spec({ filter: { src: ['198.18.0.0/15'] } })), [1, 2]);
  assert.deepEqual(srcPorts(spec({ filter: { src: ['2001:db8::/32'] } })), [4, 5]);
  assert.deepEqual(srcPorts(spec({ filter: { src: ['0.0.0.0/0'] } })), [0, 1, 2, 3]);
  assert.deepEqual(srcPorts(spec({ filter: { src: ['198.18.0.0/15', '2001:db9::/128'] } })), [1, 2, 6]);
  assert.deepEqual(srcPorts(spec({ filter: { src: ['198.18.0.0/15'] }, fromMs: 1501 })), []);
  const g = querySql(spec({ groupBy: 'exporter', filter: { exporter: ['198.18.255.1'] } }));
  assert.deepEqual(db.prepare(g.rows.text).all(...g.rows.params), [{ exporter: '198.18.255.1', flows: 8, bytes: 3600, packets: 8 }]);
  db.close();
});
