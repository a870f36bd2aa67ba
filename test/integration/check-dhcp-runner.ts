// Runs one dhcp check in-process with real dependencies and prints the outcome as JSON. Started by
// test/integration/check-dhcp.test.ts inside a network namespace (`ip netns exec NS node …`): the
// check needs raw packet I/O on an interface of that namespace, and the main thread.
// argv[2]: the check's options (JSON); stdout: {"result": CheckResult, "durationMs", "fdsBefore", "fdsAfter"},
// fdsAfter counted once the process's open descriptors are back to fdsBefore, or after 2 s.
import { readdirSync } from 'node:fs';
import { dhcpCheck, type DhcpCheckOptions } from '../../src/checks/dhcp.js';
import { systemClock } from '../../src/lib/clock.js';
import { execCommand, streamCommand } from '../../src/lib/exec.js';
import { createLogger } from '../../src/lib/logger.js';
import { createHostPacketIo } from '../../src/net/host-io.js';
import { createWorkerPool } from '../../src/workers/pool.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as DhcpCheckOptions;
  const log = createLogger((line) => process.stderr.write(`${line}\n`), 'debug');
  const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
  try {
    const fdsBefore = openFds();
    const instance = dhcpCheck.create(options, {
      clock: systemClock,
      log,
      exec: execCommand,
      stream: streamCommand,
      paths: { procfs: '/proc', sysfs: '/sys' },
      pool,
      hostIo: createHostPacketIo(log),
    });
    const started = performance.now();
    const result = await instance.run({ signal: AbortSignal.timeout(options.timeout * 1000) });
    const durationMs = performance.now() - started;
    await instance.close?.();
    // pcap handles are released asynchronously (see src/net/host-io.ts): wait up to 2 s for it
    const deadline = performance.now() + 2000;
    while (openFds() > fdsBefore && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    process.stdout.write(`${JSON.stringify({ result, durationMs, fdsBefore, fdsAfter: openFds() })}\n`);
  } finally {
    await pool.close();
  }
}

await main();
