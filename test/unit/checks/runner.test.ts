import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { substitute } from '../../../src/checks/actions.js';
import { checksSection } from '../../../src/checks/service.js';
import { createCheckRunner, nextDue, type CheckKinds, type CheckRunner } from '../../../src/checks/runner.js';
import type { CheckContext, CheckKind, CheckResult } from '../../../src/checks/types.js';
import type { CheckInstanceConfig, Config } from '../../../src/config/types.js';
import { AppError, ErrorCodes } from '../../../src/lib/errors.js';
import type { ExecFn } from '../../../src/lib/exec.js';
import { createCheckMetrics } from '../../../src/metrics/check-metrics.js';
import { FakeClock } from '../../fakes/clock.js';
import { fakeCheckDeps } from '../../fakes/host-check-deps.js';
import { memoryLogger } from '../../fakes/logger.js';

/** A scripted run: a result, a thrown error, or a function for full control (it gets the context). */
type Step = CheckResult | Error | ((ctx: CheckContext) => Promise<CheckResult>);

const FAKE_METRICS = [
  { name: 'wireprobe_fake_value', help: 'fake gauge', type: 'gauge', labelNames: ['item'] },
  { name: 'wireprobe_fake_events_total', help: 'fake counter', type: 'counter', labelNames: [] },
] as const;

/** A fake kind whose instances play a script of results, one per run (the last one repeats). */
function scriptedKind(scripts: Record<string, Step[]>, calls: Call[], clock: FakeClock): CheckKind<CheckInstanceConfig> {
  return {
    kind: 'processes',
    metrics: FAKE_METRICS,
    create(options) {
      if (options.name === 'broken') throw new AppError(ErrorCodes.CHK_ERR_UNAVAILABLE, 'cannot create');
      let n = 0;
      return {
        run(ctx: CheckContext): Promise<CheckResult> {
          calls.push({ name: options.name, at: clock.monoMs(), signal: ctx.signal });
          const script = scripts[options.name] ?? [];
          const step = script[Math.min(n++, script.length - 1)];
          if (step === undefined) throw new Error('no script');
          if (typeof step === 'function') return step(ctx);
          return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
        },
      };
    },
  };
}

interface Call {
  name: string;
  at: number;
  signal: AbortSignal;
}

function instance(name: string, extra: Partial<CheckInstanceConfig> = {}): CheckInstanceConfig {
  return { name, enabled: true, interval: 10, timeout: 2, on_failure: [], ...extra };
}

const OK: CheckResult = { ok: true, samples: [] };

interface Harness {
  runner: CheckRunner;
  clock: FakeClock;
  registry: Registry;
  lines: string[];
  calls: Call[];
  execs: string[][];
  /** exposition lines of one family (samples only) */
  metric(name: string): Promise<string[]>;
}

