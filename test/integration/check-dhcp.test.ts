// The dhcp check against two real dnsmasq servers on a bridged segment (test/integration/dhcp-lab.ts):
// server A is allowed, server B is the rogue. The check runs in the probe namespace through
// check-dhcp-runner.ts; tcpdump in the probe namespace and dnsmasq's own log and lease file are the
// independent witnesses that a DISCOVER (from 0.0.0.0) and never a REQUEST went out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { CheckResult, Sample } from '../../src/checks/types.js';
import { LAB_TOOLS, requireRoot, requireTools, TCPDUMP } from '../lab/index.js';
import { createDhcpLab, DHCP_IF, SERVERS, type DhcpLab, type DhcpServer } from './dhcp-lab.js';

const RUNNER = fileURLToPath(new URL('./check-dhcp-runner.js', import.meta.url));
const DNSMASQ = { bin: 'dnsmasq', pkg: 'dnsmasq' };
const SETPRIV = { bin: 'setpriv', pkg: 'util-linux' };

interface RunOutput {
  result: CheckResult;
  durationMs: number;
  fdsFirst: number;
  fdsAfter: number;
}

let lab: DhcpLab | undefined;
let serverA: DhcpServer | undefined;
let serverB: DhcpServer | undefined;

const getLab = (): DhcpLab => {
  if (lab === undefined) throw new Error('dhcp lab was not created (see the before hook error)');
  return lab;
};

function options(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'lan', timeout: 4, interface: DHCP_IF, window: 1, allowed_servers: [SERVERS.a.address],
    allowed_macs: [], min_servers: 1, max_servers_reported: 16, ...over,
  };
}

