import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from '../../../src/net/engine.js';
import { Outcome } from '../../../src/net/types.js';
import type { PreparedProbe } from '../../../src/probes/types.js';
import { AdmissionController, BURST_S, DECREASE, INCREASE, MIN_RATE, WINDOW_MS } from '../../../src/scheduler/admission.js';
import { ProbeLoop } from '../../../src/scheduler/loop.js';
import type { RoundResult } from '../../../src/scheduler/round.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';

/** sends `perWindow` probes spread over one window starting at `t`, with the given lag; returns the admitted count */
function window(a: AdmissionController, t: number, perWindow: number, lagMs: number): number {
  let admitted = 0;
  for (let i = 0; i < perWindow; i++) {
    const now = t + (i * WINDOW_MS) / perWindow;
    a.observeLag(lagMs, now);
    if (a.tryAdmit(now)) admitted++;
  }
  return admitted;
}

void test('no lag, no ceiling: everything is admitted and the rate stays unlimited', () => {
  const a = new AdmissionController({ maxLagMs: 100, maxRate: 0 }, 0);
  for (let w = 0; w < 5; w++) assert.equal(window(a, w * WINDOW_MS, 1000, 5), 1000);
  assert.equal(a.rate, Infinity);
  assert.equal(a.limiting, false);
  assert.equal(a.waitMs(10_000), 0);
});

void test('a late window cuts the rate to DECREASE × what was sent; on-time windows raise it, then lift it', () => {
  const a = new AdmissionController({ maxLagMs: 100, maxRate: 0 }, 0);
  // 10 000 probes in the first window (20 000/s), the loop 300 ms late
  window(a, 0, 10_000, 300);
  a.observeLag(0, WINDOW_MS);
  assert.equal(a.lastLagMs, 300);
  assert.ok(Math.abs(a.rate - 20_000 * DECREASE) < 1e-6, `rate ${a.rate}`);
  assert.ok(a.limiting);
  // still late: cut again, from the rate sent (capped by the limit)
  window(a, WINDOW_MS, 20_000, 300);
  a.observeLag(0, 2 * WINDOW_MS);
  assert.ok(a.rate <= 20_000 * DECREASE * DECREASE + 1 && a.rate >= MIN_RATE, `rate ${a.rate}`);
  const cut = a.rate;
  // on time (lag under half the target): raised by INCREASE per window
  window(a, 2 * WINDOW_MS, 20_000, 10);
  a.observeLag(0, 3 * WINDOW_MS);
  assert.ok(Math.abs(a.rate - cut * INCREASE) < 1e-6, `rate ${a.rate}`);
  // between half the target and the target: held
  window(a, 3 * WINDOW_MS, 20_000, 70);
  a.observeLag(0, 4 * WINDOW_MS);
  assert.ok(Math.abs(a.rate - cut * INCREASE) < 1e-6, `rate ${a.rate}`);
  // demand falls to 20 probes per window: the limit rises past 4 × that and is lifted
  let t = 4 * WINDOW_MS;
  for (let w = 0; w < 20 && a.limiting; w++, t += WINDOW_MS) window(a, t, 20, 0);
  assert.equal(a.rate, Infinity);
});

void test('the rate never falls below MIN_RATE, even when nothing could be sent', () => {
  const a = new AdmissionController({ maxLagMs: 50, maxRate: 0 }, 0);
  for (let w = 0; w < 30; w++) {
    a.observeLag(5000, w * WINDOW_MS);
    a.tryAdmit(w * WINDOW_MS);
  }
  assert.equal(a.rate, MIN_RATE);
});

void test('tokens: admitted at the limit with a bounded burst; waitMs says when the next one comes', () => {
  const a = new AdmissionController({ maxLagMs: 100, maxRate: 1000 }, 0);
  assert.equal(a.rate, 1000);
  // after a long idle time the bucket holds only the burst
  let first = 0;
  while (a.tryAdmit(10_000)) first++;
  assert.equal(first, Math.max(1, 1000 * BURST_S));
  assert.equal(a.waitMs(10_000), 1);
  // over one second at 1 ms steps: ~1000 admitted
  let n = 0;
  for (let t = 10_000; t < 11_000; t += 0.25) if (a.tryAdmit(t)) n++;
  assert.ok(n >= 995 && n <= 1001, `admitted ${n}`);
});

