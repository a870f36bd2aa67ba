// The conntrack check against real conntrack tables: two namespaces of our own, real TCP and UDP
// (IPv4 and IPv6) connections tracked by the server namespace, then a burst of UDP flows from one
// source address that must come out as the top talker and trip talker_share_max. Bad conditions
// (missing namespace, missing binary, no privileges) must give bounded reasons, not exceptions.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conntrackCheck, type ConntrackOptions } from '../../src/checks/conntrack.js';
import type { CheckResult } from '../../src/checks/types.js';
import { execCommand, streamCommand, type ExecFn, type StreamFn } from '../../src/lib/exec.js';
import { createWorkerPool, type WorkerPool } from '../../src/workers/pool.js';
import { findOnPath, LAB_TOOLS, requireRoot, requireTools, waitFor } from '../lab/index.js';
import { conntrackDeps } from '../unit/checks/conntrack-deps.js';
import { createCtNamespaces, CT_NET, type CtNamespaces } from './check-conntrack-netns.js';

const NORMAL = ['198.18.30.11', '198.18.30.12', '198.18.30.13', '198.18.30.14'];
const BURSTER = '198.18.30.99';
const BURST = 1500;
const NEVER = new AbortController().signal;

// Servers: TCP 7000 (keeps connections), UDP 7001 on IPv4 and IPv6. Bounded lifetime.
const SERVER = `
const net = require('node:net'); const dgram = require('node:dgram');
let up = 0; const ready = () => { if (++up === 3) console.log('ready'); };
const keep = [];
net.createServer((s) => { keep.push(s); s.on('error', () => {}); }).listen(7000, '${CT_NET.server4}', ready);
dgram.createSocket('udp4').bind(7001, '${CT_NET.server4}', ready);
dgram.createSocket('udp6').bind(7001, '${CT_NET.server6}', ready);
setTimeout(() => process.exit(0), 120000);
`;

// Normal clients: 5 TCP connections from each NORMAL address (held open), 3 UDP flows over IPv6.
const CLIENTS = `
const net = require('node:net'); const dgram = require('node:dgram');
const addrs = ${JSON.stringify(NORMAL)}; let open = 0; const want = addrs.length * 5;
for (const a of addrs) for (let i = 0; i < 5; i++) {
  const s = net.connect({ host: '${CT_NET.server4}', port: 7000, localAddress: a }, () => { if (++open === want) sendV6(); });
  s.on('error', (e) => { console.error(String(e)); process.exit(2); });
}
function sendV6() {
  let sent = 0;
  for (let p = 0; p < 3; p++) {
    const u = dgram.createSocket('udp6');
    u.bind(21000 + p, '${CT_NET.client6}', () => u.send('v6', 7001, '${CT_NET.server6}', () => { u.close(); if (++sent === 3) console.log('connected'); }));
  }
}
setTimeout(() => process.exit(0), 120000);
`;

// The burst: BURST UDP flows from one address, distinct source ports 30000.., 100 sockets at a time.
const BURSTER_SCRIPT = `
const dgram = require('node:dgram');
async function one(port) {
  const u = dgram.createSocket('udp4');
  await new Promise((res, rej) => { u.once('error', rej); u.bind(port, '${BURSTER}', res); });
  await new Promise((res) => u.send('burst', 7001, '${CT_NET.server4}', res));
  u.close();
}
(async () => {
  for (let i = 0; i < ${BURST}; i += 100) await Promise.all(Array.from({ length: Math.min(100, ${BURST} - i) }, (_, k) => one(30000 + i + k)));
  console.log('sent ${BURST}');
})().catch((e) => { console.error(String(e)); process.exit(2); });
`;

