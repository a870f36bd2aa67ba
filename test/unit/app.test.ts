// The whole app (createApp) on loopback with fakes at every edge: a recording raw sender and
// captures, a fixed route table, a manual clock, a procfs fixture tree and a fake `ip` command.
// It starts, serves /metrics with host check results computed from the fixtures, probes through
// the fake sender on the injected clock, applies a reload that changes the checks, and stops.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createApp, type App } from '../../src/app.js';
import { loadConfigFile } from '../../src/config/load.js';
import { ErrorCodes, isAppError } from '../../src/lib/errors.js';
import { SCRAPE_SETTLE_MS } from '../../src/lib/heap-compaction.js';
import type { ExecFn, StreamFn } from '../../src/lib/exec.js';
import type { HostPacketIo, RouteInfo } from '../../src/net/types.js';
import { FakeClock } from '../fakes/clock.js';
import { memoryLogger } from '../fakes/logger.js';
import { FakeCaptureFactory, FakeSender } from '../fakes/net.js';

const MB = 1024 * 1024;

// Compiled to dist/test/unit/: the repository root is three levels up.
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const PROCFS = join(FIXTURES, 'proc-processes', 'proc');
const ROUTES_MAIN = readFileSync(join(FIXTURES, 'routes', 'main-ipv4.json'), 'utf8');
const TARGET = '198.18.0.1';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

function configYaml(port: number, checks: string): string {
  return [
    `global: {probe_name: e2e, interval: 1, nb_proc: 1, logging_level: INFO, prometheus_address: 127.0.0.1, prometheus_port: ${port}}`,
    'groups: {standard: {src_port_a: 65100, src_port_z: 65199}}',
    `targets:`,
    `  gw: {type: ICMPping, destination: ${TARGET}, nb_packets: 2, timeout: 0.5}`,
    'checks:',
    checks,
  ].join('\n');
}

const CHECKS_BEFORE = [
  '  processes:',
  '    - {name: sleepers, cmdline_regex: "^sleep 1000\\\\.424242$", count_min: 1}',
  '  routes:',
  '    - {name: main4, family: ipv4, prefixes: [{prefix: 198.19.0.0/24}]}',
].join('\n');
const CHECKS_AFTER = ['  processes:', '    - {name: kernel, process_name: kthreadd}'].join('\n');

/** The value of the first sample of `name` whose labels include `labels`. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

interface Harness {
  readonly app: App;
  readonly clock: FakeClock;
  readonly lines: string[];
  readonly sender: FakeSender;
  readonly captures: FakeCaptureFactory;
  /** commands run through the fake exec */
  readonly commands: string[];
  /** the (fake) heap: grown by the test, back to 20 MB by each compaction */
  readonly heap: { grow(bytes: number): void; compactions(): number };
}

/** createApp with fakes at every edge; `ip -json -4 route show table main` answers the fixture. */
async function harness(file: string): Promise<Harness> {
  const { config } = await loadConfigFile(file);
  const clock = new FakeClock();
  const { log, lines } = memoryLogger();
  const sender = new FakeSender();
  const captures = new FakeCaptureFactory();
  const commands: string[] = [];
  const exec: ExecFn = (argv) => {
    commands.push(argv.join(' '));
    if (argv.join(' ') === 'ip -json -4 route show table main') return Promise.resolve({ code: 0, signal: null, stdout: ROUTES_MAIN, stderr: '' });
    return Promise.resolve({ code: 1, signal: null, stdout: '', stderr: `unexpected command ${argv.join(' ')}` });
  };
  const stream: StreamFn = () => Promise.reject(new Error('no streaming command in this test'));
  const hostIo = (): HostPacketIo => {
    throw new Error('no host packet I/O in this test');
  };
  let heapBytes = 20 * MB;
  let compactions = 0;
  const app = await createApp(config, {
    clock,
    log,
    version: '0.0.0-test',
    lookup: () => Promise.reject(new Error('no DNS in this test')),
    routes: { lookup: (addrs) => Promise.resolve(new Map<string, RouteInfo>(addrs.map((a) => [a, { dev: 'wpt0', prefsrc: '198.18.0.2' }]))) },
    sender: () => sender,
    captures,
    idBase: 0x1230,
    seqBase: 1,
    captureDelayMs: 0,
    configPath: file,
    loadConfig: loadConfigFile,
    watchConfig: false,
    hostIo,
    exec,
    stream,
    paths: { procfs: PROCFS, sysfs: join(FIXTURES, 'no-sysfs') },
    heap: {
      committedBytes: () => heapBytes,
      compact: () => {
        compactions++;
        heapBytes = 20 * MB;
        return Promise.resolve();
      },
    },
  });
  const heap = { grow: (bytes: number) => void (heapBytes += bytes), compactions: () => compactions };
  return { app, clock, lines, sender, captures, commands, heap };
}

