/**
 * The probe engine without the rest of the app, for the one-shot CLI commands (wireprobe ping,
 * traceroute, mtr): the same engine, decoder pool and probe types as `run`, no targets, no HTTP.
 */
import { createResolver, type LookupFn } from '../dns/resolver.js';
import { Engine } from '../net/engine.js';
import type { EngineHostDeps } from '../net/types.js';
import { probeKinds } from '../probes/index.js';
import { createFrameDecoder } from '../workers/frame-decoder.js';
import { createWorkerPool } from '../workers/pool.js';
import type { HopAnnotator } from './annotate.js';
import { createOperationRunner } from './runner.js';
import type { OperationRunner } from './types.js';
import { operationKinds, operationPorts } from './wire.js';

export interface StandaloneDeps extends EngineHostDeps {
  readonly lookup: LookupFn;
  readonly annotator?: HopAnnotator;
}

const DNS_TIMEOUT_MS = 5000;

export interface StandaloneRunner {
  readonly runner: OperationRunner;
  /** settles what is in flight within `drainMs`, closes sockets, captures and the pool */
  close(drainMs: number): Promise<void>;
}

/**
 * Builds the engine and the runner; resolves once the decoder thread answers, so that the first
 * probes' answers are not held up by the worker's start.
 */
export async function createStandaloneRunner(deps: StandaloneDeps): Promise<StandaloneRunner> {
  const pool = createWorkerPool({ minThreads: 1, maxThreads: 1 });
  const decoder = createFrameDecoder(pool);
  await decoder.decode(new Uint8Array(0), 0);
  const engine = new Engine({
    sender: deps.sender(),
    captures: deps.captures,
    decoder,
    clock: deps.clock,
    log: deps.log.child('engine'),
    idBase: deps.idBase,
    captureDelayMs: deps.captureDelayMs,
    pumpMs: 20,
    probes: probeKinds,
    sourcePorts: {},
    seqBase: deps.seqBase,
    reservedPorts: operationPorts(),
  });
  const runner = createOperationRunner({
    engine,
    routes: deps.routes,
    lookup: createResolver(deps.lookup, DNS_TIMEOUT_MS),
    clock: deps.clock,
    log: deps.log.child('operations'),
    kinds: operationKinds(probeKinds),
    ...(deps.annotator === undefined ? {} : { annotator: deps.annotator }),
  });
  return {
    runner,
    async close(drainMs) {
      await engine.close(drainMs);
      await pool.close();
    },
  };
}
