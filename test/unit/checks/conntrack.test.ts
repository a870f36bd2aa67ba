import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { conntrackCheck, type ConntrackOptions } from '../../../src/checks/conntrack.js';
import type { CheckResult, Sample } from '../../../src/checks/types.js';
import { createWorkerPool, type WorkerPool } from '../../../src/workers/pool.js';
import { conntrackDeps, rewriting } from './conntrack-deps.js';

// Captured conntrack-tools output replayed by real commands (`cat`); procfs from fixture trees.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/conntrack/', import.meta.url));
const OPTS: ConntrackOptions = { name: 'unit', enabled: true, interval: 30, on_failure: [], timeout: 10, top_n: 2, talker_min_flows: 1, fill_ratio_max: 0.9 };
const NEVER = new AbortController().signal;

function value(r: CheckResult, metric: string, labels: Record<string, string> = {}): number | undefined {
  return r.samples.find((s: Sample) => s.metric === metric && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

void describe('conntrack check (own namespace, fixtures)', () => {
  let pool: WorkerPool;
  before(() => {
    pool = createWorkerPool({ minThreads: 1, maxThreads: 2 });
  });
  after(() => pool.close());

  const replay = (list: string, stats = 'stats-full-table.txt'): ReturnType<typeof rewriting> =>
    rewriting({ 'conntrack -S': ['cat', FIXTURES + stats], 'conntrack -L': ['cat', FIXTURES + list] });

  void it('fails with conntrack_full above fill_ratio_max and still exports everything', async () => {
    const r = await conntrackCheck
      .create({ ...OPTS, fill_ratio_max: 0.9 }, conntrackDeps({ pool, procfs: FIXTURES + 'proc-full', ...replay('list-acct.txt') }))
      .run({ signal: NEVER });
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'conntrack_full');
    assert.match(r.message ?? '', /95\.0 % full \(950\/1000\)/);
    assert.equal(value(r, 'wireprobe_conntrack_entries'), 950);
    assert.equal(value(r, 'wireprobe_conntrack_max'), 1000);
    assert.equal(value(r, 'wireprobe_conntrack_fill_ratio'), 0.95);
    assert.equal(value(r, 'wireprobe_conntrack_stat_total', { stat: 'early_drop' }), 11);
    assert.equal(value(r, 'wireprobe_conntrack_listed_flows'), 8);
    assert.equal(value(r, 'wireprobe_conntrack_top_source_flows', { address: '198.18.10.1' }), 4);
    assert.equal(value(r, 'wireprobe_conntrack_top_destination_packets', { address: '198.18.10.2' }), 11300 + 18409 + 2 + 2 + 6 + 4 + 4 + 6 + 1);
    assert.equal(value(r, 'wireprobe_conntrack_top_source_share'), 0.5);
    // top_n bounds every top family
    for (const m of ['flows', 'bytes', 'packets']) {
      assert.equal(r.samples.filter((s) => s.metric === `wireprobe_conntrack_top_source_${m}`).length, 2);
    }
    const names = new Set(conntrackCheck.metrics.map((m) => m.name));
    for (const s of r.samples) assert.ok(names.has(s.metric), `${s.metric} is declared`);
  });

  void it('passes below the limits; talker_share fails only above the share and with enough flows', async () => {
    const deps = conntrackDeps({ pool, procfs: FIXTURES + 'proc-full', ...replay('list-acct-snat.txt') });
    const ok = await conntrackCheck.create({ ...OPTS, fill_ratio_max: 0.96, talker_share_max: 1 }, deps).run({ signal: NEVER });
    assert.deepEqual([ok.ok, ok.reason], [true, undefined]);
    const share = await conntrackCheck.create({ ...OPTS, fill_ratio_max: 0.96, talker_share_max: 0.5 }, deps).run({ signal: NEVER });
    assert.deepEqual([share.ok, share.reason], [false, 'talker_share']);
    assert.match(share.message ?? '', /source 198\.18\.10\.1 holds 5 of 5 flows/);
    const few = await conntrackCheck.create({ ...OPTS, fill_ratio_max: 0.96, talker_share_max: 0.5, talker_min_flows: 6 }, deps).run({ signal: NEVER });
    assert.equal(few.ok, true);
    // no accounting: no bytes/packets families
    const plain = await conntrackCheck
      .create({ ...OPTS, fill_ratio_max: 0.96 }, conntrackDeps({ pool, procfs: FIXTURES + 'proc-full', ...replay('list-noacct.txt') }))
      .run({ signal: NEVER });
    assert.ok(plain.samples.some((s) => s.metric === 'wireprobe_conntrack_top_source_flows'));
    assert.ok(!plain.samples.some((s) => /_(bytes|packets)$/.test(s.metric)));
  });

  void it('reports bounded reasons instead of throwing', async () => {
    const run = async (procfs: string, map: Record<string, readonly string[]>, signal = NEVER): Promise<CheckResult> =>
      conntrackCheck.create(OPTS, conntrackDeps({ pool, procfs, ...rewriting(map) })).run({ signal });
    const full = FIXTURES + 'proc-full';
    const missing = await run(FIXTURES + 'no-such-procfs', {});
    assert.deepEqual([missing.ok, missing.reason, missing.samples], [false, 'conntrack_unavailable', []]);
    assert.match(missing.message ?? '', /nf_conntrack is not loaded/);
    const garbage = await run(FIXTURES + 'proc-garbage', {});
    assert.equal(garbage.reason, 'parse_error');
    const denied = await run(full, {
      'conntrack -S': ['sh', '-c', 'echo "conntrack v1.4.7 (conntrack-tools): Operation failed: sorry, you must be root or get CAP_NET_ADMIN capability to do this" >&2; exit 1'],
    });
    assert.deepEqual([denied.reason, value(denied, 'wireprobe_conntrack_entries')], ['permission_denied', 950]);
    const noBinary = await run(full, { 'conntrack -S': ['/nonexistent/conntrack', '-S'] });
    assert.equal(noBinary.reason, 'conntrack_unavailable');
    const noStats = await run(full, { 'conntrack -S': ['true'] });
    assert.equal(noStats.reason, 'parse_error');
    const listFails = await run(full, { 'conntrack -S': ['cat', FIXTURES + 'stats-full-table.txt'], 'conntrack -L': ['sh', '-c', 'echo "Operation failed: Protocol not supported" >&2; exit 1'] });
    assert.deepEqual([listFails.reason, value(listFails, 'wireprobe_conntrack_stat_total', { stat: 'insert' })], ['conntrack_unavailable', 262155]);
    const aborted = await run(full, { 'conntrack -S': ['sleep', '5'] }, AbortSignal.abort());
    assert.equal(aborted.reason, 'timeout');
    const slow = await conntrackCheck
      .create({ ...OPTS, timeout: 0.2 }, conntrackDeps({ pool, procfs: full, ...rewriting({ 'conntrack -S': ['sleep', '5'] }) }))
      .run({ signal: NEVER });
    assert.equal(slow.reason, 'timeout');
  });
});