void test('the fixed ceiling applies on top of the adaptive limit', () => {
  const a = new AdmissionController({ maxLagMs: 100, maxRate: 500 }, 0);
  window(a, 0, 10_000, 0);
  a.observeLag(0, WINDOW_MS);
  assert.equal(a.rate, 500);
  a.setOptions({ maxLagMs: 100, maxRate: 0 });
  assert.equal(a.rate, Infinity);
});

/** a probe that answers at once */
function instant(sends: number[], clock: FakeClock): PreparedProbe {
  return {
    send(_e, sink, index) {
      sends.push(clock.monoMs());
      sink.onOutcome(index, Outcome.OK, 0.001);
    },
  };
}

void test('the loop paces sends at max_probe_rate, counts deferred probes, and skips rounds still waiting', async () => {
  const clock = new FakeClock();
  const loop = new ProbeLoop(
    { engine: { setPumpMs: () => undefined, setRequestedRate: () => undefined } as unknown as Engine, clock, log: memoryLogger().log, onIteration: () => undefined, beforeRound: () => undefined },
    { intervalS: 1, intervalPacketsS: 0.001, admission: { maxLagMs: 100_000, maxRate: 100 } },
  );
  const sends: number[] = [];
  const rounds: RoundResult[] = [];
  // 300 packets per 1 s round, 1 ms apart: 3 × what 100 probes/s admits
  loop.setTask({ key: 'a', nbPackets: 300, timeoutS: 0.01, probes: [instant(sends, clock)], onRound: (r) => rounds.push({ ...r }) });
  loop.start();
  await clock.advance(2999);
  // from the first send on (the task's phase), ~100 per second (+ the first burst of 2)
  const first = sends[0]!;
  const perSecond = [0, 1].map((s) => sends.filter((t) => t >= first + s * 1000 && t < first + (s + 1) * 1000).length);
  for (const n of perSecond) assert.ok(n >= 99 && n <= 102, `per second ${perSecond.join(',')}`);
  assert.ok(sends.length < 300, `sent ${sends.length}`);
  assert.equal(loop.admission.deferred, sends.length - 1, 'every probe after the first waited');
  // rounds at 1 s and 2 s found the first still waiting: skipped whole
  assert.equal(loop.admission.skipped, 600);
  assert.equal(rounds.length, 0, 'the first round is still being sent');
  await clock.advance(1000);
  assert.equal(rounds.length, 1);
  assert.equal(rounds[0]!.sent, 300);
  loop.stop();
});

void test('an overdue backlog is sent over several turns of the event loop, not in one callback', async () => {
  const fake = new FakeClock();
  let offset = 0;
  let turn = 0;
  // a clock whose monotonic time can jump ahead of its timers (a blocked event loop)
  const clock = {
    monoMs: () => fake.monoMs() + offset,
    wallMs: () => fake.wallMs() + offset,
    setTimer: (ms: number, fn: () => void) => fake.setTimer(ms, () => {
      turn++;
      fn();
    }),
  };
  const loop = new ProbeLoop(
    { engine: { setPumpMs: () => undefined, setRequestedRate: () => undefined } as unknown as Engine, clock, log: memoryLogger().log, onIteration: () => undefined, beforeRound: () => undefined },
    { intervalS: 10, intervalPacketsS: 0, admission: { maxLagMs: 1e9, maxRate: 0 } },
  );
  const turns: number[] = [];
  const probe: PreparedProbe = {
    send(_e, sink, index) {
      turns.push(turn);
      sink.onOutcome(index, Outcome.OK, 0.001);
    },
  };
  for (let i = 0; i < 5000; i++) loop.setTask({ key: `t${i}`, nbPackets: 1, timeoutS: 0.5, probes: [probe], onRound: () => undefined });
  loop.start();
  // the loop stalls for 9 s: every send of the round is overdue at the next wake-up
  offset = 9000;
  await fake.advance(100);
  assert.equal(turns.length, 5000);
  const perTurn = new Map<number, number>();
  for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
  assert.deepEqual([...perTurn.values()], [2000, 2000, 1000]);
  assert.equal(loop.admission.deferred, 0);
  loop.stop();
});

