// The dhcp check's control flow with a scripted HostPacketIo that answers with the real dnsmasq
// offers of test/fixtures/dhcp/ (the real I/O is covered by test/integration/check-dhcp.test.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { dhcpCheck, type DhcpCheckOptions } from '../../../src/checks/dhcp.js';
import type { CheckResult } from '../../../src/checks/types.js';
import { execCommand, streamCommand } from '../../../src/lib/exec.js';
import { AppError, ErrorCodes, isAppError } from '../../../src/lib/errors.js';
import type { HostCapture, HostPacketIo } from '../../../src/net/types.js';
import { decodeDhcpFrame, DhcpMessageType } from '../../../src/packet/dhcp.js';
import { DLT_EN10MB, DLT_RAW } from '../../../src/packet/frame.js';
import { createWorkerPool } from '../../../src/workers/pool.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { FIXTURE, withXid } from './dhcp-fixtures.js';

const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
after(() => pool.close());

const MAC = Uint8Array.from(FIXTURE.probeMac.split(':'), (h) => parseInt(h, 16));

/** Answers each DISCOVER with the fixture offers (their xid patched), 0.4 and 0.7 ms after it. */
class ScriptedIo implements HostPacketIo {
  info: { mac: Uint8Array; ipv4: string[]; up: boolean } | Error = { mac: MAC, ipv4: [], up: true };
  captureError: Error | null = null;
  sendError: Error | null = null;
  offers: Uint8Array[] = [FIXTURE.offerA, FIXTURE.offerB];
  readonly sent: Uint8Array[] = [];
  readonly filters: string[] = [];
  opened = 0;
  closed = 0;
  #sink: ((tsNs: bigint, frame: Uint8Array) => void) | null = null;

  interfaceInfo(): Promise<{ mac: Uint8Array; ipv4: string[]; up: boolean }> {
    return this.info instanceof Error ? Promise.reject(this.info) : Promise.resolve(this.info);
  }

  capture(_iface: string, filter: string, onFrame: (tsNs: bigint, frame: Uint8Array) => void): HostCapture {
    if (this.captureError) throw this.captureError;
    this.opened++;
    this.filters.push(filter);
    this.#sink = onFrame;
    return { linkType: DLT_EN10MB, stats: () => ({ received: 0, dropped: 0, ifDropped: 0 }), close: () => void this.closed++ };
  }

  sendBroadcast(_iface: string, packet: Uint8Array): void {
    if (this.sendError) throw this.sendError;
    this.sent.push(packet.slice());
    const d = decodeDhcpFrame(packet, packet.length, DLT_RAW);
    assert.ok(d !== null && !('error' in d));
    const sink = this.#sink;
    setImmediate(() => {
      sink?.(1_000_000n, withXid(FIXTURE.discover, d.xid));
      this.offers.forEach((o, i) => sink?.(1_400_000n + BigInt(i) * 300_000n, withXid(o, d.xid)));
    });
  }
}

const options = (over: Partial<DhcpCheckOptions> = {}): DhcpCheckOptions => ({
  name: 'lan', enabled: true, interval: 30, timeout: 10, on_failure: [], interface: 'eth0', window: 3, allowed_servers: ['198.18.200.1'], allowed_macs: [], min_servers: 1, max_servers_reported: 16, ...over,
});

function setup(io: ScriptedIo, over: Partial<DhcpCheckOptions> = {}): { clock: FakeClock; run: (signal?: AbortSignal) => Promise<CheckResult> } {
  const clock = new FakeClock();
  const deps = { clock, log: memoryLogger().log, exec: execCommand, stream: streamCommand, paths: { procfs: '/proc', sysfs: '/sys' }, pool, hostIo: io };
  const instance = dhcpCheck.create(options(over), deps);
  return { clock, run: (signal = new AbortController().signal) => instance.run({ signal }) };
}

/** Runs the check through its window on the fake clock. */
async function runWindow(io: ScriptedIo, over: Partial<DhcpCheckOptions> = {}): Promise<CheckResult> {
  const { clock, run } = setup(io, over);
  const pending = run();
  // two turns: the check sends, then the scripted answers arrive
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  await clock.advance(3000);
  return pending;
}

