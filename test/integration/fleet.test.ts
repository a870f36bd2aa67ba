// The fleet end to end: a real nats-server (JetStream, temp store) in the hub namespace of a lab
// this test builds, three wireprobes in three member namespaces. Membership and labels; a
// dispatch to a two-member selector (CLI and API); the shared inventory reaching the selected
// members only; measured figures (inventory propagation, dispatch latency, 50 simulated members);
// a SIGKILLed member reported missing within the deadline; nats-server restarted under running
// members; wrong credentials. Figures are printed as test diagnostics.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { find, findOnPath, parseExposition, requireRoot, sleep, waitFor, WIREPROBE_MAIN, type Sample } from '../lab/index.js';
import { createFleetLab, HUB_ADDRESS, memberAddress, type FleetLab, type FleetProcess } from './fleet-lab.js';

const TOOL = WIREPROBE_MAIN.replace(/src[/\\]main\.js$/, 'test/integration/fleet-tool.js');
const NATS = `nats://${HUB_ADDRESS}:4222`;
const TOKEN = 'fleet-secret-token-1234';
const WRITE = 'write-token-bbbbbbbbbbbb';
const SITES = ['par', 'par', 'lon'] as const;
const name = (i: number): string => `m${i}`;

interface Report {
  readonly elapsedMs: number;
  readonly members: readonly { member: string; status: string; latencyMs: number | null; result?: unknown }[];
}

function config(i: number, token = TOKEN): string {
  return `global:
  probe_name: ${name(i)}
  interval: 1
  nb_proc: 1
  logging_level: INFO
  prometheus_address: ${memberAddress(i)}
  prometheus_port: 9771
groups:
  g1: {}
targets:
  own:
    type: ICMPping
    destination: 198.19.0.${10 + i}
    nb_packets: 2
    timeout: 0.5
checks:
  routes:
    - {name: default, family: ipv4}
inventories:
  - {name: shared, plugin: fleet, interval: 60, timeout: 10}
api:
  tokens:
    - {token: read-token-aaaaaaaaaaaa, scope: read}
    - {token: ${WRITE}, scope: operate}
fleet:
  servers: ["${NATS}"]
  token: ${token}
  labels: {site: ${SITES[i]}, region: eu}
  heartbeat_interval: 1
  gone_after: 15
  connect_timeout: 5
  allow:
    operations: [check, ping, traceroute, mtr]
    destinations: [198.18.0.0/15]
  dispatch: {default_deadline: 10}
`;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};

