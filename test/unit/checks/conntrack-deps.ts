// Real dependencies for running the conntrack check directly (unit and integration tests, bench).
import type { CheckDeps } from '../../../src/checks/types.js';
import { systemClock } from '../../../src/lib/clock.js';
import { execCommand, streamCommand, type ExecFn, type StreamFn } from '../../../src/lib/exec.js';
import { createLogger } from '../../../src/lib/logger.js';
import type { HostPacketIo } from '../../../src/net/types.js';
import type { WorkerPool } from '../../../src/workers/pool.js';

/** The conntrack check never does link-level I/O: any use is a test failure. */
const noHostIo: HostPacketIo = {
  interfaceInfo: () => Promise.reject(new Error('hostIo is not used by the conntrack check')),
  sendBroadcast: () => {
    throw new Error('hostIo is not used by the conntrack check');
  },
  capture: () => {
    throw new Error('hostIo is not used by the conntrack check');
  },
};

export interface DepsOptions {
  readonly pool: WorkerPool;
  readonly exec?: ExecFn;
  readonly stream?: StreamFn;
  readonly procfs?: string;
  /** log lines end up here */
  readonly logs?: string[];
}

export function conntrackDeps(o: DepsOptions): CheckDeps {
  const logs = o.logs;
  return {
    clock: systemClock,
    log: createLogger((line) => logs?.push(line), 'debug'),
    exec: o.exec ?? execCommand,
    stream: o.stream ?? streamCommand,
    paths: { procfs: o.procfs ?? '/proc', sysfs: '/sys' },
    pool: o.pool,
    hostIo: noHostIo,
  };
}

/** Replaces whole command lines by others (e.g. `conntrack -S` by `cat fixture`); anything else fails the test. */
export function rewriting(map: Readonly<Record<string, readonly string[]>>): { exec: ExecFn; stream: StreamFn } {
  const rewrite = (argv: readonly string[]): readonly string[] => {
    const to = map[argv.join(' ')];
    if (to === undefined) throw new Error(`unexpected command: ${argv.join(' ')}`);
    return to;
  };
  return {
    exec: (argv, opts) => execCommand(rewrite(argv), opts),
    stream: (argv, opts, onChunk) => streamCommand(rewrite(argv), opts, onChunk),
  };
}