void test('one DISCOVER per run, fresh xid, answered offers evaluated; the capture is closed', async () => {
  const io = new ScriptedIo();
  const first = await runWindow(io);
  assert.deepEqual([first.ok, first.reason], [false, 'rogue_server']);
  const delays = first.samples.filter((s) => s.metric === 'wireprobe_dhcp_offer_delay_seconds').map((s) => s.value);
  assert.deepEqual(delays, [0.0007, 0.0004]);
  io.offers = [FIXTURE.offerA];
  const second = await runWindow(io);
  assert.deepEqual([second.ok, second.reason], [true, undefined]);
  assert.deepEqual([io.opened, io.closed, io.sent.length], [2, 2, 2]);
  const [a, b] = io.sent.map((p) => decodeDhcpFrame(p, p.length, DLT_RAW));
  assert.ok(a && b && !('error' in a) && !('error' in b));
  assert.deepEqual([a.messageType, a.chaddr, a.srcIp, a.broadcast], [DhcpMessageType.DISCOVER, FIXTURE.probeMac, '0.0.0.0', true]);
  assert.notEqual(a.xid, b.xid);
  assert.deepEqual(io.filters, ['ip and udp and (port 67 or port 68)', 'ip and udp and (port 67 or port 68)']);
});

void test('interface problems become bounded reasons without opening anything', async () => {
  const cases: [ScriptedIo['info'], string][] = [
    [new AppError(ErrorCodes.NET_ERR_NO_INTERFACE, 'interface eth0 does not exist'), 'interface_missing'],
    [{ mac: MAC, ipv4: [], up: false }, 'interface_down'],
    [{ mac: new Uint8Array(0), ipv4: [], up: true }, 'unsupported_interface'],
  ];
  for (const [info, reason] of cases) {
    const io = new ScriptedIo();
    io.info = info;
    const r = await setup(io).run();
    assert.deepEqual([r.ok, r.reason, r.samples.length, io.opened, io.sent.length], [false, reason, 0, 0, 0]);
  }
});

void test('capture and send failures: permission_denied, capture_failed, send_failed; the capture is closed', async () => {
  const io = new ScriptedIo();
  io.captureError = new AppError(ErrorCodes.NET_ERR_PERMISSION, 'wireprobe needs CAP_NET_RAW');
  assert.equal((await setup(io).run()).reason, 'permission_denied');
  io.captureError = new AppError(ErrorCodes.NET_ERR_CAPTURE, 'pcap on eth0: boom');
  assert.equal((await setup(io).run()).reason, 'capture_failed');
  io.captureError = null;
  io.sendError = new AppError(ErrorCodes.NET_ERR_SEND, 'send on eth0: ENOBUFS');
  const r = await setup(io).run();
  assert.deepEqual([r.ok, r.reason, r.message], [false, 'send_failed', 'send on eth0: ENOBUFS']);
  assert.deepEqual([io.opened, io.closed], [1, 1]);
});

void test('a bug is not turned into a result', async () => {
  const io = new ScriptedIo();
  io.sendError = new TypeError('boom');
  await assert.rejects(setup(io).run(), TypeError);
  assert.equal(io.closed, 1);
});

void test('abort during the window: reason timeout at once, capture closed', async () => {
  const io = new ScriptedIo();
  const { run } = setup(io);
  const ac = new AbortController();
  const pending = run(ac.signal);
  await new Promise((r) => setImmediate(r));
  ac.abort();
  const r = await pending;
  assert.deepEqual([r.ok, r.reason, io.closed], [false, 'timeout', 1]);
});

void test('window must be shorter than timeout', () => {
  assert.throws(() => setup(new ScriptedIo(), { window: 10, timeout: 10 }), (e) => isAppError(e, 'CFG_ERR_INVALID'));
});

void test('the kind declares its metrics', () => {
  assert.equal(dhcpCheck.kind, 'dhcp');
  assert.deepEqual(dhcpCheck.metrics.map((m) => [m.name, m.type, m.labelNames.join(',')]), [
    ['wireprobe_dhcp_offer_info', 'gauge', 'server_id,source_ip,source_mac,offered_address,allowed'],
    ['wireprobe_dhcp_servers', 'gauge', ''],
    ['wireprobe_dhcp_rogue_servers', 'gauge', ''],
    ['wireprobe_dhcp_offer_delay_seconds', 'gauge', 'server_id,source_mac'],
  ]);
});
