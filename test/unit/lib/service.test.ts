import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, ErrorCodes, isAppError } from '../../../src/lib/errors.js';
import { createLifecycle, type Lifecycle, type ReloadOutcome, type Service } from '../../../src/lib/service.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';

const START_TIMEOUT_MS = 10_000;
const GRACE_MS = 500;

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A service that records every call in `calls` (as `name.method[:arg]`). */
function recorded(
  calls: string[],
  name: string,
  behave: { start?: () => Promise<void> | void; stop?: () => Promise<void> | void; reload?: (next: number) => ReloadOutcome | Promise<ReloadOutcome> } = {},
): Service<number> {
  return {
    name,
    start: () => {
      calls.push(`${name}.start`);
      return behave.start?.();
    },
    stop: (drainMs) => {
      calls.push(`${name}.stop:${drainMs}`);
      return behave.stop?.();
    },
    reload: (next) => {
      calls.push(`${name}.reload:${next}`);
      return behave.reload?.(next) ?? 'applied';
    },
  };
}

function lifecycleOf(services: Service<number>[], clock = new FakeClock()): { lc: Lifecycle<number>; lines: string[]; clock: FakeClock } {
  const { log, lines } = memoryLogger();
  return { lc: createLifecycle(services, { clock, log, startTimeoutMs: START_TIMEOUT_MS, stopGraceMs: GRACE_MS }), lines, clock };
}

