/**
 * CheckDeps for unit tests: the parts a test does not give throw when used, so a check that
 * reaches for something unexpected fails loudly.
 */
import type { CheckDeps } from '../../src/checks/types.js';
import type { Clock } from '../../src/lib/clock.js';
import type { ExecFn, StreamFn } from '../../src/lib/exec.js';
import type { Logger } from '../../src/lib/logger.js';
import type { HostPacketIo } from '../../src/net/types.js';
import type { WorkerPool } from '../../src/workers/pool.js';

function unexpected(what: string): never {
  throw new Error(`unexpected use of ${what} in this test`);
}

const noPool: WorkerPool = {
  threads: 0,
  run: () => unexpected('pool.run'),
  completed: () => 0,
  close: () => Promise.resolve(),
};

const noHostIo: HostPacketIo = {
  interfaceInfo: () => unexpected('hostIo.interfaceInfo'),
  sendBroadcast: () => unexpected('hostIo.sendBroadcast'),
  capture: () => unexpected('hostIo.capture'),
};

export function fakeCheckDeps(base: { clock: Clock; log: Logger } & Partial<CheckDeps>): CheckDeps {
  const exec: ExecFn = () => unexpected('exec');
  const stream: StreamFn = () => unexpected('stream');
  return { exec, stream, paths: { procfs: '/nonexistent/proc', sysfs: '/nonexistent/sys' }, pool: noPool, hostIo: noHostIo, ...base };
}