async function runCheck(over: Record<string, unknown> = {}, prefix: readonly string[] = []): Promise<RunOutput> {
  const r = await getLab().exec('probe', [...prefix, process.execPath, RUNNER, JSON.stringify(options(over))], 15_000);
  assert.equal(r.code, 0, `runner failed (exit ${r.code}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as RunOutput;
  assert.equal(out.fdsAfter, out.fdsFirst, 'a second run opens no descriptor (handles are reused)');
  return out;
}

/** tcpdump -v text of the DHCP traffic in the probe namespace while `fn` runs. */
async function witness(fn: () => Promise<void>): Promise<string> {
  const td = getLab().spawn('probe', ['tcpdump', '-i', DHCP_IF, '-l', '-U', '-nn', '-v', 'udp and (port 67 or port 68)']);
  await td.waitForOutput(/listening on/, 5000);
  await fn();
  await new Promise((r) => setTimeout(r, 200));
  await td.stop('SIGINT', 3000);
  return td.stdout;
}

function samples(result: CheckResult, metric: string): Sample[] {
  return result.samples.filter((s) => s.metric === metric);
}

function gauge(result: CheckResult, metric: string): number | undefined {
  return samples(result, metric)[0]?.value;
}

function inRange(address: string, side: 'a' | 'b'): boolean {
  const last = (a: string): number => Number(a.split('.')[3]);
  const [lo, hi] = SERVERS[side].range;
  return address.startsWith(SERVERS[side].address.replace(/\.1$/, '.')) && last(address) >= last(lo) && last(address) <= last(hi);
}

function assertNoLeaseTaken(text: string): void {
  assert.doesNotMatch(text, /DHCP-Message \(53\), length 1: Request/, 'no DHCPREQUEST on the wire');
  for (const s of [serverA, serverB]) {
    if (s === undefined) continue;
    assert.equal(s.leases(), '', 'dnsmasq granted no lease');
    assert.doesNotMatch(s.process.stderr, /DHCPREQUEST|DHCPACK/);
  }
}

before(async () => {
  requireRoot();
  requireTools([...LAB_TOOLS, TCPDUMP, DNSMASQ, SETPRIV]);
  lab = await createDhcpLab();
  serverA = await lab.startServer('a');
  serverB = await lab.startServer('b');
});

after(async () => {
  await lab?.destroy();
});

void test('reports both servers and flags exactly the rogue one; no lease is taken', async () => {
  let out: RunOutput | undefined;
  const text = await witness(async () => {
    out = await runCheck();
  });
  const { result } = out!;
  assert.equal(result.ok, false);
  assert.equal(result.reason, 'rogue_server');
  assert.equal(gauge(result, 'wireprobe_dhcp_servers'), 2);
  assert.equal(gauge(result, 'wireprobe_dhcp_rogue_servers'), 1);
  const info = samples(result, 'wireprobe_dhcp_offer_info');
  assert.equal(info.length, 2);
  const [rogue, good] = info; // rogue servers come first
  assert.deepEqual({ ...rogue!.labels, offered_address: '' }, {
    server_id: SERVERS.b.address, source_ip: SERVERS.b.address, source_mac: serverB!.mac, offered_address: '', allowed: 'false',
  });
  assert.deepEqual({ ...good!.labels, offered_address: '' }, {
    server_id: SERVERS.a.address, source_ip: SERVERS.a.address, source_mac: serverA!.mac, offered_address: '', allowed: 'true',
  });
  assert.ok(inRange(rogue!.labels['offered_address']!, 'b'), rogue!.labels['offered_address']);
  assert.ok(inRange(good!.labels['offered_address']!, 'a'), good!.labels['offered_address']);
  const delays = samples(result, 'wireprobe_dhcp_offer_delay_seconds');
  assert.equal(delays.length, 2);
  for (const d of delays) assert.ok(d.value > 0 && d.value < 1, `offer delay ${d.value}`);
  // the wire: one DISCOVER per run (the runner runs the check twice) from 0.0.0.0 with the
  // broadcast flag, both offers to each, nothing else
  const probeMac = await getLab().mac('probe');
  assert.match(text, /0\.0\.0\.0\.68 > 255\.255\.255\.255\.67: BOOTP\/DHCP, Request from [0-9a-f:]+, length 300, xid 0x[0-9a-f]+, Flags \[Broadcast\]/);
  assert.equal(text.match(/DHCP-Message \(53\), length 1: Discover/g)?.length, 2);
  assert.equal(text.match(/DHCP-Message \(53\), length 1: Offer/g)?.length, 4);
  assert.match(text, new RegExp(`Client-Ethernet-Address ${probeMac}`));
  assertNoLeaseTaken(text);
  assert.match(serverA!.process.stderr, new RegExp(`DHCPDISCOVER\\(${DHCP_IF}\\) ${probeMac}`));
  assert.match(serverB!.process.stderr, /vendor class: wireprobe/);
});

void test('servers can be allowed by MAC address (any case)', async () => {
  const { result } = await runCheck({ allowed_servers: [], allowed_macs: [serverA!.mac, serverB!.mac.toUpperCase()] });
  assert.equal(result.ok, true, result.message);
  assert.equal(gauge(result, 'wireprobe_dhcp_rogue_servers'), 0);
  assert.deepEqual(samples(result, 'wireprobe_dhcp_offer_info').map((s) => s.labels['allowed']), ['true', 'true']);
});

void test('the DISCOVER leaves from 0.0.0.0 even when the interface has an IPv4 address', async () => {
  await getLab().exec('probe', ['ip', 'addr', 'add', '198.18.202.2/24', 'dev', DHCP_IF]);
  try {
    const text = await witness(async () => {
      const { result } = await runCheck({ max_servers_reported: 1 });
      assert.equal(gauge(result, 'wireprobe_dhcp_servers'), 2);
      assert.equal(samples(result, 'wireprobe_dhcp_offer_info').length, 1, 'bounded by max_servers_reported');
      assert.equal(samples(result, 'wireprobe_dhcp_offer_info')[0]!.labels['allowed'], 'false', 'the rogue one is kept');
    });
    assert.match(text, /0\.0\.0\.0\.68 > 255\.255\.255\.255\.67/);
    assert.doesNotMatch(text, /198\.18\.202\.2\.68 >/);
    assertNoLeaseTaken(text);
  } finally {
    await getLab().exec('probe', ['ip', 'addr', 'del', '198.18.202.2/24', 'dev', DHCP_IF]);
  }
});

void test('with the rogue server gone the check passes', async () => {
  await serverB!.process.stop('SIGTERM', 3000);
  const { result } = await runCheck();
  assert.equal(result.ok, true, result.message);
  assert.equal(gauge(result, 'wireprobe_dhcp_servers'), 1);
  assert.equal(gauge(result, 'wireprobe_dhcp_rogue_servers'), 0);
  assert.equal(samples(result, 'wireprobe_dhcp_offer_info')[0]!.labels['source_mac'], serverA!.mac);
  const { result: two } = await runCheck({ min_servers: 2 });
  assert.equal(two.reason, 'too_few_servers');
});

void test('with no server at all the check fails with no_offer (unless min_servers is 0)', async () => {
  await serverA!.process.stop('SIGTERM', 3000);
  const out = await runCheck();
  assert.equal(out.result.ok, false);
  assert.equal(out.result.reason, 'no_offer');
  assert.equal(gauge(out.result, 'wireprobe_dhcp_servers'), 0);
  assert.ok(out.durationMs >= 1000 && out.durationMs < 2000, `one window: ${out.durationMs} ms`);
  const { result } = await runCheck({ min_servers: 0 });
  assert.equal(result.ok, true);
});

void test('a down interface, a missing one and a missing CAP_NET_RAW give bounded reasons', async () => {
  await getLab().exec('probe', ['ip', 'link', 'set', DHCP_IF, 'down']);
  try {
    const { result } = await runCheck();
    assert.deepEqual([result.ok, result.reason, result.samples.length], [false, 'interface_down', 0]);
  } finally {
    await getLab().exec('probe', ['ip', 'link', 'set', DHCP_IF, 'up']);
  }
  const missing = await runCheck({ interface: 'wptdnone0' });
  assert.deepEqual([missing.result.ok, missing.result.reason], [false, 'interface_missing']);
  // root without CAP_NET_RAW in its bounding set: opening the capture is refused by the kernel
  const denied = await runCheck({}, ['setpriv', '--bounding-set', '-net_raw', '--inh-caps', '-net_raw']);
  assert.deepEqual([denied.result.ok, denied.result.reason], [false, 'permission_denied']);
  assert.match(denied.result.message ?? '', /CAP_NET_RAW/);
});
