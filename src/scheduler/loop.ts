/**
 * The probing loop: starts a round every `interval`, sends each task's packets at their
 * planned times through one timer, and reports when a whole round has settled. A slow or
 * unanswered target only holds its own round: every task settles independently.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { MinHeap } from '../lib/heap.js';
import type { Logger } from '../lib/logger.js';
import type { Engine } from '../net/engine.js';
import { Outcome } from '../net/types.js';
import type { PreparedProbe } from '../probes/types.js';
import { AdmissionController, type AdmissionOptions } from './admission.js';
import { phaseHashOf, phaseOfHash, planTask } from './plan.js';
import { checkRound, Round, RttPool, type Iteration, type RoundOwner, type RoundResult } from './round.js';

/**
 * Sends are made on a grid of instants (fewer timer wake-ups): a packet may leave up to one
 * quantum before its planned time, at the grid instant that starts its quantum. A round's first
 * packet (its place in the interval is a phase anyway) uses the loop's quantum, which follows
 * the planned rate: the coarsest of COARSE_QUANTA_MS that puts at most MAX_FIRST_PER_INSTANT
 * first packets on one instant, and above SHORT_QUANTUM_MS a tenth of the interval at most (1 s up to 200 probes/s
 * at an interval of 10 s or more, 200 ms up to 1 000 probes/s, 20 ms at 10 000/s), so a quiet
 * prober wakes 1 to 50 times a second whatever its number of targets; QUANTUM_MS above
 * COARSE_MAX_RATE. The next packets of a round keep their spacing from the first one's
 * departure, stretched by less than QUANTUM_MS (the next instant of its grid), never shortened.
 * QUANTUM_MS divides every coarse quantum, so the instants coincide, and so do the engine's
 * reaps (pumpMsFor: a multiple of the quantum, aligned the same way): one wake-up serves them all.
 */
export const QUANTUM_MS = 4;
export const COARSE_QUANTA_MS: readonly number[] = [1000, 500, 200, 100, 40, 20];
export const COARSE_QUANTUM_MS = 20;
/** the coarsest quantum at any interval (longer ones need rounds at least ten of them apart) */
export const SHORT_QUANTUM_MS = 200;
export const COARSE_MAX_RATE = 10_000;
export const MAX_FIRST_PER_INSTANT = 200;
/** the engine's shortest reap period (ms), a multiple of QUANTUM_MS and COARSE_QUANTUM_MS */
export const MIN_PUMP_MS = 2 * COARSE_QUANTUM_MS;
/** a timer may fire this much before its time (Node's timers have a 1 ms grain) */
const SLACK_MS = 1;
/**
 * most sends of one timer callback: overdue sends beyond it wait for the next turn of the
 * event loop, so HTTP requests and captured frames are served in between
 */
const MAX_SENDS_PER_WAKE = 2000;
/** admission control when the options give none (global.max_event_loop_lag, max_probe_rate defaults) */
export const DEFAULT_ADMISSION: AdmissionOptions = { maxLagMs: 100, maxRate: 0 };

export interface SchedTask {
  readonly key: string;
  readonly nbPackets: number;
  readonly timeoutS: number;
  /** one prepared probe per destination address; empty while unresolved */
  probes: readonly PreparedProbe[];
  /** count outcomes per probe as well (RoundResult.perProbe) */
  readonly perProbe?: boolean;
  onRound(r: RoundResult): void;
  /**
   * The task could not be planned or sent (a value the engine cannot honour, a probe that
   * throws): the loop has already removed it; the owner quarantines its target.
   */
  onFailure?(err: unknown): void;
}

const NO_PROBES: readonly PreparedProbe[] = [];

/**
 * The loop's own state of a task: its phase, its round planned but not started (its first
 * packet's time, in the loop's heap itself) and its round in flight. A Round object is taken
 * only when the round's first packet leaves, and goes back to the loop's free list, shared by
 * every task, when it settles: at low rates there are about as many Rounds as rounds in flight,
 * not one per task. What is held only while a round is answered is its RTT buffer (RttPool).
 */
