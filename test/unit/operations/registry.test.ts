/** The operations registry with a fake runner and a fake clock: admission, the run, events, retention, stop. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrefix } from '../../../src/config/operations.js';
import type { OperationsConfig, PrefixConfig } from '../../../src/config/types.js';
import { AppError, ErrorCodes } from '../../../src/lib/errors.js';
import { OperationRefused, OperationsRegistry, type OperationsRecorder, type RegistryDeps } from '../../../src/operations/registry.js';
import type { OperationEvent } from '../../../src/operations/types.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { FakeOperationRunner } from '../../fakes/operation-runner.js';

const prefixes = (...t: string[]): PrefixConfig[] => t.map((x) => parsePrefix(x) as PrefixConfig);

const SETTINGS: OperationsConfig = {
  enabled: true, max_concurrent: 2, max_packets: 100, max_duration: 60, rate: { per_minute: 60, burst: 10 },
  allow: prefixes('198.18.0.0/15', '2001:db8::/32'), deny: prefixes('198.18.66.0/24'), keep_for: 600, keep_count: 3,
};

function setup(over: Partial<OperationsConfig> = {}, deps: Partial<RegistryDeps> = {}) {
  const clock = new FakeClock();
  const runner = new FakeOperationRunner();
  const { log, lines } = memoryLogger();
  const counts: string[] = [];
  const recorder: OperationsRecorder = {
    started: (k) => counts.push(`started ${k}`),
    refused: (r) => counts.push(`refused ${r}`),
    finished: (k, s) => counts.push(`finished ${k} ${s}`),
    running: () => undefined,
  };
  let settings = { ...SETTINGS, ...over };
  let n = 0;
  const resolved: string[] = [];
  const reg = new OperationsRegistry({
    runner, clock, log, recorder,
    settings: () => settings,
    resolve: (name, family) => {
      resolved.push(`${name}/${family}`);
      const table: Record<string, string> = { 'ok.test/4': '198.18.0.9', 'ok.test/6': '2001:db8::9', 'mgmt.test/4': '198.18.66.1', 'mapped.test/6': '::ffff:198.18.66.2' };
      const a = table[`${name}/${family}`];
      return a === undefined ? Promise.reject(new AppError(ErrorCodes.DNS_ERR_RESOLVE, 'NXDOMAIN')) : Promise.resolve(a);
    },
    localAddresses: () => ['198.18.0.254', '2001:db8::fe'],
    newId: () => `op${++n}`,
    ...deps,
  });
  return { clock, runner, reg, lines, counts, resolved, set: (o: Partial<OperationsConfig>) => void (settings = { ...settings, ...o }) };
}

const WHO = { principal: 'api.tokens[2]', origin: 'api', client: '127.0.0.1' };

async function refusal(p: Promise<unknown>): Promise<OperationRefused> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof OperationRefused, String(e));
    return e;
  }
  assert.fail('not refused');
}

void describe('admission', () => {
  void it('refuses by packets, duration, source, disabled and invalid, counting each reason', async () => {
    const t = setup();
    const cases: [unknown, string, string][] = [
      [{ kind: 'ping', destination: '198.18.0.1', count: 101 }, 'packets', ErrorCodes.OPS_ERR_BUDGET],
      [{ kind: 'traceroute', destination: '198.18.0.1', maxHops: 30, queries: 3, paths: 2 }, 'packets', ErrorCodes.OPS_ERR_BUDGET],
      [{ kind: 'mtr', destination: '198.18.0.1', maxHops: 10, cycles: 11 }, 'packets', ErrorCodes.OPS_ERR_BUDGET],
      [{ kind: 'ping', destination: '198.18.0.1', count: 100, interval: 1 }, 'duration', ErrorCodes.OPS_ERR_BUDGET],
      [{ kind: 'ping', destination: '198.18.0.1', source: '198.18.0.7' }, 'source', ErrorCodes.OPS_ERR_DENIED],
      [{ kind: 'ping', destination: 1 }, 'invalid', ErrorCodes.OPS_ERR_INVALID],
    ];
    for (const [body, reason, code] of cases) {
      const e = await refusal(t.reg.start(body, WHO));
      assert.deepEqual([e.reason, e.code], [reason, code], JSON.stringify(body));
    }
    assert.equal((await t.reg.start({ kind: 'ping', destination: '198.18.0.1', count: 100, interval: 0.5 }, WHO)).state, 'running', 'the limits themselves are allowed');
    assert.equal((await t.reg.start({ kind: 'ping', destination: '198.18.0.1', source: '198.18.0.254' }, WHO)).state, 'running');
    t.set({ enabled: false });
    assert.equal((await refusal(t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO))).reason, 'disabled');
    assert.deepEqual(t.counts.filter((c) => c.startsWith('refused')).length, 7);
    assert.ok(t.lines.some((l) => l.includes('operation refused') && l.includes('api.tokens[2]')));
  });

  void it('refuses beyond max_concurrent (429-able, Retry-After) and admits again once one ended', async () => {
    const t = setup();
    await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    await t.reg.start({ kind: 'ping', destination: '198.18.0.2' }, WHO);
    const e = await refusal(t.reg.start({ kind: 'ping', destination: '198.18.0.3' }, WHO));
    assert.deepEqual([e.reason, e.retryAfterS], ['busy', 1]);
    t.runner.runs[0]!.finish(true);
    await t.reg.settled('op1');
    assert.equal((await t.reg.start({ kind: 'ping', destination: '198.18.0.3' }, WHO)).id, 'op3');
  });

  void it('rate-limits per principal, and a refused destination still costs a token', async () => {
    const t = setup({ rate: { per_minute: 1, burst: 2 }, max_concurrent: 10 });
    assert.equal((await refusal(t.reg.start({ kind: 'ping', destination: '192.0.2.1' }, WHO))).reason, 'denied');
    await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    const e = await refusal(t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO));
    assert.deepEqual([e.reason, e.code, e.retryAfterS], ['rate', ErrorCodes.OPS_ERR_RATE, 60]);
    assert.equal((await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, { ...WHO, principal: 'other' })).state, 'running');
    await t.clock.advance(60_000);
    assert.equal((await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO)).state, 'running');
  });

  void it('resolves a name once, checks and probes its address, and refuses names resolving to denied or mapped-denied addresses', async () => {
    const t = setup();
    const v = await t.reg.start({ kind: 'traceroute', destination: 'ok.test', maxHops: 5, queries: 1 }, WHO);
    assert.deepEqual([v.spec.destination, v.address], ['ok.test', '198.18.0.9']);
    assert.deepEqual([t.runner.runs[0]!.spec.destination, t.runner.runs[0]!.spec.family], ['198.18.0.9', 4], 'the runner gets the checked address');
    const v6 = await t.reg.start({ kind: 'ping', destination: 'ok.test', family: 6 }, WHO);
    assert.deepEqual([v6.address, t.runner.runs[1]!.spec.family], ['2001:db8::9', 6]);
    t.runner.runs.forEach((r) => r.finish(true));
    await Promise.all([t.reg.settled(v.id), t.reg.settled(v6.id)]);
    const denied = await refusal(t.reg.start({ kind: 'ping', destination: 'mgmt.test' }, WHO));
    assert.equal(denied.message, 'destination refused (mgmt.test resolves to 198.18.66.1): 198.18.66.1 is denied (operations.deny 198.18.66.0/24)');
    const mapped = await refusal(t.reg.start({ kind: 'ping', destination: 'mapped.test', family: 6 }, WHO));
    assert.match(mapped.message, /198\.18\.66\.2 is denied/);
    const nx = await refusal(t.reg.start({ kind: 'ping', destination: 'nx.test' }, WHO));
    assert.deepEqual([nx.reason, nx.code], ['resolve', ErrorCodes.DNS_ERR_RESOLVE]);
    assert.deepEqual(t.resolved, ['ok.test/4', 'ok.test/6', 'mgmt.test/4', 'mapped.test/6', 'nx.test/4']);
    assert.equal(t.runner.runs.length, 2, 'no refused operation reached the runner');
  });

  void it('a literal IPv4-mapped destination is probed as its IPv4 address', async () => {
    const t = setup();
    const v = await t.reg.start({ kind: 'ping', destination: '::ffff:198.18.0.5' }, WHO);
    assert.deepEqual([v.address, t.runner.runs[0]!.spec.destination, t.runner.runs[0]!.spec.family], ['198.18.0.5', '198.18.0.5', 4]);
    assert.equal((await refusal(t.reg.start({ kind: 'ping', destination: '::ffff:198.18.66.5' }, WHO))).reason, 'denied');
  });

  void it('logs every start with its token source and origin', async () => {
    const t = setup();
    await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, { principal: '/run/secrets/op', origin: 'fleet:n1' });
    const line = t.lines.find((l) => l.includes('operation started'));
    assert.ok(line !== undefined && line.includes('/run/secrets/op') && line.includes('fleet:n1') && line.includes('198.18.0.1'), line);
  });
});

void describe('the run', () => {
  void it('keeps events, appends done when the runner leaves it out, and ends listeners', async () => {
    const t = setup();
    const v = await t.reg.start({ kind: 'ping', destination: '198.18.0.1', count: 2 }, WHO);
    const run = t.runner.runs[0]!;
    run.emit({ type: 'start', spec: run.spec, address: '198.18.0.1' });
    run.probe(0, 1.5);
    const seen: string[] = [];
    t.reg.subscribe(v.id, { event: (e: OperationEvent, seq) => seen.push(`${seq}:${e.type}`), end: () => seen.push('end') });
    run.probe(1, null);
    run.finish(true);
    await t.reg.settled(v.id);
    assert.deepEqual(seen, ['0:start', '1:probe', '2:probe', '3:done', 'end']);
    const got = t.reg.get(v.id)!;
    assert.equal(got.state, 'done');
    assert.deepEqual([got.result?.sent, got.result?.received], [2, 1]);
    assert.deepEqual(t.counts, ['started ping', 'finished ping done']);
    const late: string[] = [];
    t.reg.subscribe(v.id, { event: (e, seq) => late.push(`${seq}:${e.type}`), end: () => late.push('end') }, 2);
    assert.deepEqual(late, ['2:probe', '3:done', 'end'], 'replay from a sequence number, then end at once');
  });

  void it('does not duplicate a done event the runner sent, and ignores events after the end', async () => {
    const t = setup();
    const v = await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    const run = t.runner.runs[0]!;
    run.finish(true, true);
    await t.reg.settled(v.id);
    run.probe(9, 1);
    assert.deepEqual(t.reg.get(v.id)!.events.map((e) => e.type), ['done']);
  });

  void it('cancel: aborted, ends cancelled with what it gathered', async () => {
    const t = setup();
    const v = await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    t.runner.runs[0]!.probe(0, 1);
    assert.equal(t.reg.cancel(v.id, WHO)?.state, 'running');
    assert.ok(t.runner.runs[0]!.signal.aborted);
    await t.reg.settled(v.id);
    const got = t.reg.get(v.id)!;
    assert.deepEqual([got.state, got.result?.sent, got.events.at(-1)?.type], ['cancelled', 1, 'done']);
    assert.equal(t.reg.cancel('nope', WHO), undefined);
  });

  void it('a runner that rejects on cancel ends cancelled with an error event', async () => {
    const t = setup();
    t.runner.onAbort = 'reject';
    const v = await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    t.reg.cancel(v.id, WHO);
    await t.reg.settled(v.id);
    const got = t.reg.get(v.id)!;
    assert.deepEqual([got.state, got.events.at(-1)], ['cancelled', { type: 'error', code: 'OPS_ERR_CANCELLED', message: 'cancelled before a result' }]);
  });

  void it('the deadline (max_duration) aborts it: failed, OP_ERR_TIMEOUT, result kept', async () => {
    const t = setup({ max_duration: 10 });
    const v = await t.reg.start({ kind: 'traceroute', destination: '198.18.0.1', maxHops: 5, queries: 1 }, WHO);
    await t.clock.advance(9_999);
    assert.equal(t.reg.get(v.id)!.state, 'running');
    await t.clock.advance(1);
    await t.reg.settled(v.id);
    const got = t.reg.get(v.id)!;
    assert.deepEqual([got.state, got.error?.code, got.result !== undefined], ['failed', 'OP_ERR_TIMEOUT', true]);
    assert.deepEqual(got.events.map((e) => e.type), ['done', 'error']);
    assert.deepEqual(t.counts.at(-1), 'finished traceroute failed');
  });

  void it('a runner that ignores its abort is given up on after the grace: failed, OP_ERR_TIMEOUT, its slot freed', async () => {
    const t = setup({ max_duration: 10, max_concurrent: 1 });
    t.runner.onAbort = 'ignore';
    const v = await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    t.reg.cancel(v.id, WHO);
    await t.clock.advance(4_999);
    assert.equal(t.reg.get(v.id)!.state, 'running');
    await t.clock.advance(1);
    await t.reg.settled(v.id);
    const got = t.reg.get(v.id)!;
    assert.deepEqual([got.state, got.error?.code, got.events.at(-1)?.type], ['failed', 'OP_ERR_TIMEOUT', 'error']);
    assert.ok(t.lines.some((l) => l.includes('did not end an aborted operation')));
    t.runner.runs[0]!.finish(true);
    await t.clock.advance(0);
    assert.equal(t.reg.get(v.id)!.state, 'failed', 'a late end changes nothing');
    assert.equal((await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO)).state, 'running');
  });

  void it('a runner that rejects, or throws at once, ends failed with its code', async () => {
    const t = setup();
    const v = await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    t.runner.runs[0]!.fail(new AppError(ErrorCodes.NET_ERR_ROUTE, 'no route'));
    await t.reg.settled(v.id);
    assert.deepEqual(t.reg.get(v.id)!.error, { code: 'NET_ERR_ROUTE', message: 'no route' });
    t.runner.throwOnRun = new Error('boom');
    const w = await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    await t.reg.settled(w.id);
    assert.deepEqual([t.reg.get(w.id)!.state, t.reg.get(w.id)!.error?.code], ['failed', 'OPS_ERR_RUNNER']);
    assert.equal(t.reg.running, 0);
  });

  void it('stop aborts the running operations and refuses new ones', async () => {
    const t = setup();
    const v = await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    await t.reg.stop(1000);
    assert.equal(t.reg.get(v.id)!.state, 'cancelled');
    await assert.rejects(t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO), { code: 'SVC_ERR_STATE' });
  });
});

void describe('retention', () => {
  void it('forgets a finished operation after keep_for, never a running one', async () => {
    const t = setup({ keep_for: 60, max_duration: 3600 });
    const a = await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO);
    const b = await t.reg.start({ kind: 'ping', destination: '198.18.0.2' }, WHO);
    t.runner.runs[0]!.finish(true);
    await t.reg.settled(a.id);
    await t.clock.advance(59_999);
    assert.ok(t.reg.get(a.id) !== undefined);
    await t.clock.advance(1);
    assert.equal(t.reg.get(a.id), undefined);
    await t.clock.advance(3_000_000);
    assert.equal(t.reg.get(b.id)?.state, 'running');
    assert.deepEqual(t.reg.list().map((s) => s.id), [b.id]);
  });

  void it('keeps at most keep_count finished operations, dropping the oldest ended first; a reload applies', async () => {
    const t = setup({ max_concurrent: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.reg.start({ kind: 'ping', destination: '198.18.0.1' }, WHO)).id);
    for (const i of [4, 0, 3, 1, 2]) {
      t.runner.runs[i]!.finish(true);
      await t.reg.settled(ids[i]!);
    }
    assert.deepEqual(t.reg.list().map((s) => s.id).sort(), [ids[1], ids[2], ids[3]].sort());
    t.set({ keep_count: 1 });
    assert.deepEqual(t.reg.list().map((s) => s.id), [ids[2]]);
    t.set({ keep_for: 1 });
    await t.clock.advance(1_000);
    assert.deepEqual(t.reg.list(), []);
  });
});
