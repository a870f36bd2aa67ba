// No crash loop: every kind of bad target entry is written to a running wireprobe through the
// API (refused with a 4xx, never a 5xx or a crash), more are written straight into its state
// file and its inventory file (values the schema refuses, malformed records), then the process
// is killed (SIGKILL) and restarted three times: each time it comes up, loads what is valid,
// sets the bad records aside, reports the bad entries, and its targets are still probed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { find, netprobifyConfig, type Lab, type Sample, type WireprobeHandle } from '../lab/index.js';

const TOKEN = 'wpt-crash-loop-write-token-0123456789';
const sent = (s: readonly Sample[], target: string): number => find(s, 'icmp_sent_total', t5(target, 'ipv4'))?.value ?? -1;

/** An HTTP request from inside the probe namespace: status and body. */
async function call(lab: Lab, wp: WireprobeHandle, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const init = JSON.stringify({ method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const script = `fetch(${JSON.stringify(wp.baseUrl + path)}, ${init}).then(async (r) => process.stdout.write(r.status + '\\n' + await r.text()))`;
  const r = await lab.exec('probe', ['node', '-e', script], { timeoutMs: 10_000 });
  const [status, ...rest] = r.stdout.split('\n');
  return { status: Number(status), body: rest.join('\n') };
}

const ICMP = { type: 'ICMPping', destination: '198.19.15.1', timeout: 0.5 };
/** Every kind of bad entry: out-of-range and mistyped numbers, oversized rounds, odd names and lifetimes. */
const BAD_ENTRIES: [string, Record<string, unknown>][] = [
  ['nb_packets 1e308', { name: 'poison', ...ICMP, nb_packets: 1e308 }],
  ['nb_packets 1e20', { name: 'p1', ...ICMP, nb_packets: 1e20 }],
  ['nb_packets 10001', { name: 'p2', ...ICMP, nb_packets: 10001 }],
  ['nb_packets 0', { name: 'p3', ...ICMP, nb_packets: 0 }],
  ['nb_packets 1.5', { name: 'p4', ...ICMP, nb_packets: 1.5 }],
  ['nb_packets "3"', { name: 'p5', ...ICMP, nb_packets: '3' }],
  ['payload 1e9', { name: 'p6', ...ICMP, ip_payload_size: 1e9 }],
  ['payload -1', { name: 'p7', ...ICMP, ip_payload_size: -1 }],
  ['timeout 1e308', { name: 'p8', ...ICMP, timeout: 1e308 }],
  ['timeout 0', { name: 'p9', ...ICMP, timeout: 0 }],
  ['dns_update_interval 1e308', { name: 'p10', ...ICMP, dns_update_interval: 1e308 }],
  ['dst_port 70000', { name: 'p11', type: 'TCPsyn', destination: '198.19.15.1', dst_port: 70000 }],
  ['dst_port 0', { name: 'p12', type: 'UDPunreachable', destination: '198.19.15.1', dst_port: 0 }],
  ['threshold 1e308', { name: 'p13', ...ICMP, threshold: { latency: 1e308, loss: 1e308 } }],
  ['subnet /8', { name: 'p14', type: 'ICMPping', destination: '10.0.0.0/8', is_subnet: true }],
  ['subnet /16 × 2', { name: 'p15', type: 'ICMPping', destination: '198.19.0.0/16', is_subnet: true, nb_packets: 2 }],
  ['subnet /24 × 10000', { name: 'p16', type: 'ICMPping', destination: '198.19.15.0/24', is_subnet: true, nb_packets: 10000 }],
  ['name .', { name: '.', ...ICMP }],
  ['name ..', { name: '..', ...ICMP }],
  ['name __proto__', { name: '__proto__', ...ICMP }],
  ['lifetime 1e300', { name: 'p17', ...ICMP, lifetime: 1e300 }],
  ['unknown group', { name: 'p18', ...ICMP, explicit_groups: { register_to: ['nope'] } }],
];
const STAMP = { created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z', expires_at: null };

void describe('api-crash-loop', { timeout: 180_000 }, () => {
  const suite = labSuite('api-crash-loop');

  suite.test('bad entries through the API, the state file and an inventory never stop probing, across SIGKILL restarts', async () => {
    const lab = suite.lab();
    const state = join(lab.tmpDir, 'api-state.json');
    const inventory = join(lab.tmpDir, 'inventory.json');
    writeFileSync(inventory, JSON.stringify({ targets: [
      { hostname: 'good', destination: '198.19.15.3', groups: ['g1'], timeout: 0.5 },
      { hostname: 'huge', destination: '198.19.15.4', groups: ['g1'], nb_packets: 1e308 },
      { hostname: 'subnet', destination: '198.19.0.0/12', is_subnet: true, groups: ['g1'] },
    ] }));
    const yaml = `${netprobifyConfig({ global: { interval: 1 }, targets: { own: { type: 'ICMPping', destination: '198.19.15.9', timeout: 0.5 } } })}` +
      `api:\n  tokens: [{token: ${TOKEN}, scope: write}]\n  state_file: ${JSON.stringify(state)}\n` +
      `inventories:\n  - {name: inv, plugin: file, interval: 1, options: {path: ${JSON.stringify(inventory)}}}\n`;
    let wp = await suite.start(yaml);

    const statuses: Record<string, number> = {};
    for (const [what, body] of BAD_ENTRIES) {
      const r = await call(lab, wp, 'POST', '/api/v1/targets', body);
      statuses[what] = r.status;
      assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.body}`);
    }
    // the same bad values through PUT and PATCH on a good target
    assert.equal((await call(lab, wp, 'POST', '/api/v1/targets', { name: 'web', ...ICMP, destination: '198.19.15.2' })).status, 201);
    for (const [what, body] of BAD_ENTRIES.slice(0, 16)) {
      const entry = Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'name'));
      const put = await call(lab, wp, 'PUT', '/api/v1/targets/web', entry);
      const patch = await call(lab, wp, 'PATCH', '/api/v1/targets/web', entry);
      assert.ok(put.status === 422 && patch.status === 422, `${what}: PUT ${put.status} PATCH ${patch.status}`);
    }
    // a subnet round of 4096 packets is accepted and runs (the largest, 65536 a second, is the unit tests' business: too much CPU for a shared test machine)
    const big = await call(lab, wp, 'POST', '/api/v1/targets', { name: 'big', type: 'ICMPping', destination: '198.19.15.0/24', is_subnet: true, nb_packets: 16, timeout: 0.5 });
    assert.equal(big.status, 201, big.body);
    let s = await wp.waitForScrape((x) => sent(x, 'web') >= 2 && sent(x, 'big') >= 2 * 4096 && sent(x, 'inv_good') >= 2, { timeoutMs: 30_000, what: 'good targets probed' });
    assert.equal(sent(s, 'inv_huge'), -1, 'the bad inventory entry is not probed');
    process.stdout.write(`# API statuses of the bad entries: ${JSON.stringify(statuses)}\n`);

    // bad records written straight into the state file, as a bug, an old version or a hand edit could leave them
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { version: number; targets: unknown[] };
    saved.targets.push(
      { name: 'stored-poison', entry: { ...ICMP, nb_packets: 1e308 }, ...STAMP },
      { name: 'stored-nan', entry: { ...ICMP, timeout: 'NaN' }, ...STAMP },
      { name: '..', entry: ICMP, ...STAMP },
      { name: 'no-entry', ...STAMP },
      42,
    );
    writeFileSync(state, JSON.stringify(saved));

    for (let restart = 1; restart <= 3; restart++) {
      assert.equal(await wp.process.stop('SIGKILL', 5000), 128 + 9);
      wp = await suite.start(yaml);
      const before = sent(await wp.scrape(), 'own');
      s = await wp.waitForScrape(
        (x) => sent(x, 'own') >= before + 2 && sent(x, 'web') >= 2 && sent(x, 'big') >= 4096 && sent(x, 'inv_good') >= 2,
        { timeoutMs: 30_000, what: `still probing after restart ${restart}` },
      );
      assert.equal(wp.process.exitCode, undefined, 'alive');
      for (const name of ['stored-poison', 'stored-nan', 'inv_huge', 'inv_subnet']) assert.equal(sent(s, name), -1, `${name} not probed`);
      assert.equal(find(s, 'wireprobe_targets_quarantined_total', { stage: 'run' })?.value, 0, 'nothing invalid reached the engine');
      const poison = await call(lab, wp, 'GET', '/api/v1/targets/stored-poison');
      assert.equal((JSON.parse(poison.body) as { status: string }).status, 'invalid', poison.body);
    }
    const aside = readdirSync(lab.tmpDir).filter((n) => n.startsWith('api-state.json.rejected-'));
    assert.equal(aside.length, 1, 'the malformed records were set aside once');
    assert.equal((JSON.parse(readFileSync(join(lab.tmpDir, aside[0]!), 'utf8')) as { targets: unknown[] }).targets.length, 3);
    assert.match(wp.logs(), /invalid|must be <= 10000/);
  });
});