class TaskState implements RoundOwner {
  readonly task: SchedTask;
  /** the task's phase as phaseHashOf() gives it (phaseOfHash: the fraction) */
  readonly phaseHash: number;
  readonly #loop: ProbeLoop;
  /** the task's latest round while it is in flight (to skip the next one while it is held back: AdmissionController.holdsBack) */
  current: Round | null = null;
  /** the iteration of the round planned and not started; null: none (the task is not in the heap itself) */
  iteration: Iteration | null = null;
  /** that round's probes, first packet's planned time and grid instant (the heap's key), spacing and count of packets */
  probes: readonly PreparedProbe[] = NO_PROBES;
  time = 0;
  at = 0;
  gapMs = 0;
  total = 0;

  constructor(task: SchedTask, loop: ProbeLoop) {
    this.task = task;
    this.phaseHash = phaseHashOf(task.key);
    this.#loop = loop;
  }

  roundDone(round: Round): void {
    this.task.onRound(round);
    const it = round.iteration;
    if (this.current === round) this.current = null;
    this.#loop.recycle(round);
    if (it && --it.outstanding === 0) this.#loop.iterationDone(it);
  }
}

export interface LoopOptions {
  readonly intervalS: number;
  readonly intervalPacketsS: number;
  /** admission control (see admission.ts); DEFAULT_ADMISSION when absent */
  readonly admission?: AdmissionOptions;
}

export interface LoopDeps {
  readonly engine: Engine;
  readonly clock: Clock;
  readonly log: Logger;
  /** called when every task round of an iteration has settled, with its duration in seconds */
  readonly onIteration: (seconds: number) => void;
  /** called at the start of every round, before its sends are planned */
  readonly beforeRound: () => void;
}

export class ProbeLoop {
  readonly #d: LoopDeps;
  #opts: LoopOptions;
  readonly #tasks = new Map<string, TaskState>();
  /** rounds in flight and tasks whose round is not started, by the instant their next packet may leave (`at`) */
  readonly #heap = new MinHeap<Round | TaskState>((r) => r.at);
  /** tasks in the heap whose round is not started */
  #planned = 0;
  /** the quantum of rounds' first packets (see COARSE_QUANTA_MS), from the current round's rate */
  #quantum = COARSE_QUANTUM_MS;
  readonly #wallNow: () => number;
  #sendTimer: TimerHandle | null = null;
  #roundTimer: TimerHandle | null = null;
  #armedFor = Infinity;
  /** the time the pending send timer was asked to fire at: its lateness is the event-loop lag */
  #armedAt = Infinity;
  #nextRoundAt = 0;
  #running = false;
  /** the longest delay of a send behind its planned time, over the last round (ms) */
  sendLagMs = 0;
  #lagThisRound = 0;
  readonly admission: AdmissionController;
  /** settled rounds, for the next ones of any task */
  readonly #free: Round[] = [];
  readonly #rttPool = new RttPool();

  constructor(deps: LoopDeps, opts: LoopOptions) {
    this.#d = deps;
    this.#opts = opts;
    this.#wallNow = () => deps.clock.wallMs();
    this.admission = new AdmissionController(opts.admission ?? DEFAULT_ADMISSION, deps.clock.monoMs());
  }

  setOptions(opts: LoopOptions): void {
    this.#opts = opts;
    this.admission.setOptions(opts.admission ?? DEFAULT_ADMISSION);
  }

  setTask(t: SchedTask): void {
    if (this.#tasks.get(t.key)?.task !== t) this.#tasks.set(t.key, new TaskState(t, this));
  }

  removeTask(key: string): void {
    const st = this.#tasks.get(key);
    if (!st) return;
    this.#tasks.delete(key);
    const removed: Round[] = [];
    this.#heap.removeWhere((r) => (r === st || (r instanceof Round && r.owner === st)) && removed.push(r instanceof Round ? r : this.#begin(st)) > 0);
    // rounds cut short (one not started included) still settle, so their iteration is still timed
    for (const r of removed) r.truncate();
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

  /** a settled round, back to the free list */
  recycle(round: Round): void {
    round.iteration = null;
    round.probes = [];
    this.#free.push(round);
  }

  #take(st: TaskState): Round {
    const round = this.#free.pop();
    if (round === undefined) return new Round(st, this.#wallNow, this.#rttPool);
    round.owner = st;
    return round;
  }

  /** The Round of a task's planned round, when its first packet leaves (or it must be a round of its own: deferred, cut short, overtaken). */
  #begin(st: TaskState): Round {
    const round = this.#take(st);
    // checked when planned (checkRound): reset does not throw
    round.reset(st.probes, st.total, st.time, st.gapMs, st.iteration!, st.task.perProbe === true);
    round.at = st.at;
    st.iteration = null;
    st.probes = NO_PROBES;
    st.current = round;
    this.#planned--;
    return round;
  }

  /** Every planned round becomes a Round in the heap (the next round of their tasks is due while they wait). */
  #beginAll(): void {
    const begun: Round[] = [];
    this.#heap.removeWhere((r) => r instanceof TaskState && begun.push(this.#begin(r)) > 0);
    for (const r of begun) this.#heap.push(r);
  }