void test('while admission limits, every task whose round is still unsent skips its next one, not only the one waiting first', async () => {
  const clock = new FakeClock();
  const rates: number[] = [];
  const loop = new ProbeLoop(
    { engine: { setPumpMs: () => undefined, setRequestedRate: (pps: number) => rates.push(pps) } as unknown as Engine, clock, log: memoryLogger().log, onIteration: () => undefined, beforeRound: () => undefined },
    { intervalS: 1, intervalPacketsS: 0, admission: { maxLagMs: 100_000, maxRate: 100 } },
  );
  const sends: number[] = [];
  // 500 one-packet tasks spread over the first 0.9 s: 500 probes/s asked, 100/s admitted
  for (let i = 0; i < 500; i++) loop.setTask({ key: `t${i}`, nbPackets: 1, timeoutS: 0.01, probes: [instant(sends, clock)], onRound: () => undefined });
  loop.start();
  await clock.advance(1001);
  // at 1 s ~100 were sent; the ~400 still queued skip their second round (most never waited first in line)
  assert.ok(sends.length >= 95 && sends.length <= 105, `sent ${sends.length}`);
  const { skipped } = loop.admission;
  assert.ok(Math.abs(skipped - (500 - sends.length)) <= 2, `skipped ${skipped}, sent ${sends.length}`);
  // the capture ring is sized for what the targets ask, not for what admission lets out
  assert.deepEqual(rates, [500, 500]);
  loop.stop();
});

void test('a starved sender (each send costs more time than planned) keeps one round queued per task and counts the rest as skipped', async () => {
  const clock = new FakeClock();
  let roundStarts = 0;
  const loop = new ProbeLoop(
    { engine: { setPumpMs: () => undefined, setRequestedRate: () => undefined } as unknown as Engine, clock, log: memoryLogger().log, onIteration: () => undefined, beforeRound: () => void roundStarts++ },
    { intervalS: 1, intervalPacketsS: 0, admission: { maxLagMs: 100, maxRate: 0 } },
  );
  let sent = 0;
  let answered = 0;
  let lost = 0;
  const rounds = new Set<object>();
  // each send takes 0.4 ms of the event loop: 2500 probes/s can leave, 5000/s are planned; a turn
  // of sends (MAX_SENDS_PER_WAKE) ends before the next round is due, so the timers themselves are
  // never late and the adaptive rate alone never limits
  const probe: PreparedProbe = {
    send(_e, sink, index) {
      sent++;
      rounds.add(sink);
      clock.spend(COST_MS);
      sink.onOutcome(index, Outcome.OK, 0.001);
    },
  };
  const TASKS = 50;
  const PACKETS = 100;
  const COST_MS = 0.4;
  for (let i = 0; i < TASKS; i++) {
    loop.setTask({ key: `t${i}`, nbPackets: PACKETS, timeoutS: 0.1, probes: [probe], onRound: (r) => void ((answered += r.sent), (lost += r.lost)) });
  }
  loop.start();
  const queued: number[] = [];
  for (let s = 0; s < 60; s += 5) {
    await clock.advance(5000);
    // planned by the rounds started so far, neither sent nor skipped: still queued
    queued.push(roundStarts * TASKS * PACKETS - sent - loop.admission.skipped);
  }
  loop.stop();
  const elapsedS = clock.monoMs() / 1000;
  assert.ok(sent >= (0.9 * elapsedS * 1000) / COST_MS, `sent ${sent} in ${elapsedS} s: the sender keeps sending at what it can`);
  // at most one round per task queued, whatever the run's length
  assert.ok(Math.max(...queued) <= TASKS * PACKETS, `queued probes per 5 s: ${queued.join(',')}`);
  assert.ok(rounds.size <= 2 * TASKS, `${rounds.size} round objects for ${TASKS} tasks`);
  assert.ok(loop.sendLagMs <= 2 * TASKS * PACKETS * COST_MS, `send lag ${loop.sendLagMs} ms`);
  // what was not sent was skipped, whole rounds, counted once: neither sent nor lost
  assert.ok(loop.admission.skipped > 0 && loop.admission.skipped % PACKETS === 0, `skipped ${loop.admission.skipped}`);
  assert.ok(Math.min(...queued) >= 0, `queued probes per 5 s: ${queued.join(',')}`);
  assert.equal(lost, 0);
  assert.ok(answered <= sent && answered >= sent - TASKS * PACKETS, `answered ${answered}, sent ${sent}`);
});
