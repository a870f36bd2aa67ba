/**
 * The probing loop: starts a round every `interval`, sends each task's packets at their
 * planned times through one timer, and reports when a whole round has settled. A slow or
 * unanswered target only holds its own round: every task settles independently.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import { MinHeap } from '../lib/heap.js';
import type { Logger } from '../lib/logger.js';
import type { Engine } from '../net/engine.js';
import type { PreparedProbe } from '../probes/types.js';
import type { RoundResult } from '../metrics/record.js';
import { phaseOf, planTask } from './plan.js';
import { RoundAccount } from './round.js';

/** sends due within this many ms are made together (fewer timer wake-ups) */
const QUANTUM_MS = 2;

export interface SchedTask {
  readonly key: string;
  readonly nbPackets: number;
  readonly timeoutS: number;
  /** one prepared probe per destination address; empty while unresolved */
  probes: readonly PreparedProbe[];
  onRound(r: RoundResult): void;
}

interface Pending {
  time: number;
  readonly task: SchedTask;
  readonly probes: readonly PreparedProbe[];
  readonly account: RoundAccount;
  readonly gapMs: number;
  next: number;
}

export interface LoopOptions {
  readonly intervalS: number;
  readonly intervalPacketsS: number;
}

export interface LoopDeps {
  readonly engine: Engine;
  readonly clock: Clock;
  readonly log: Logger;
  /** called when every task of round `n` has settled, with its duration in seconds */
  readonly onIteration: (seconds: number) => void;
  /** called at the start of every round, before its sends are planned */
  readonly beforeRound: () => void;
}

export class ProbeLoop {
  readonly #d: LoopDeps;
  #opts: LoopOptions;
  readonly #tasks = new Map<string, SchedTask>();
  readonly #heap = new MinHeap<Pending>((p) => p.time);
  #sendTimer: TimerHandle | null = null;
  #roundTimer: TimerHandle | null = null;
  #armedFor = Infinity;
  #nextRoundAt = 0;
  #running = false;
  /** the longest delay of a send behind its planned time, over the last round (ms) */
  sendLagMs = 0;
  #lagThisRound = 0;

  constructor(deps: LoopDeps, opts: LoopOptions) {
    this.#d = deps;
    this.#opts = opts;
  }

  setOptions(opts: LoopOptions): void {
    this.#opts = opts;
  }

  setTask(t: SchedTask): void {
    this.#tasks.set(t.key, t);
  }

  removeTask(key: string): void {
    this.#tasks.delete(key);
    this.#heap.removeWhere((p) => p.task.key === key);
  }

  get taskCount(): number {
    return this.#tasks.size;
  }

  start(): void {
    this.#running = true;
    this.#nextRoundAt = this.#d.clock.monoMs();
    this.#startRound();
  }

  stop(): void {
    this.#running = false;
    this.#sendTimer?.cancel();
    this.#roundTimer?.cancel();
    this.#sendTimer = null;
    this.#roundTimer = null;
  }

  #startRound(): void {
    if (!this.#running) return;
    const { clock } = this.#d;
    const start = this.#nextRoundAt;
    this.#d.beforeRound();
    this.sendLagMs = this.#lagThisRound;
    this.#lagThisRound = 0;
    const { intervalS, intervalPacketsS } = this.#opts;
    let outstanding = 0;
    const settle = (): void => {
      if (--outstanding === 0) this.#d.onIteration((clock.monoMs() - start) / 1000);
    };
    for (const task of this.#tasks.values()) {
      if (task.probes.length === 0) continue;
      const probes = task.probes;
      const n = probes.length * task.nbPackets;
      const timing = planTask(intervalS, intervalPacketsS, n, task.timeoutS, phaseOf(task.key));
      outstanding++;
      const account = new RoundAccount(n, () => clock.wallMs(), (r) => {
        task.onRound(r);
        settle();
      });
      this.#heap.push({ time: start + timing.offsetMs, task, probes, account, gapMs: timing.gapMs, next: 0 });
    }
    this.#nextRoundAt = start + intervalS * 1000;
    this.#roundTimer = clock.setTimer(this.#nextRoundAt - clock.monoMs(), () => this.#startRound());
    this.#armSend();
  }

  #armSend(): void {
    const top = this.#heap.peek();
    if (!top || !this.#running) return;
    if (this.#sendTimer && top.time >= this.#armedFor) return;
    this.#sendTimer?.cancel();
    this.#armedFor = top.time;
    this.#sendTimer = this.#d.clock.setTimer(top.time - this.#d.clock.monoMs(), () => {
      this.#sendTimer = null;
      this.#armedFor = Infinity;
      this.#sendDue();
    });
  }

  #sendDue(): void {
    const { clock, engine } = this.#d;
    const now = clock.monoMs();
    const horizon = now + QUANTUM_MS;
    for (let p = this.#heap.peek(); p && p.time <= horizon; p = this.#heap.peek()) {
      this.#heap.pop();
      const lag = now - p.time;
      if (lag > this.#lagThisRound) this.#lagThisRound = lag;
      const i = p.next++;
      p.probes[i % p.probes.length]!.send(engine, p.account, i);
      if (p.next < p.account.total) {
        p.time += p.gapMs;
        this.#heap.push(p);
      }
    }
    this.#armSend();
  }
}