function value(r: CheckResult, metric: string, labels: Record<string, string> = {}): number | undefined {
  return r.samples.find((s) => s.metric === metric && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

void describe('conntrack check in real namespaces', () => {
  let pool: WorkerPool;
  let net: CtNamespaces;
  let tmp: string;
  const opts = (o: Partial<ConntrackOptions> = {}): ConntrackOptions => ({
    name: 'itest',
    enabled: true,
    interval: 30,
    on_failure: [],
    timeout: 20,
    netns: net.server,
    top_n: 5,
    talker_min_flows: 1000,
    talker_share_max: 0.5,
    fill_ratio_max: 0.9,
    ...o,
  });
  const check = (o: Partial<ConntrackOptions> = {}, deps: { exec?: ExecFn; stream?: StreamFn } = {}): Promise<CheckResult> =>
    conntrackCheck.create(opts(o), conntrackDeps({ pool, ...deps })).run({ signal: NEVER });

  before(async () => {
    requireRoot();
    requireTools([...LAB_TOOLS, { bin: 'conntrack', pkg: 'conntrack' }, { bin: 'setpriv', pkg: 'util-linux' }]);
    pool = createWorkerPool({ minThreads: 1, maxThreads: 2 });
    tmp = mkdtempSync(join(tmpdir(), 'wptc-itest-'));
    net = await createCtNamespaces();
    await net.addClientAddresses([...NORMAL, BURSTER]);
    await net.run('server', ['sysctl', '-qw', 'net.netfilter.nf_conntrack_acct=1']);
    await net.spawn('server', [process.execPath, '-e', SERVER]).waitForOutput(/ready/, 10_000);
    await net.spawn('client', [process.execPath, '-e', CLIENTS]).waitForOutput(/connected/, 10_000);
    await tracked(4 * 5 + 3);
  });
  /** waits until the server's table holds `n` entries (IPv6 neighbour discovery delays the first datagrams) */
  const tracked = (n: number): Promise<number> =>
    waitFor(
      async () => {
        const c = Number((await net.run('server', ['cat', '/proc/sys/net/netfilter/nf_conntrack_count'])).stdout);
        return c >= n ? c : undefined;
      },
      { timeoutMs: 10_000, what: `${n} conntrack entries in the server namespace` },
    );
  after(async () => {
    await net?.destroy();
    await pool?.close();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  void it('exports entries, statistics and talkers of real connections; passes below the limits', async () => {
    const r = await check();
    assert.equal(r.ok, true, r.message);
    const count = Number((await net.run('server', ['cat', '/proc/sys/net/netfilter/nf_conntrack_count'])).stdout);
    assert.equal(value(r, 'wireprobe_conntrack_entries'), count);
    assert.equal(value(r, 'wireprobe_conntrack_listed_flows'), 4 * 5 + 3);
    for (const a of NORMAL) assert.equal(value(r, 'wireprobe_conntrack_top_source_flows', { address: a }), 5);
    assert.equal(value(r, 'wireprobe_conntrack_top_destination_flows', { address: CT_NET.server4 }), 20);
    assert.equal(value(r, 'wireprobe_conntrack_top_destination_flows', { address: CT_NET.server6 }), 3);
    assert.ok((value(r, 'wireprobe_conntrack_top_source_bytes', { address: NORMAL[0]! }) ?? 0) > 0, 'accounting bytes');
    assert.ok((value(r, 'wireprobe_conntrack_stat_total', { stat: 'insert' }) ?? -1) >= 0);
    assert.equal(value(r, 'wireprobe_conntrack_unparsed_lines'), 0);
    // the client namespace has no ct rule: nothing tracked there
    const client = await check({ netns: net.client });
    assert.deepEqual([client.ok, value(client, 'wireprobe_conntrack_entries'), value(client, 'wireprobe_conntrack_top_source_share')], [true, 0, 0]);
  });

  void it('a burst of flows from one address is the top talker and trips talker_share_max', async () => {
    await net.spawn('client', [process.execPath, '-e', BURSTER_SCRIPT]).waitForOutput(/sent/, 20_000);
    await tracked(BURST + 23);
    const r = await check();
    assert.deepEqual([r.ok, r.reason], [false, 'talker_share'], r.message);
    assert.match(r.message ?? '', new RegExp(`source ${BURSTER.replaceAll('.', '\\.')} holds ${BURST} of ${BURST + 23} flows`));
    const top = r.samples.filter((s) => s.metric === 'wireprobe_conntrack_top_source_flows');
    assert.deepEqual(top[0], { metric: 'wireprobe_conntrack_top_source_flows', labels: { address: BURSTER }, value: BURST });
    assert.equal(top.length, 5, 'bounded by top_n');
    assert.equal(value(r, 'wireprobe_conntrack_top_source_share'), BURST / (BURST + 23));
    assert.equal(value(r, 'wireprobe_conntrack_top_source_packets', { address: BURSTER }), BURST);
    assert.ok((value(r, 'wireprobe_conntrack_entries') ?? 0) >= BURST + 23);
    // under the share limit, or with fewer flows than talker_min_flows, it passes
    assert.equal((await check({ talker_share_max: 0.99 })).ok, true);
    assert.equal((await check({ talker_min_flows: 10_000 })).ok, true);
    // fill ratio above the limit
    const full = await check({ fill_ratio_max: 0.001, talker_share_max: 0.99 });
    assert.deepEqual([full.ok, full.reason], [false, 'conntrack_full']);
    assert.ok((value(full, 'wireprobe_conntrack_fill_ratio') ?? 0) > 0.001);
  });

  void it('bad conditions give bounded reasons and leave the check usable', async () => {
    const missingNs = await check({ netns: 'wptcnonexistent' });
    assert.deepEqual([missingNs.ok, missingNs.reason, missingNs.samples.length], [false, 'conntrack_unavailable', 0]);
    assert.match(missingNs.message ?? '', /Cannot open network namespace/);

    // a PATH that has ip and cat but no conntrack
    const bin = join(tmp, 'bin');
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    for (const tool of ['ip', 'cat']) symlinkSync(findOnPath(tool) ?? tool, join(bin, tool));
    const env = { PATH: bin, LC_ALL: 'C' };
    const noTool = await check({}, {
      exec: (argv, o) => execCommand(argv, { ...o, env }),
      stream: (argv, o, c) => streamCommand(argv, { ...o, env }, c),
    });
    assert.deepEqual([noTool.ok, noTool.reason], [false, 'conntrack_unavailable']);
    assert.match(noTool.message ?? '', /exec of "conntrack" failed/);
    assert.ok((value(noTool, 'wireprobe_conntrack_entries') ?? 0) > 0, 'the table size is still exported');

    // conntrack run as nobody inside the namespace
    const nobody = (argv: readonly string[]): readonly string[] => [...argv.slice(0, 4), 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv.slice(4)];
    const denied = await check({}, { exec: (argv, o) => execCommand(nobody(argv), o), stream: (argv, o, c) => streamCommand(nobody(argv), o, c) });
    assert.deepEqual([denied.ok, denied.reason], [false, 'permission_denied']);
    assert.match(denied.message ?? '', /CAP_NET_ADMIN/);

    const again = await check({ talker_share_max: 0.99 });
    assert.equal(again.ok, true, again.message);
  });
});