void describe('fleet on NATS', { timeout: 900_000 }, () => {
  let lab: FleetLab;
  let nats: FleetProcess | null = null;
  const members: (FleetProcess | null)[] = [null, null, null];
  const figures: string[] = [];

  const tool = async (ns: string, ...args: string[]): Promise<unknown> => {
    const r = await lab.exec(ns, [process.execPath, TOOL, ...args], 60_000);
    if (r.code !== 0) throw new Error(`fleet-tool ${args[0]} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as unknown;
  };
  const cli = (i: number, ...args: string[]) => lab.exec(lab.members[i]!, [process.execPath, WIREPROBE_MAIN, 'fleet', ...args, '--config', join(lab.tmpDir, `m${i}.yaml`)], 60_000);
  /** GET inside member i's namespace with curl (lighter than a node process on a loaded machine) */
  const get = async (i: number, path: string, token?: string): Promise<{ status: number; body: string }> => {
    const auth = token === undefined ? [] : ['-H', `Authorization: Bearer ${token}`];
    const r = await lab.exec(lab.members[i]!, ['curl', '-s', '-m', '10', ...auth, '-w', '\n%{http_code}', `http://${memberAddress(i)}:9771${path}`]);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, Math.max(cut, 0)) };
  };
  const scrape = async (i: number): Promise<Sample[]> => parseExposition((await get(i, '/metrics')).body);
  const sent = (s: readonly Sample[], target: string): number =>
    s.filter((x) => x.name === 'icmp_sent_total' && x.labels['destination'] === target).reduce((n, x) => n + x.value, 0);

  const startNats = async (): Promise<void> => {
    const p = lab.spawn(lab.hub, ['nats-server', '-a', HUB_ADDRESS, '-p', '4222', '-js', '-sd', join(lab.tmpDir, 'js'), '--auth', TOKEN]);
    await waitFor(() => Promise.resolve(p.output().includes('Server is ready')), { timeoutMs: 10_000, what: 'nats-server ready', describe: () => p.output() });
    nats = p;
  };
  const startMember = async (i: number, token = TOKEN): Promise<FleetProcess> => {
    const file = join(lab.tmpDir, `m${i}.yaml`);
    writeFileSync(file, config(i, token));
    const p = lab.spawn(lab.members[i]!, [process.execPath, WIREPROBE_MAIN, 'run', '--config', file]);
    await waitFor(async () => {
      if (p.child.exitCode !== null) throw new Error(`wireprobe ${name(i)} exited`);
      return (await get(i, '/-/ready')).status === 200;
    }, { timeoutMs: 90_000, intervalMs: 300, what: `wireprobe ${name(i)} ready`, describe: () => `output:\n${p.output().slice(-4000)}` });
    members[i] = p;
    return p;
  };
  const liveMembers = async (i: number): Promise<{ name: string; labels: Record<string, string>; version: string; heartbeatMs: number }[]> => {
    const r = await cli(i, 'members', '--json');
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { members: { name: string; labels: Record<string, string>; version: string; heartbeatMs: number }[] }).members;
  };

  before(async () => {
    requireRoot();
    if (findOnPath('nats-server') === undefined) throw new Error('missing prerequisite: nats-server (apt-get install nats-server)');
    lab = createFleetLab(3);
    mkdirSync(join(lab.tmpDir, 'js'));
    await startNats();
    for (const i of [0, 1, 2]) await startMember(i);
  });

  after(async () => {
    process.stdout.write(`# fleet figures (load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs):\n${figures.map((f) => `#   ${f}`).join('\n')}\n`);
    await lab?.destroy();
  });

  void test('members join with their labels and heartbeat; service discovery lists them', async () => {
    const list = await waitFor(async () => {
      const l = await liveMembers(2);
      return l.length === 3 ? l : undefined;
    }, { timeoutMs: 15_000, what: 'three live members' });
    assert.deepEqual(list.map((m) => [m.name, m.labels['site'], m.labels['region']]), [['m0', 'par', 'eu'], ['m1', 'par', 'eu'], ['m2', 'lon', 'eu']]);
    assert.ok(list.every((m) => m.version !== '' && Date.now() - m.heartbeatMs < 15_000));
    const text = await cli(0, 'members');
    assert.match(text.stdout, /^m1\s+live\s+\S+\s+\d+s ago\s+198\.18\.0\.12:9771\s+site=par,region=eu$/m);
    const sd = await get(0, '/api/v1/fleet/sd', 'read-token-aaaaaaaaaaaa');
    const groups = JSON.parse(sd.body) as { targets: string[]; labels: Record<string, string> }[];
    assert.deepEqual(groups.map((g) => [g.targets[0], g.labels['site'], g.labels['__meta_wireprobe_member']]), [
      ['198.18.0.11:9771', 'par', 'm0'], ['198.18.0.12:9771', 'par', 'm1'], ['198.18.0.13:9771', 'lon', 'm2'],
    ]);
    const s = await scrape(0);
    assert.equal(find(s, 'wireprobe_fleet_connected', {})?.value, 1);
    assert.equal(find(s, 'wireprobe_fleet_members', { state: 'live' })?.value, 3);
  });

  void test('a dispatch to a two-member selector returns two results (CLI and API); the policy refuses outside prefixes', async () => {
    const r = await cli(2, 'check', '--select', 'site=par', '--deadline', '10', '--json', 'routes', 'default');
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    const report = (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { report: Report }).report;
    assert.deepEqual(report.members.map((m) => [m.member, m.status]), [['m0', 'ok'], ['m1', 'ok']], r.stdout);
    // a traceroute through the members' engines: the hub answers for 198.19.3.3 at the first hop
    const tr = await cli(2, 'traceroute', '--select', 'site=par', '--deadline', '15', '--json', '--max-hops', '4', '--queries', '1', '198.19.3.3');
    assert.equal(tr.code, 0, `${tr.stdout}${tr.stderr}`);
    const trReport = (JSON.parse(tr.stdout.trim().split('\n').at(-1)!) as { report: Report }).report;
    assert.deepEqual(trReport.members.map((m) => [m.member, m.status, (m.result as { reached?: boolean } | undefined)?.reached]), [['m0', 'ok', true], ['m1', 'ok', true]], tr.stdout);
    assert.ok(tr.stdout.split('\n').filter((l) => l.includes('"type":"event"')).length >= 2, 'events streamed per member');
    const refused = await cli(2, 'ping', '--member', 'm0', '--deadline', '5', '10.0.0.1');
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /m0\s+refused/);
    const api = await lab.exec(lab.members[2]!, ['curl', '-s', '-X', 'POST', '-H', `Authorization: Bearer ${WRITE}`, '-H', 'Content-Type: application/json',
      '-d', JSON.stringify({ select: 'region=eu', deadline: 10, operation: { kind: 'check', check: 'routes', name: 'default' } }),
      `http://${memberAddress(2)}:9771/api/v1/fleet/operations`]);
    const apiReport = JSON.parse(api.stdout) as Report;
    assert.notEqual(apiReport.members, undefined, api.stdout);
    assert.deepEqual(apiReport.members.map((m) => m.status), ['ok', 'ok', 'ok'], api.stdout);
    const noAuth = await lab.exec(lab.members[2]!, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', 'Content-Type: application/json',
      '-d', '{}', `http://${memberAddress(2)}:9771/api/v1/fleet/operations`]);
    assert.equal(noAuth.stdout, '401');
    assert.match(members[0]!.output(), /msg="fleet operation" id=\S+ origin="?m2-cli\/cli"? kind=check/);
  });

  void test('a target added to the shared inventory is probed by the selected members only', async () => {
    const entry = JSON.stringify({ select: 'site=par', target: { hostname: 't1', destination: '198.19.5.5', groups: ['g1'], timeout: 0.5 } });
    const { t0 } = (await tool(lab.hub, 'put', NATS, TOKEN, 'wireprobe-inventory', 'par-t1', entry)) as { t0: number };
    const changedAt = async (i: number): Promise<number> => waitFor(() => {
      const line = members[i]!.output().split('\n').find((l) => l.includes('msg="inventory targets changed"') && l.includes('targets=1'));
      const ts = line === undefined ? null : /ts=(\S+)/.exec(line)?.[1];
      return Promise.resolve(ts === undefined || ts === null ? undefined : Date.parse(ts));
    }, { timeoutMs: 10_000, what: `inventory change on ${name(i)}` });
    const delays = [await changedAt(0) - t0, await changedAt(1) - t0];
    figures.push(`inventory change reaches the selected members in ${delays.map((d) => `${d} ms`).join(' and ')} (put → "inventory targets changed")`);
    for (const i of [0, 1]) {
      await waitFor(async () => sent(await scrape(i), 'shared_t1') >= 2, { timeoutMs: 10_000, what: `shared_t1 probed on ${name(i)}` });
    }
    assert.equal(sent(await scrape(2), 'shared_t1'), 0, 'm2 (site=lon) does not probe it');
    assert.equal(find(await scrape(2), 'wireprobe_inventory_targets', { inventory: 'shared' })?.value, 0);
    await tool(lab.hub, 'put', NATS, TOKEN, 'wireprobe-inventory', 'par-t1', '-');
    await waitFor(async () => find(await scrape(0), 'wireprobe_inventory_targets', { inventory: 'shared' })?.value === 0, { timeoutMs: 10_000, what: 'entry removed on m0' });
  });

  void test('measured: dispatch latency for 1 and 3 members, and 50 simulated members', async () => {
    const check = JSON.stringify({ kind: 'check', check: 'routes', name: 'default' });
    const refusedOp = JSON.stringify({ kind: 'ping', destination: '10.0.0.1' });
    const run = async (selector: string, op: string): Promise<Report[]> =>
      ((await tool(lab.hub, 'dispatch', NATS, TOKEN, selector, op, '10000', '10')) as { reports: Report[] }).reports;
    for (const [label, selector] of [['1 member', 'name=m0'], ['3 members', 'region=eu']] as const) {
      const checks = await run(selector, check);
      const trips = await run(selector, refusedOp);
      assert.ok(checks.every((r) => r.members.every((m) => m.status === 'ok')));
      figures.push(`dispatch to ${label}: routes check run ${median(checks.map((r) => r.elapsedMs)).toFixed(1)} ms median (10 runs, max ${Math.max(...checks.map((r) => r.elapsedMs)).toFixed(1)}), refused-op round trip ${median(trips.map((r) => r.elapsedMs)).toFixed(1)} ms median`);
    }
    const sims = [0, 1, 2, 3, 4].map((k) => lab.spawn(lab.hub, [process.execPath, TOOL, 'sim', NATS, TOKEN, `sim${k}-`, '10']));
    const t0 = Date.now();
    await waitFor(async () => find(await scrape(0), 'wireprobe_fleet_members', { state: 'live' })?.value === 53, { timeoutMs: 30_000, what: '53 live members seen by m0' });
    const joined = Date.now() - t0;
    const rss = sims.map((p) => (JSON.parse(p.output().split('\n')[0] ?? '{}') as { rssMiB?: number }).rssMiB ?? 0);
    const listStart = Date.now();
    const list = await liveMembers(2);
    const listMs = Date.now() - listStart;
    assert.equal(list.length, 53);
    const reports = await run('*', check);
    const all = reports.map((r) => r.members.filter((m) => m.status === 'ok').length);
    assert.ok(all.every((n) => n === 53), `answers per dispatch: ${all.join(',')}`);
    figures.push(`50 simulated members (5 node processes x 10 NATS connections, heartbeat 2 s, instant fake check; RSS ${rss.join('/')} MiB): all 53 live on m0 within ${joined} ms; \`fleet members\` CLI ${listMs} ms (process start included); dispatch of a check to all 53: ${median(reports.map((r) => r.elapsedMs)).toFixed(1)} ms median, max ${Math.max(...reports.map((r) => r.elapsedMs)).toFixed(1)} ms, 53/53 answers in each of 10 runs`);
    const s0 = await scrape(0);
    await Promise.all(sims.map((p) => p.stop('SIGKILL')));
    const goneStart = Date.now();
    await waitFor(async () => find(await scrape(0), 'wireprobe_fleet_members', { state: 'live' })?.value === 3, { timeoutMs: 20_000, what: 'simulated members gone' });
    figures.push(`killed simulated members shown gone after ${Date.now() - goneStart} ms (their gone_after 6 s); m0 kept probing: icmp_sent_total(own) ${sent(s0, 'own')} → ${sent(await scrape(0), 'own')}`);
  });

  void test('a member killed with SIGKILL is reported missing within the deadline; the other result arrives', async () => {
    assert.deepEqual((await liveMembers(2)).map((m) => m.name), ['m0', 'm1', 'm2']);
    await members[1]!.stop('SIGKILL');
    const r = await cli(2, 'check', '--select', 'site=par', '--deadline', '3', '--json', 'routes', 'default');
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}\nm1:\n${members[1]!.output().slice(-3000)}`);
    const report = (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { report: Report }).report;
    assert.deepEqual(report.members.map((m) => [m.member, m.status]), [['m0', 'ok'], ['m1', 'missing']]);
    assert.ok(report.elapsedMs >= 2900 && report.elapsedMs < 5000, `elapsed ${report.elapsedMs} ms for a 3 s deadline`);
    figures.push(`SIGKILLed member reported missing after ${report.elapsedMs.toFixed(0)} ms (deadline 3 s); m0 answered in ${report.members[0]?.latencyMs?.toFixed(0)} ms`);
  });

  void test('nats-server restarted: probing goes on meanwhile, members come back without restart', async () => {
    const before0 = sent(await scrape(0), 'own');
    await nats!.stop('SIGTERM');
    const down = Date.now();
    await waitFor(async () => find(await scrape(0), 'wireprobe_fleet_connected', {})?.value === 0, { timeoutMs: 10_000, what: 'm0 disconnected' });
    await sleep(3000);
    const s = await scrape(0);
    assert.ok(sent(s, 'own') >= before0 + 4, `probing went on: ${before0} → ${sent(s, 'own')}`);
    await startNats();
    const up = Date.now();
    await waitFor(async () => {
      const [a, b] = [await scrape(0), await scrape(2)];
      return find(a, 'wireprobe_fleet_connected', {})?.value === 1 && find(b, 'wireprobe_fleet_connected', {})?.value === 1;
    }, { timeoutMs: 30_000, what: 'm0 and m2 reconnected' });
    const list = await waitFor(async () => {
      const l = await liveMembers(2);
      return l.map((m) => m.name).join(',') === 'm0,m2' ? l : undefined;
    }, { timeoutMs: 20_000, what: 'm0 and m2 live again' });
    assert.equal(list.length, 2);
    const r = await cli(2, 'check', '--deadline', '5', '--json', 'routes', 'default');
    const report = (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { report: Report }).report;
    assert.deepEqual(report.members.map((m) => [m.member, m.status]), [['m0', 'ok'], ['m2', 'ok']]);
    figures.push(`nats-server down ${up - down} ms; members reconnected and live again ${Date.now() - up} ms after its restart`);
  });

  void test('wrong credentials: a clear error, probing continues', async () => {
    const p = await startMember(1, 'wrong-token-000000000');
    await waitFor(() => Promise.resolve(/NATS refused the fleet credentials/.test(p.output())), { timeoutMs: 15_000, what: 'credentials error logged', describe: () => p.output().slice(-3000) });
    assert.match(p.output(), /level=error module=fleet msg="fleet: NATS connection failed; probing goes on, retrying" code=FLEET_ERR_AUTH/);
    const a = sent(await scrape(1), 'own');
    await sleep(2500);
    const s = await scrape(1);
    assert.ok(sent(s, 'own') >= a + 2, 'probing continues');
    assert.ok((find(s, 'wireprobe_fleet_connect_failures_total', { reason: 'auth' })?.value ?? 0) >= 1);
    assert.equal(find(s, 'wireprobe_fleet_connected', {})?.value, 0);
  });
});