void describe('app end to end, with fakes at every edge', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wireprobe-app-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('starts, checks fixture hosts, probes on the injected clock, reloads and stops', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configYaml(port, CHECKS_BEFORE));
    const { app, clock, lines, sender, captures, commands, heap } = await harness(file);
    const scrape = async (): Promise<string> => {
      const r = await fetch(`${base}/metrics`);
      assert.equal(r.status, 200);
      return r.text();
    };
    /** advances the clock a little and scrapes until `ok` holds (bounded in real time) */
    const until = async (what: string, ok: (text: string) => boolean): Promise<string> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        await clock.advance(100);
        const text = await scrape();
        if (ok(text)) return text;
        if (Date.now() > deadline) assert.fail(`${what}: not seen; sent ${sender.sent.length}; ${text.split("\n").filter((l) => l.startsWith("icmp_")).join("\n")}; log:\n${lines.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    try {
      await app.start();
      assert.equal((await fetch(`${base}/-/ready`)).status, 200);

      let text = await until('both host checks ran', (t) =>
        value(t, 'wireprobe_check_success', { check: 'processes', name: 'sleepers' }) !== undefined &&
        value(t, 'wireprobe_check_success', { check: 'routes', name: 'main4' }) !== undefined);
      // three `sleep 1000.424242` in the fixture tree: the real /proc would not have them
      assert.equal(value(text, 'wireprobe_process_instances', { name: 'sleepers' }), 3);
      assert.equal(value(text, 'wireprobe_check_success', { check: 'processes', name: 'sleepers' }), 1);
      assert.equal(value(text, 'wireprobe_route_entries', { name: 'main4', family: 'ipv4', table: 'main' }), 10);
      assert.equal(value(text, 'wireprobe_route_present', { name: 'main4', prefix: '198.19.0.0/24' }), 1);
      assert.equal(value(text, 'wireprobe_check_success', { check: 'routes', name: 'main4' }), 1);
      assert.ok(commands.includes('ip -json -4 route show table main'), commands.join('; '));

      text = await until('echo requests sent', (t) => (value(t, 'icmp_sent_total', { destination: 'gw', group: 'standard' }) ?? 0) >= 2);
      assert.ok(sender.sent.length >= 2 && sender.sent.every((p) => p.dst === TARGET));
      assert.deepEqual(captures.opened.map((c) => c.iface), ['wpt0']);

      assert.equal(heap.compactions(), 0, 'the heap kept its size through the scrapes');
      heap.grow(6 * MB);
      await scrape();
      await clock.advance(SCRAPE_SETTLE_MS);
      assert.equal(heap.compactions(), 1, 'a scrape had the heap checked a while after its answer');
      heap.grow(6 * MB);
      writeFileSync(file, configYaml(port, CHECKS_AFTER));
      assert.equal((await app.reload('signal')).applied, true);
      await clock.advance(0);
      assert.equal(heap.compactions(), 2, 'the reload had the heap checked');
      text = await until('the new check ran', (t) => value(t, 'wireprobe_process_instances', { name: 'kernel' }) === 1);
      assert.equal(value(text, 'wireprobe_process_instances', { name: 'sleepers' }), undefined, 'series of the removed instance');
      assert.equal(value(text, 'wireprobe_check_success', { check: 'routes', name: 'main4' }), undefined, 'series of the removed instance');
      assert.equal(value(text, 'app_reload_conf_failed_status', { probe_name: 'e2e' }), 0);
    } finally {
      await app.stop(0);
    }
    assert.ok(sender.closed, 'the raw sender is closed');
    assert.ok(captures.opened.every((c) => c.closed), 'every capture is closed');
    await assert.rejects(fetch(`${base}/-/ready`), 'the HTTP port is closed');
    const sentAtStop = sender.sent.length;
    await clock.advance(5000);
    assert.equal(sender.sent.length, sentAtStop, 'no probe after the stop');
  });
});

void describe('app with the operations API', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wireprobe-app-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('serves /api/v1/operations through the engine runner, mounted before the target API', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const file = join(dir, 'config.yaml');
    const token = 'operate-token-0123456789abcdef';
    const ops = ['api:', '  tokens:', `    - {token: ${token}, scope: operate}`, 'operations:', '  allow: [198.18.0.0/15]'].join('\n');
    writeFileSync(file, `${configYaml(port, CHECKS_AFTER)}\n${ops}`);
    const { app, sender } = await harness(file);
    const auth = { authorization: `Bearer ${token}` };
    try {
      await app.start();
      const r = await fetch(`${base}/api/v1/operations`, {
        method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'ping', destination: '198.18.0.77', count: 1, timeout: 0.5 }),
      });
      assert.equal(r.status, 202, await r.clone().text());
      const { id } = (await r.json()) as { id: string };
      const list = (await (await fetch(`${base}/api/v1/operations`, { headers: auth })).json()) as { operations: { id: string }[] };
      assert.deepEqual(list.operations.map((o) => o.id), [id]);
      const denied = await fetch(`${base}/api/v1/operations`, {
        method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'ping', destination: '192.0.2.1' }),
      });
      assert.equal(denied.status, 403);
      assert.equal((await fetch(`${base}/api/v1/targets`, { headers: auth })).status, 200, 'the target API answers behind');
      const deadline = Date.now() + 10_000;
      while (!sender.sent.some((p) => p.dst === '198.18.0.77') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      assert.ok(sender.sent.some((p) => p.dst === '198.18.0.77'), 'the operation went through the engine (no target has this address)');
    } finally {
      await app.stop(0);
    }
  });
});

void describe('app start failure', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wireprobe-app-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('a port in use fails the start naming the http service; what started is stopped', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const addr = busy.address();
      assert.ok(addr !== null && typeof addr !== 'string');
      const file = join(dir, 'config.yaml');
      writeFileSync(file, configYaml(addr.port, CHECKS_BEFORE));
      const { app, lines, sender } = await harness(file);
      await assert.rejects(app.start(), (e) => {
        assert.ok(isAppError(e, ErrorCodes.SVC_ERR_START));
        assert.match(e.message, /^http: listen EADDRINUSE/);
        return true;
      });
      assert.equal(sender.sent.length, 0, 'probing never started');
      assert.ok(lines.some((l) => l.includes('service failed to start') && l.includes('service=http')));
      await app.stop(0);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});
