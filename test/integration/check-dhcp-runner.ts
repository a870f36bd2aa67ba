// Runs one dhcp check in-process with real dependencies and prints the outcome as JSON. Started by
// test/integration/check-dhcp.test.ts inside a network namespace (`ip netns exec NS node …`): the
// check needs raw packet I/O on an interface of that namespace, and the main thread.
// argv[2]: the check's options (JSON); stdout: {"result": CheckResult, "durationMs", "fdsFirst", "fdsAfter"}:
// the check runs twice (the result is the second run's); the pcap handles are kept open for the
// life of the process (see src/net/host-io.ts), so the second run must open no descriptor more
// than the first. The process exits explicitly, as wireprobe does (an open capture keeps Node alive).
import { readdirSync } from 'node:fs';
import { dhcpCheck, type DhcpCheckOptions } from '../../src/checks/dhcp.js';
import { systemClock } from '../../src/lib/clock.js';
import { execCommand, streamCommand } from '../../src/lib/exec.js';
import { createLogger } from '../../src/lib/logger.js';
import { createHostPacketIo } from '../../src/net/host-io.js';
import { createWorkerPool } from '../../src/workers/pool.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

async function main(): Promise<void> {
  // The stdio streams are made before the first count: libuv opens a reserve descriptor
  // (/dev/null, for running out of descriptors) with the process's first stream handle, which
  // would otherwise count as the second run's if its log line or the result came first.
  const out = process.stdout;
  const err = process.stderr;
  const options = JSON.parse(process.argv[2] ?? '') as DhcpCheckOptions;
  const log = createLogger((line) => err.write(`${line}\n`), 'debug');
  const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
  try {
    const instance = dhcpCheck.create(options, {
      clock: systemClock,
      log,
      exec: execCommand,
      stream: streamCommand,
      paths: { procfs: '/proc', sysfs: '/sys' },
      pool,
      hostIo: createHostPacketIo(log),
    });
    await instance.run({ signal: AbortSignal.timeout(options.timeout * 1000) });
    const fdsFirst = openFds();
    const started = performance.now();
    const result = await instance.run({ signal: AbortSignal.timeout(options.timeout * 1000) });
    const durationMs = performance.now() - started;
    await instance.close?.();
    out.write(`${JSON.stringify({ result, durationMs, fdsFirst, fdsAfter: openFds() })}\n`);
  } finally {
    await pool.close();
  }
}

await main();
process.exit(0);