/** Lets pending promise callbacks run (no timer moves). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

void describe('service lifecycle', () => {
  void it('starts in order, reloads in order, stops in reverse order with the drain', async () => {
    const calls: string[] = [];
    const { lc } = lifecycleOf([
      recorded(calls, 'a'),
      { name: 'bare' },
      recorded(calls, 'b', { reload: () => 'unchanged' }),
      recorded(calls, 'c'),
    ]);
    await lc.start();
    assert.deepEqual(calls.splice(0), ['a.start', 'b.start', 'c.start']);
    assert.deepEqual(await lc.reload(7), { a: 'applied', b: 'unchanged', c: 'applied' });
    assert.deepEqual(calls.splice(0), ['a.reload:7', 'b.reload:7', 'c.reload:7']);
    await lc.stop(1500);
    assert.deepEqual(calls.splice(0), ['c.stop:1500', 'b.stop:1500', 'a.stop:1500']);
    await lc.stop(1500);
    assert.deepEqual(calls, [], 'a second stop stops nothing again');
    await assert.rejects(lc.reload(8), (e) => isAppError(e, ErrorCodes.SVC_ERR_STATE));
  });

  void it('a failed start stops what already started, in reverse order, and names the service', async () => {
    const calls: string[] = [];
    const cause = new AppError(ErrorCodes.NET_ERR_PERMISSION, 'no raw socket');
    const { lc, lines } = lifecycleOf([
      recorded(calls, 'a'),
      recorded(calls, 'b'),
      recorded(calls, 'bad', { start: () => Promise.reject(cause) }),
      recorded(calls, 'never'),
    ]);
    await assert.rejects(lc.start(), (e) => {
      assert.ok(isAppError(e, ErrorCodes.SVC_ERR_START));
      assert.equal(e.message, 'bad: no raw socket');
      assert.equal(e.cause, cause);
      return true;
    });
    assert.deepEqual(calls.splice(0), ['a.start', 'b.start', 'bad.start', 'b.stop:0', 'a.stop:0']);
    assert.ok(lines.some((l) => l.includes('service failed to start') && l.includes('service=bad')));
    await assert.rejects(lc.reload(1), (e) => isAppError(e, ErrorCodes.SVC_ERR_STATE));
    await lc.stop(1000);
    assert.deepEqual(calls, [], 'nothing left to stop');
  });

  void it('a start that does not finish in time fails the start and is stopped with the others', async () => {
    const calls: string[] = [];
    const { lc, clock } = lifecycleOf([recorded(calls, 'a'), recorded(calls, 'hung', { start: () => new Promise(() => undefined) })]);
    const started = lc.start();
    await settle();
    await clock.advance(START_TIMEOUT_MS - 1);
    assert.deepEqual(calls, ['a.start', 'hung.start'], 'still waiting');
    const [result] = await Promise.all([started.catch((e: unknown) => e), clock.advance(1)]);
    assert.ok(isAppError(result, ErrorCodes.SVC_ERR_START));
    assert.match(result.message, /^hung: did not start within 10000 ms$/);
    assert.deepEqual(calls, ['a.start', 'hung.start', 'hung.stop:0', 'a.stop:0']);
  });

  void it('a stop that hangs is given up after its drain plus the grace; the others still stop', async () => {
    const calls: string[] = [];
    const { lc, lines, clock } = lifecycleOf([recorded(calls, 'a'), recorded(calls, 'hangs', { stop: () => new Promise(() => undefined) }), recorded(calls, 'c')]);
    await lc.start();
    calls.length = 0;
    let done = false;
    const stopped = lc.stop(1000).then(() => {
      done = true;
    });
    await settle();
    await clock.advance(1000 + GRACE_MS - 1);
    assert.equal(done, false);
    assert.deepEqual(calls, ['c.stop:1000', 'hangs.stop:1000']);
    await clock.advance(1);
    await stopped;
    assert.deepEqual(calls, ['c.stop:1000', 'hangs.stop:1000', 'a.stop:1000']);
    assert.ok(lines.some((l) => l.includes('service did not stop in time') && l.includes('service=hangs') && l.includes('boundMs=1500')));
  });

  void it('a stop that throws is logged; the others still stop', async () => {
    const calls: string[] = [];
    const { lc, lines } = lifecycleOf([recorded(calls, 'a'), recorded(calls, 'b', { stop: () => Promise.reject(new Error('boom')) })]);
    await lc.start();
    await lc.stop(0);
    assert.deepEqual(calls, ['a.start', 'b.start', 'b.stop:0', 'a.stop:0']);
    assert.ok(lines.some((l) => l.includes('service failed to stop') && l.includes('service=b') && l.includes('err=boom')));
  });

  void it('a reload during the start waits for the start; a failed service reload does not stop the fan-out', async () => {
    const calls: string[] = [];
    const gate = deferred();
    const { lc } = lifecycleOf([
      recorded(calls, 'a', { reload: () => Promise.reject(new Error('bad value')) }),
      recorded(calls, 'slow', { start: () => gate.promise }),
      recorded(calls, 'c'),
    ]);
    const started = lc.start();
    const reloaded = lc.reload(2).catch((e: unknown) => e);
    await settle();
    assert.deepEqual(calls.splice(0), ['a.start', 'slow.start']);
    gate.resolve();
    await started;
    const e = await reloaded;
    assert.ok(isAppError(e, ErrorCodes.SVC_ERR_RELOAD));
    assert.equal(e.message, 'reload failed in: a');
    assert.deepEqual(calls, ['c.start', 'a.reload:2', 'slow.reload:2', 'c.reload:2']);
  });

  void it('a stop during the start starts nothing more, stops what started, and the start resolves', async () => {
    const calls: string[] = [];
    const gate = deferred();
    const { lc } = lifecycleOf([recorded(calls, 'a'), recorded(calls, 'slow', { start: () => gate.promise }), recorded(calls, 'c')]);
    const started = lc.start();
    await settle();
    const stopped = lc.stop(100);
    await settle();
    assert.deepEqual(calls.splice(0), ['a.start', 'slow.start'], 'the stop waits for the start under way');
    gate.resolve();
    await started;
    await stopped;
    assert.deepEqual(calls, ['slow.stop:100', 'a.stop:100']);
  });

  void it('a stop waits for a reload under way, so that the reload cannot restart what was stopped', async () => {
    const calls: string[] = [];
    const gate = deferred();
    const { lc } = lifecycleOf([recorded(calls, 'a', { reload: () => gate.promise.then(() => 'applied' as const) }), recorded(calls, 'b')]);
    await lc.start();
    const reloaded = lc.reload(3);
    const stopped = lc.stop(100);
    await settle();
    assert.deepEqual(calls.splice(2), ['a.reload:3']);
    gate.resolve();
    await reloaded;
    await stopped;
    assert.deepEqual(calls.splice(2), ['b.reload:3', 'b.stop:100', 'a.stop:100']);
  });

  void it('cannot start twice', async () => {
    const { lc } = lifecycleOf([]);
    await lc.start();
    await assert.rejects(lc.start(), (e) => isAppError(e, ErrorCodes.SVC_ERR_STATE));
  });
});
