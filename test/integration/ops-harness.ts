// Runs inside the hops lab's probe namespace (spawned by operations-lab.test.ts): the whole app
// (regular probing of the config's targets, /metrics) built like `wireprobe run`; after
// `baselineMs` it prints "start", runs `batches` rounds of N concurrent traceroutes through the
// app's OperationRunner (the same engine, sockets and captures as the probing), one JSON line
// per round, then "end", and keeps probing until SIGTERM.
import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/app.js';
import { loadConfigFile } from '../../src/config/load.js';
import { systemLookup } from '../../src/dns/resolver.js';
import { systemClock } from '../../src/lib/clock.js';
import { execCommand, streamCommand } from '../../src/lib/exec.js';
import { createLogger } from '../../src/lib/logger.js';
import { createCaptureFactory, defaultCaptureOptions } from '../../src/net/capture.js';
import { randomIdBase } from '../../src/net/engine.js';
import { createHostPacketIo } from '../../src/net/host-io.js';
import { createRawSender } from '../../src/net/raw-transport.js';
import { createRouteResolver } from '../../src/net/route.js';

const [configFile, destination, baselineMs, batches, concurrent] = process.argv.slice(2);
const { config } = await loadConfigFile(configFile!);
const log = createLogger((line) => process.stderr.write(`${line}\n`), 'warn');
const app = await createApp(config, {
  clock: systemClock, log, version: 'harness', lookup: systemLookup, routes: createRouteResolver(), sender: createRawSender,
  captures: createCaptureFactory(defaultCaptureOptions), idBase: randomIdBase(), seqBase: randomBytes(4).readUInt32BE(0),
  captureDelayMs: defaultCaptureOptions.bufferTimeoutMs, configPath: configFile!, loadConfig: loadConfigFile, watchConfig: false,
  hostIo: () => createHostPacketIo(log), exec: execCommand, stream: streamCommand, paths: { procfs: '/proc', sysfs: '/sys' },
});
await app.start();
process.stdout.write('ready\n');
const stop = (): void => {
  setTimeout(() => process.exit(0), 3000).unref();
  void app.stop(500).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
await new Promise((r) => setTimeout(r, Number(baselineMs)));
process.stdout.write('start\n');
for (let b = 0; b < Number(batches); b++) {
  const n = Number(concurrent);
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, (_, i) => {
    const started = performance.now();
    return app.operations.run(
      { kind: 'traceroute', destination: destination!, protocol: i % 3 === 0 ? 'icmp' : i % 3 === 1 ? 'udp' : 'tcp', size: 0, dscp: 0, timeout: 2, maxHops: 8, queries: 3, paths: 1, resolve: false, asn: false },
      () => undefined,
      new AbortController().signal,
    ).then((r) => ({ ms: performance.now() - started, reached: r.reached, hops: r.paths[0]?.map((h) => h.addresses) ?? [] }));
  }));
  process.stdout.write(`${JSON.stringify({ n, totalMs: performance.now() - t0, results })}\n`);
}
process.stdout.write('end\n');
