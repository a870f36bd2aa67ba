/**
 * A signal that aborts after a timeout or with a parent signal, whichever comes first, and lets go
 * of the parent when done. `AbortSignal.any([parent, AbortSignal.timeout(ms)])` would do the same,
 * but in Node 20 every combined signal stays registered on its sources for the life of the source
 * (a WeakRef in a set that is never pruned): on a long-lived parent (the app's shutdown signal) one
 * combined signal per call is memory that is never given back.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  /** clears the timer and removes the listener on the parent; idempotent */
  done(): void;
}

export function deadline(parent: AbortSignal, timeoutMs: number): Deadline {
  const ac = new AbortController();
  if (parent.aborted) {
    ac.abort(parent.reason);
    return { signal: ac.signal, done: () => undefined };
  }
  const onAbort = (): void => {
    done();
    ac.abort(parent.reason);
  };
  const timer = setTimeout(() => {
    done();
    ac.abort(new DOMException(`no result within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  // like AbortSignal.timeout: the timer alone does not keep the process alive
  timer.unref();
  function done(): void {
    clearTimeout(timer);
    parent.removeEventListener('abort', onAbort);
  }
  parent.addEventListener('abort', onAbort, { once: true });
  return { signal: ac.signal, done };
}
