/**
 * One bounded run of a check instance: the instance gets a signal that aborts at its timeout
 * (or at shutdown), and the caller gets a result at the timeout at the latest, whether or not
 * the instance honours the signal (after shutdown, no outcome is due). `settled` tells when the instance's own promise is done, so
 * that the runner never starts a second run of it while the first is still going.
 */
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import { boundedMessage, boundedReason, reasonOfError } from './reasons.js';
import type { CheckInstance, CheckResult } from './types.js';

export interface RunOutcome {
  readonly ok: boolean;
  /** bounded token when !ok */
  readonly reason: string | null;
  readonly message: string;
  readonly samples: CheckResult['samples'];
  readonly durationMs: number;
}

export interface RunHandle {
  /** the outcome, at the timeout at the latest */
  readonly outcome: Promise<RunOutcome>;
  /** resolves when the instance's run has returned or thrown (may be later than `outcome`) */
  readonly settled: Promise<void>;
}

function fromResult(r: CheckResult): Omit<RunOutcome, 'durationMs'> {
  if (r.ok) return { ok: true, reason: null, message: r.message ?? '', samples: r.samples };
  return { ok: false, reason: boundedReason(r.reason), message: boundedMessage(r.message ?? r.reason ?? 'failed'), samples: r.samples };
}

function fromError(e: unknown): Omit<RunOutcome, 'durationMs'> {
  return { ok: false, reason: reasonOfError(e), message: boundedMessage(errorMessage(e)), samples: [] };
}

export function runOnce(instance: CheckInstance, timeoutS: number, clock: Clock, shutdown: AbortSignal): RunHandle {
  const ac = new AbortController();
  let timer: { cancel(): void } | null = null;
  const onShutdown = (): void => {
    timer?.cancel();
    ac.abort(shutdown.reason);
  };
  shutdown.addEventListener('abort', onShutdown, { once: true });
  const start = clock.monoMs();
  const timedOut = new Promise<Omit<RunOutcome, 'durationMs'>>((resolve) => {
    timer = clock.setTimer(timeoutS * 1000, () => {
      const message = `no result within ${timeoutS} s`;
      ac.abort(new AppError(ErrorCodes.OP_ERR_TIMEOUT, message));
      resolve({ ok: false, reason: 'timeout', message, samples: [] });
    });
  });
  const work = Promise.resolve()
    .then(() => instance.run({ signal: ac.signal }))
    .then(fromResult, fromError);
  const outcome = Promise.race([work, timedOut]).then((o) => {
    timer?.cancel();
    return { ...o, durationMs: clock.monoMs() - start };
  });
  const settled = work.then(() => {
    timer?.cancel();
    shutdown.removeEventListener('abort', onShutdown);
  });
  return { outcome, settled };
}
