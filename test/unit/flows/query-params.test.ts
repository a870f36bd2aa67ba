import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FLOW_QUERY_DEFAULT_LIMIT, flowsView, parseDurationMs, parseFlowQuery, parseTimeParam } from '../../../src/flows/query-params.js';

const NOW = Date.UTC(2026, 11, 4, 18, 0, 0);

void test('durations and times: relative, RFC 3339 with offsets, now', () => {
  assert.equal(parseDurationMs('15m'), 900_000);
  assert.equal(parseDurationMs('7d'), 7 * 86_400_000);
  assert.equal(parseDurationMs('0m'), null);
  assert.equal(parseDurationMs('1.5h'), null);
  assert.equal(parseTimeParam('15m', NOW), NOW - 900_000);
  assert.equal(parseTimeParam('-2h', NOW), NOW - 7_200_000);
  assert.equal(parseTimeParam('now', NOW), NOW);
  assert.equal(parseTimeParam('2026-12-04T17:00:00Z', NOW), Date.UTC(2026, 11, 4, 17));
  assert.equal(parseTimeParam('2026-12-04T19:00:00.5+02:00', NOW), Date.UTC(2026, 11, 4, 17, 0, 0, 500));
  for (const bad of ['yesterday', '2026-12-04', '2026-13-04T00:00:00Z', '2026-12-04T17:00:00', '1e3s', '']) assert.equal(parseTimeParam(bad, NOW), null, bad);
});

void test('defaults: the last 15 minutes, by bytes, the default limit, no filter', () => {
  assert.deepEqual(parseFlowQuery({}, NOW), { spec: { fromMs: NOW - 900_000, toMs: NOW, filter: {}, orderBy: 'bytes', limit: FLOW_QUERY_DEFAULT_LIMIT } });
});

void test('every filter, repeated and comma-separated, protocol names, canonical exporters', () => {
  const r = parseFlowQuery(
    {
      from: '1h', to: 'now', src: ['198.18.0.0/15', '2001:db8::/32'], dst: '203.0.113.1', addr: '198.19.0.1,198.19.0.2', port: '53', src_port: ['1', '2'],
      dst_port: '443', proto: 'TCP,udp,47', exporter: '2001:DB8::0:1', in_if: '3', out_if: '4', group_by: 'conversation', order_by: 'packets', limit: '1000',
    },
    NOW,
  );
  assert.deepEqual(r.spec, {
    fromMs: NOW - 3_600_000,
    toMs: NOW,
    filter: {
      src: ['198.18.0.0/15', '2001:db8::/32'], dst: ['203.0.113.1'], addr: ['198.19.0.1', '198.19.0.2'], port: [53], srcPort: [1, 2], dstPort: [443],
      proto: [6, 17, 47], exporter: ['2001:db8::1'], inIf: [3], outIf: [4],
    },
    groupBy: 'conversation',
    orderBy: 'packets',
    limit: 1000,
  });
});

void test('every problem is reported, with the parameter named', () => {
  const r = parseFlowQuery({ src: '10.0.0.0/40', port: '70000', proto: 'tcpx', limit: '0', group_by: 'x', order_by: 'y', frm: '1h', from: '1h', to: '2h', in_if: ['1', {}] }, NOW);
  assert.ok(r.problems !== undefined);
  const text = r.problems.join('\n');
  for (const word of ['src:', 'port:', 'proto:', 'limit:', 'group_by:', 'order_by:', 'frm: unknown', 'from: must be before to', 'in_if: not a text value']) assert.ok(text.includes(word), word);
  assert.ok(parseFlowQuery({ src: Array.from({ length: 65 }, () => '10.0.0.1') }, NOW).problems![0]!.includes('at most 64'));
  assert.ok(parseFlowQuery({ limit: ['1', '2'] }, NOW).problems![0]!.includes('once'));
  assert.ok(parseFlowQuery({ limit: '1001' }, NOW).problems !== undefined);
});

void test('the view: others are the totals the rows leave out (grouped only)', () => {
  const spec = { fromMs: 0, toMs: 1000, filter: {}, groupBy: 'src' as const, orderBy: 'bytes' as const, limit: 1 };
  const v = flowsView(spec, { rows: [{ key: { src: '198.18.0.1' }, flows: 2, bytes: 300, packets: 3 }], totals: { flows: 5, bytes: 1000, packets: 10 } });
  assert.deepEqual(v['others'], { flows: 3, bytes: 700, packets: 7 });
  assert.equal(v['from'], '1970-01-01T00:00:00.000Z');
  const flat = flowsView({ ...spec, groupBy: undefined } as never, { rows: [], totals: { flows: 0, bytes: 0, packets: 0 } });
  assert.equal(flat['others'], null);
  assert.equal(flat['group_by'], null);
});
