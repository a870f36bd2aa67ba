/**
 * Pure pacing arithmetic: when each packet of a (target, group) round is sent. Rounds start
 * every `interval`; each task gets a stable phase so tasks are spread over the interval
 * instead of bursting at its start, and its packets are spaced by `interval_packets` (or, when
 * that is 0, by an automatic gap so one target never receives a burst).
 */

/** longest automatic gap between two packets of one task (ms) */
export const AUTO_GAP_MAX_MS = 10;

export interface TaskTiming {
  /** ms from the round start to the task's first packet */
  readonly offsetMs: number;
  /** ms between two packets of the task */
  readonly gapMs: number;
}

/**
 * A task key's FNV-1a hash as a signed 32-bit integer: what a task keeps of its phase (a small
 * integer is stored in the object itself; the fraction would be a boxed double, 16 bytes more).
 */
export function phaseHashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** A task's phase from its phaseHashOf() hash: a stable fraction in [0, 1), so a task keeps its phase across rounds. */
export function phaseOfHash(hash: number): number {
  return (hash >>> 0) / 4294967296;
}

/**
 * When a task's round starts in the interval and how its packets are spaced; `settleLagMs` is how
 * late its last timeout may be seen (the engine's reap period), counted in the round's span.
 */
export function planTask(
  intervalS: number,
  intervalPacketsS: number,
  packets: number,
  timeoutS: number,
  phase: number,
  settleLagMs = 0,
): TaskTiming {
  const intervalMs = intervalS * 1000;
  const gapMs =
    intervalPacketsS > 0
      ? intervalPacketsS * 1000
      : packets > 1
        ? Math.min(AUTO_GAP_MAX_MS, (0.5 * intervalMs) / packets)
        : 0;
  // the round's last timeout is seen up to settleLagMs late (the engine reaps on a grid)
  const span = (packets - 1) * gapMs + timeoutS * 1000 + settleLagMs;
  // leave 10 % of the interval so a round settles before the next one starts; when a task's
  // round cannot fit, spread it anyway (its rounds overlap) rather than burst every task at once
  const room = 0.9 * intervalMs - span;
  return { offsetMs: phase * (room > 0 ? room : Math.max(0, intervalMs - (packets - 1) * gapMs)), gapMs };
}