  iterationDone(it: Iteration): void {
    this.#d.onIteration((this.#d.clock.monoMs() - it.startMono) / 1000);
  }

  #startRound(): void {
    if (!this.#running) return;
    const { clock } = this.#d;
    const start = this.#nextRoundAt;
    this.#d.beforeRound();
    this.sendLagMs = this.#lagThisRound;
    this.#lagThisRound = 0;
    const { intervalS, intervalPacketsS } = this.#opts;
    const iteration: Iteration = { startMono: start, outstanding: 0 };
    const backlogMs = this.#backlogMs(clock.monoMs());
    // what the targets ask for, admission's skips included: the capture ring is sized for it, and
    // this round's grid follows it (never coarser than what the round sends needs)
    const requested = this.#requestedPackets();
    this.#d.engine.setRequestedRate(requested / intervalS);
    const quantum = quantumFor(requested / intervalS, intervalS);
    if (quantum !== this.#quantum) {
      this.#quantum = quantum;
      this.#d.engine.setPumpMs(pumpMsFor(quantum));
    }
    // timeouts are reaped on the engine's grid: a round must settle that much before the next one
    const reapMs = pumpMsFor(quantum);
    // rounds planned and still not started are held back as well, or become rounds of their own
    if (this.#planned > 0 && !this.admission.holdsBack(false, backlogMs)) this.#beginAll();
    // a failing task leaves the map inside this loop: a Map iterator skips entries deleted ahead of it
    for (const st of this.#tasks.values()) {
      const task = st.task;
      if (task.probes.length === 0) continue;
      const total = task.probes.length * task.nbPackets;
      const prev = st.current;
      if (st.iteration !== null || (prev !== null && prev.next < prev.total && this.admission.holdsBack(prev.deferred, backlogMs))) {
        // its previous round is held back (admission control, or a sender behind): this one is not sent at all
        this.admission.skipped += total;
        continue;
      }
      const timing = planTask(intervalS, intervalPacketsS, total, task.timeoutS, phaseOfHash(st.phaseHash), reapMs);
      try {
        checkRound(total, timing.gapMs);
      } catch (e) {
        this.#fail(st, e);
        continue;
      }
      iteration.outstanding++;
      st.iteration = iteration;
      st.probes = task.probes;
      st.time = start + timing.offsetMs;
      st.at = gridFloor(st.time, quantum);
      st.gapMs = timing.gapMs;
      st.total = total;
      this.#planned++;
      this.#heap.push(st);
    }
    this.#nextRoundAt = start + intervalS * 1000;
    this.#roundTimer = clock.setTimer(this.#nextRoundAt - clock.monoMs(), () => this.#startRound());
    this.#armSend();
  }

  /** packets of one round of every task with probes */
  #requestedPackets(): number {
    let n = 0;
    for (const st of this.#tasks.values()) n += st.task.probes.length * st.task.nbPackets;
    return n;
  }

  /** how far (ms) the first send waiting is behind its planned time; 0 when none is waiting */
  #backlogMs(now: number): number {
    const top = this.#heap.peek();
    return top ? Math.max(0, now - Math.max(top.time, top.at)) : 0;
  }