function harness(list: CheckInstanceConfig[], scripts: Record<string, Step[]>, exec?: ExecFn): Harness {
  const clock = new FakeClock();
  const { log, lines } = memoryLogger();
  const registry = new Registry();
  const calls: Call[] = [];
  const execs: string[][] = [];
  const kind = scriptedKind(scripts, calls, clock);
  const kinds: CheckKinds = { processes: kind };
  const recordingExec: ExecFn = (argv, opts) => {
    execs.push([...argv]);
    return exec ? exec(argv, opts) : Promise.resolve({ code: 0, signal: null, stdout: 'done\n', stderr: '' });
  };
  const checks: Config['checks'] = { routes: [], conntrack: [], dhcp: [], processes: list };
  const runner = createCheckRunner({
    kinds,
    checks,
    recorder: createCheckMetrics(registry, [kind]),
    checkDeps: fakeCheckDeps({ clock, log, exec: recordingExec }),
    clock,
    log,
  });
  const metric = async (name: string): Promise<string[]> =>
    (await registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .sort();
  return { runner, clock, registry, lines, calls, execs, metric };
}

const fail = (reason: string, message = reason): CheckResult => ({ ok: false, reason, message, samples: [] });

void describe('check runner', () => {
  void it('results(): each enabled instance with its last run, for the status page; the checks section renders them', async () => {
    const h = harness([instance('a'), instance('b', { interval: 30 })], { a: [fail('no_match', 'no process matches')], b: [OK] });
    assert.deepEqual(h.runner.results().map((r) => [r.name, r.ok, r.lastWallMs]), [['a', null, 0], ['b', null, 0]]);
    h.runner.start();
    await h.clock.advance(6000);
    const [a, b] = h.runner.results();
    assert.deepEqual([a!.ok, a!.reason, a!.message, b!.ok, b!.reason], [false, 'no_match', 'no process matches', true, null]);
    assert.ok(a!.lastWallMs > 0 && b!.lastWallMs >= a!.lastWallMs);
    const section = checksSection(h.runner.results());
    assert.deepEqual(section.rows.map((r) => [r.cells[1], r.cells[2], r.state]), [['a', 'failed', 'bad'], ['b', 'ok', 'ok']]);
    await h.runner.stop(100);
  });

  void it('spreads the first runs over min(interval, 5 s), then runs each instance every interval', async () => {
    const h = harness([instance('a'), instance('b'), instance('c', { interval: 2 }), instance('off', { enabled: false })], { a: [OK], b: [OK], c: [OK] });
    h.runner.start();
    await h.clock.advance(20_500);
    const at = (n: string): number[] => h.calls.filter((c) => c.name === n).map((c) => c.at);
    assert.deepEqual(at('a'), [0, 10_000, 20_000]);
    assert.deepEqual(at('b').map(Math.round), [1667, 11667]);
    assert.deepEqual(at('c').map(Math.round), [1333, 3333, 5333, 7333, 9333, 11333, 13333, 15333, 17333, 19333]);
    assert.equal(at('off').length, 0);
    assert.ok(h.lines.some((l) => l.includes('msg="host checks" enabled=3 disabled=processes/off')), h.lines.join('\n'));
    assert.deepEqual(await h.metric('wireprobe_check_success'), [
      'wireprobe_check_success{check="processes",name="a"} 1',
      'wireprobe_check_success{check="processes",name="b"} 1',
      'wireprobe_check_success{check="processes",name="c"} 1',
    ]);
    await h.runner.stop(100);
  });

  void it('fails a run at its timeout even if the check ignores the signal, and skips runs due while it is still going', async () => {
    let release: (r: CheckResult) => void = () => undefined;
    const hang = (): Promise<CheckResult> => new Promise((r) => (release = r));
    const h = harness([instance('slow', { interval: 3, timeout: 1 })], { slow: [hang, OK] });
    h.runner.start();
    await h.clock.advance(999);
    assert.equal(h.calls.length, 1);
    assert.equal(h.calls[0]!.signal.aborted, false);
    assert.deepEqual(await h.metric('wireprobe_check_success'), []);
    await h.clock.advance(1);
    assert.equal(h.calls[0]!.signal.aborted, true, 'aborted at the timeout');
    assert.deepEqual(await h.metric('wireprobe_check_success'), ['wireprobe_check_success{check="processes",name="slow"} 0']);
    assert.deepEqual(await h.metric('wireprobe_check_failure_reason'), ['wireprobe_check_failure_reason{check="processes",name="slow",reason="timeout"} 1']);
    assert.deepEqual(await h.metric('wireprobe_check_duration_seconds'), ['wireprobe_check_duration_seconds{check="processes",name="slow"} 1']);
    await h.clock.advance(5000); // due at 3 s and 6 s: the first run has not returned
    assert.equal(h.calls.length, 1, 'no second run while the first is going');
    assert.ok((await h.metric('wireprobe_check_runs_total')).includes('wireprobe_check_runs_total{check="processes",name="slow",result="skipped"} 2'));
    release(OK); // the late result is not recorded: the run already failed at its timeout
    await h.clock.advance(0);
    assert.deepEqual(await h.metric('wireprobe_check_success'), ['wireprobe_check_success{check="processes",name="slow"} 0']);
    await h.clock.advance(3000); // due at 9 s
    assert.equal(h.calls.length, 2);
    assert.deepEqual(await h.metric('wireprobe_check_success'), ['wireprobe_check_success{check="processes",name="slow"} 1']);
    assert.deepEqual(await h.metric('wireprobe_check_failure_reason'), []);
    assert.deepEqual(await h.metric('wireprobe_check_runs_total'), [
      'wireprobe_check_runs_total{check="processes",name="slow",result="failed"} 1',
      'wireprobe_check_runs_total{check="processes",name="slow",result="ok"} 1',
      'wireprobe_check_runs_total{check="processes",name="slow",result="skipped"} 2',
    ]);
    await h.runner.stop(100);
  });

  void it('maps thrown errors to bounded reasons and logs once per transition, not every run', async () => {
    const denied = new AppError(ErrorCodes.CHK_ERR_PERMISSION, 'open /proc/1/status: permission denied');
    const h = harness([instance('p', { interval: 1 }), instance('broken')], {
      p: [denied, denied, denied, new Error('free text\nwith lines'), fail('Not A Token!'), OK, OK],
    });
    h.runner.start();
    await h.clock.advance(2500); // runs at 0, 1, 2: permission denied
    const warnings = (): string[] => h.lines.filter((l) => l.includes('module=check.processes.p') && !l.includes('level=debug'));
    assert.equal(warnings().length, 1, warnings().join('\n'));
    assert.match(warnings()[0]!, /level=warn .*msg="check failed" check=processes name=p reason=permission_denied message="open \/proc\/1\/status: permission denied"/);
    assert.deepEqual(await h.metric('wireprobe_check_failure_reason'), [
      'wireprobe_check_failure_reason{check="processes",name="broken",reason="unavailable"} 1',
      'wireprobe_check_failure_reason{check="processes",name="p",reason="permission_denied"} 1',
    ]);
    await h.clock.advance(1000); // plain Error → error
    assert.equal(warnings().length, 2);
    assert.match(warnings()[1]!, /msg="check failing for another reason" .*reason=error was=permission_denied message="free text \| with lines"/);
    await h.clock.advance(1000); // a reason that is not a token → error: no new transition
    assert.equal(warnings().length, 2);
    await h.clock.advance(2000); // ok, ok
    assert.equal(warnings().length, 3);
    assert.match(warnings()[2]!, /level=info .*msg="check recovered"/);
    assert.ok(h.lines.some((l) => /level=error module=check.processes.broken msg="check could not be created" err="cannot create"/.test(l)));
    await h.runner.stop(100);
  });

  void it('replaces the samples of an instance with those of its last run, and types counters as counters', async () => {
    const run1: CheckResult = {
      ok: true,
      samples: [
        { metric: 'wireprobe_fake_value', labels: { item: 'x' }, value: 1 },
        { metric: 'wireprobe_fake_value', labels: { item: 'y' }, value: 2 },
        { metric: 'wireprobe_fake_events_total', labels: {}, value: 41 },
      ],
    };
    const run2: CheckResult = {
      ok: false,
      reason: 'something_off',
      samples: [
        { metric: 'wireprobe_fake_value', labels: { item: 'y' }, value: 3 },
        { metric: 'wireprobe_fake_events_total', labels: {}, value: 42 },
        { metric: 'wireprobe_not_declared', labels: {}, value: 1 },
        { metric: 'wireprobe_fake_value', labels: { item: 'z', extra: 'no' }, value: 1 },
      ],
    };
    const other: CheckResult = { ok: true, samples: [{ metric: 'wireprobe_fake_value', labels: { item: 'x' }, value: 7 }] };
    const h = harness([instance('one', { interval: 10 }), instance('two', { interval: 10 })], { one: [run1, run2, new Error('boom')], two: [other] });
    h.runner.start();
    await h.clock.advance(3000);
    assert.deepEqual(await h.metric('wireprobe_fake_value'), [
      'wireprobe_fake_value{item="x",name="one"} 1',
      'wireprobe_fake_value{item="x",name="two"} 7',
      'wireprobe_fake_value{item="y",name="one"} 2',
    ]);
    const text = await h.registry.metrics();
    assert.match(text, /# TYPE wireprobe_fake_events_total counter\nwireprobe_fake_events_total\{name="one"\} 41\n/);
    assert.match(text, /# TYPE wireprobe_fake_value gauge\n/);
    await h.clock.advance(10_000);
    assert.deepEqual(await h.metric('wireprobe_fake_value'), ['wireprobe_fake_value{item="x",name="two"} 7', 'wireprobe_fake_value{item="y",name="one"} 3']);
    assert.deepEqual(await h.metric('wireprobe_fake_events_total'), ['wireprobe_fake_events_total{name="one"} 42']);
    const rejected = h.lines.filter((l) => l.includes('do not match its metrics'));
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!, /count=2 first="wireprobe_not_declared: undeclared metric"/);
    await h.clock.advance(10_000); // a thrown error: no samples at all for this instance
    assert.deepEqual(await h.metric('wireprobe_fake_value'), ['wireprobe_fake_value{item="x",name="two"} 7']);
    assert.deepEqual(await h.metric('wireprobe_fake_events_total'), []);
    assert.equal(h.lines.filter((l) => l.includes('do not match its metrics')).length, 1, 'logged once');
    await h.runner.stop(100);
  });

  void it('runs on_failure actions on the transition to failure only, with placeholders substituted', async () => {
    const actions = [
      { exec: ['notify', '{check}/{name}', 'reason={reason}', '{message}', '{unknown}'], timeout: 5 },
      { exec: ['second'], timeout: 1 },
    ];
    const exec: ExecFn = (argv) =>
      argv[0] === 'second'
        ? Promise.reject(new AppError(ErrorCodes.OP_ERR_TIMEOUT, 'second: timed out after 1000 ms'))
        : Promise.resolve({ code: 3, signal: null, stdout: 'x'.repeat(1000), stderr: '' });
    const h = harness([instance('a', { interval: 1, on_failure: actions })], {
      a: [fail('route_missing', 'no {name} here'), fail('route_missing'), fail('null_route'), OK, fail('not_routable')],
    }, exec);
    h.runner.start();
    await h.clock.advance(4500);
    assert.deepEqual(h.execs, [['notify', 'processes/a', 'reason=route_missing', 'no {name} here', '{unknown}'], ['second'], ['notify', 'processes/a', 'reason=not_routable', 'not_routable', '{unknown}'], ['second']]);
    assert.deepEqual(await h.metric('wireprobe_check_actions_total'), [
      'wireprobe_check_actions_total{check="processes",name="a",result="failed"} 2',
      'wireprobe_check_actions_total{check="processes",name="a",result="timeout"} 2',
    ]);
    const logged = h.lines.filter((l) => l.includes('msg="failure action failed"'));
    assert.equal(logged.length, 2);
    assert.ok(logged[0]!.includes(`output="${'x'.repeat(300)}…"`), logged[0]);
    await h.runner.stop(100);
  });

  void it('a check that never returns does not hold stop beyond its bound', async () => {
    const h = harness([instance('stuck', { timeout: 60 })], { stuck: [() => new Promise<CheckResult>(() => undefined)] });
    h.runner.start();
    await h.clock.advance(10);
    assert.equal(h.calls[0]!.signal.aborted, false);
    let stopped = false;
    const stopping = h.runner.stop(500).then(() => (stopped = true));
    assert.equal(h.calls[0]!.signal.aborted, true, 'stop aborts the running check');
    await h.clock.advance(499);
    assert.equal(stopped, false);
    await h.clock.advance(1);
    await stopping;
    assert.equal(h.clock.pendingTimers, 0, 'no timer left behind');
    assert.deepEqual(await h.metric('wireprobe_check_success'), [], 'nothing recorded for a run cut by shutdown');
  });
});

void describe('check actions: substitute', () => {
  void it('replaces each placeholder once, without re-scanning substituted values', () => {
    const vars = { check: 'routes', name: 'r1', reason: 'route_missing', message: 'see {check}' };
    assert.deepEqual(substitute(['{name}-{name}', '{message}', '{{reason}}', 'plain'], vars), ['r1-r1', 'see {check}', '{route_missing}', 'plain']);
  });
});

void describe('check runner: nextDue', () => {
  void it('keeps a fixed rate, and skips the runs missed during a stall instead of catching up', () => {
    assert.equal(nextDue(1000, 1000, 500), 1500);
    assert.equal(nextDue(1000, 1499, 500), 1500);
    assert.equal(nextDue(1000, 1500, 500), 2000);
    assert.equal(nextDue(1000, 3700, 500), 4000);
  });
});
