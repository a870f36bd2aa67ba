/**
 * Streams `conntrack -L` through the worker pool: stdout is cut into batches of whole lines
 * (shared with a worker, which parses and aggregates one batch per task), and the partial
 * results are merged here. Memory stays bounded: at most `maxInFlight` batches exist at
 * once (stdout is paused meanwhile) and the text is never held as a whole; what grows is the
 * count per distinct address.
 */
import type { StreamFn } from '../lib/exec.js';
import { FlowAggregate } from './conntrack-flows.js';
import type { FlowPool } from './types.js';

const NEWLINE = 10;

/**
 * Cuts a byte stream into batches that end at a line boundary. Each batch is a view at the start
 * of a buffer from `alloc` that the batcher no longer touches (a line longer than a buffer is cut).
 */
export class LineBatcher {
  readonly #alloc: () => Uint8Array;
  #buf: Uint8Array | undefined;
  #used = 0;

  constructor(alloc: () => Uint8Array) {
    this.#alloc = alloc;
  }

  /** Appends `data`; returns the batches completed by it, in order. */
  push(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let off = 0;
    while (off < data.length) {
      const buf = (this.#buf ??= this.#alloc());
      const n = Math.min(buf.length - this.#used, data.length - off);
      buf.set(data.subarray(off, off + n), this.#used);
      this.#used += n;
      off += n;
      if (this.#used === buf.length) out.push(this.#cut(buf));
    }
    return out;
  }

  /** What is left (a last line without its newline included); undefined when empty. */
  flush(): Uint8Array | undefined {
    const rest = this.#buf?.subarray(0, this.#used);
    this.#buf = undefined;
    this.#used = 0;
    return rest !== undefined && rest.length > 0 ? rest : undefined;
  }

  /** Full buffer: emit up to the last newline, carry the tail over to a new buffer. */
  #cut(buf: Uint8Array): Uint8Array {
    const nl = buf.lastIndexOf(NEWLINE);
    const keep = nl < 0 ? buf.length : nl + 1;
    const next = this.#alloc();
    next.set(buf.subarray(keep, this.#used));
    this.#used -= keep;
    this.#buf = next;
    return buf.subarray(0, keep);
  }
}

export interface ListOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** bytes per batch handed to a worker */
  readonly batchBytes: number;
  /** batches queued or being parsed at once */
  readonly maxInFlight: number;
}

export interface ListOutcome {
  readonly aggregate: FlowAggregate;
  readonly code: number | null;
  readonly stderr: string;
  /** stdout bytes read */
  readonly bytes: number;
}

/**
 * Runs `argv` (a `conntrack -L`) and aggregates its output in the pool. Batches live in
 * SharedArrayBuffers that are reused once their task is done, so the memory they take is fixed
 * (about `maxInFlight + 2` batches) and never waits for a garbage collection. Rejects on
 * spawn/timeout/pool errors.
 */
export async function listFlows(argv: readonly string[], stream: StreamFn, pool: FlowPool, opts: ListOptions): Promise<ListOutcome> {
  const aggregate = new FlowAggregate();
  const free: Uint8Array[] = [];
  const batcher = new LineBatcher(() => free.pop() ?? new Uint8Array(new SharedArrayBuffer(opts.batchBytes)));
  const pending = new Set<Promise<void>>();
  let failure: Error | undefined;
  let bytes = 0;

  const dispatch = (batch: Uint8Array): void => {
    const task = pool.run('conntrackFlows', { chunk: batch }).then(
      (partial) => aggregate.merge(partial),
      (e: unknown) => {
        failure ??= e instanceof Error ? e : new Error(String(e));
      },
    );
    const tracked = task.finally(() => {
      pending.delete(tracked);
      free.push(new Uint8Array(batch.buffer));
    });
    pending.add(tracked);
  };
  const drainTo = async (limit: number): Promise<void> => {
    while (pending.size > limit) await Promise.race(pending);
  };

  const done = await stream(argv, { signal: opts.signal, timeoutMs: opts.timeoutMs }, async (chunk) => {
    bytes += chunk.length;
    for (const batch of batcher.push(chunk)) dispatch(batch);
    await drainTo(opts.maxInFlight - 1);
    if (failure !== undefined) throw failure;
  }).catch(async (e: unknown) => {
    await drainTo(0);
    throw e;
  });
  const rest = batcher.flush();
  if (rest !== undefined) dispatch(rest);
  await drainTo(0);
  if (failure !== undefined) throw failure;
  return { aggregate, code: done.code, stderr: done.stderr, bytes };
}