  /** arms the send timer for the first round due, or `at` when later (waiting for admission) */
  #armSend(at = -Infinity): void {
    const top = this.#heap.peek();
    if (!top || !this.#running) return;
    const time = Math.max(top.at, at);
    if (this.#sendTimer && time >= this.#armedFor) return;
    this.#sendTimer?.cancel();
    const now = this.#d.clock.monoMs();
    this.#armedFor = time;
    this.#armedAt = Math.max(now, time);
    this.#sendTimer = this.#d.clock.setTimer(time - now, () => {
      this.#sendTimer = null;
      this.#armedFor = Infinity;
      this.#sendDue();
    });
  }

  #sendDue(): void {
    const { clock, engine } = this.#d;
    const admission = this.admission;
    const now = clock.monoMs();
    admission.observeLag(now - this.#armedAt, now);
    const horizon = now + SLACK_MS;
    let budget = MAX_SENDS_PER_WAKE;
    for (let top = this.#heap.peek(); top && top.at <= horizon; top = this.#heap.peek()) {
      if (budget-- === 0) {
        this.#armSend(now);
        return;
      }
      const admitted = admission.tryAdmit(now);
      let r: Round;
      if (top instanceof Round) r = top;
      else {
        // the round's first packet is due (or waits for admission: a round of its own, deferred)
        this.#heap.pop();
        r = this.#begin(top);
        if (!admitted) this.#heap.push(r);
      }
      if (!admitted) {
        // the heap's order is kept: rounds wait, in order, for the next token
        if (!r.deferred || r.deferredAt !== r.next) {
          admission.deferred++;
          r.deferred = true;
          r.deferredAt = r.next;
        }
        this.#armSend(now + admission.waitMs(now));
        return;
      }
      if (r === top) this.#heap.pop();
      // behind the planned time, or behind the grid instant after it (a round's next packets)
      const lag = now - Math.max(r.time, r.at);
      if (lag > this.#lagThisRound) this.#lagThisRound = lag;
      const i = r.next++;
      const more = r.next < r.total;
      if (more) {
        // the next packet is spaced from this one's departure (a packet that left early moves its
        // round with it); a round behind its time keeps its planned times and catches up
        r.time = Math.min(now, Math.max(r.time, r.at)) + r.gapMs;
        // packets closer than the fine quantum go together; the others leave at the next instant
        // of the fine grid, their spacing stretched by less than a quantum, never shortened
        r.at = r.gapMs < QUANTUM_MS ? gridFloor(r.time, QUANTUM_MS) : Math.ceil(r.time / QUANTUM_MS) * QUANTUM_MS;
        this.#heap.push(r);
      }
      // the outcome may settle (and recycle) the round synchronously: touch it before sending
      try {
        r.probes[i % r.probes.length]!.send(engine, r, i);
      } catch (e) {
        // the packet that threw settles as a send error, so its round still completes
        const st = r.owner as TaskState;
        r.onOutcome(i, Outcome.SEND_ERROR, NaN);
        if (this.#tasks.get(st.task.key) === st) this.#fail(st, e);
      }
    }
    this.#armSend();
  }

  /** A task that cannot run leaves the loop (its rounds settle as cut short); its owner hears why. */
  #fail(st: TaskState, e: unknown): void {
    this.removeTask(st.task.key);
    if (st.task.onFailure) st.task.onFailure(e);
    else this.#d.log.error('probe task failed and was removed', { task: st.task.key, err: errorMessage(e) });
  }
}

/**
 * The quantum of rounds' first packets at `rate` planned probes/s, rounds `intervalS` apart (see
 * COARSE_QUANTA_MS); those above SHORT_QUANTUM_MS only up to a tenth of the interval.
 */
export function quantumFor(rate: number, intervalS: number): number {
  if (rate > COARSE_MAX_RATE) return QUANTUM_MS;
  for (const q of COARSE_QUANTA_MS) if ((rate * q) / 1000 <= MAX_FIRST_PER_INSTANT && (q <= SHORT_QUANTUM_MS || q <= intervalS * 100)) return q;
  return COARSE_QUANTUM_MS;
}

/** The engine's reap period on the grid of `quantum`: every instant of it, MIN_PUMP_MS apart at least. */
export function pumpMsFor(quantum: number): number {
  return Math.max(MIN_PUMP_MS, quantum);
}

/** the grid instant that starts the quantum of `t` */
function gridFloor(t: number, quantumMs: number): number {
  return Math.floor(t / quantumMs) * quantumMs;
}
