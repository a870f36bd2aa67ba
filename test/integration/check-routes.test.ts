// Routes check end to end: routes added and removed with `ip route` in the lab's probe namespace,
// wireprobe (checks only, no targets) running there, results read from /metrics; the scrape passes
// `promtool check metrics`.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { stringify } from 'yaml';
import { labSuite } from '../lab/harness.js';
import { DEFAULT_GLOBAL, find, parseTypes, PROMTOOL, runCommand, type Lab, type Sample } from '../lab/index.js';

function checksConfig(routes: Record<string, unknown>[]): string {
  return stringify({ global: { ...DEFAULT_GLOBAL, prometheus_port: 9781 }, groups: {}, checks: { routes } }, { lineWidth: 0 });
}

const every = { interval: 1, timeout: 2 };

const ROUTES = [
  // a default route makes 198.18.100.1 routable but must not make 198.18.100.0/24 present
  { name: 'masked', family: 'ipv4', ...every, prefixes: [{ prefix: '198.18.100.0/24' }], routable: ['198.18.100.1'] },
  { name: 'multi-exact', family: 'ipv4', ...every, prefixes: [{ prefix: '198.18.101.0/24', next_hops_exact: ['198.18.0.3', '198.18.0.1'] }] },
  { name: 'multi-any', family: 'ipv4', ...every, prefixes: [{ prefix: '198.18.101.0/24', next_hops_any: ['198.18.0.1'] }] },
  { name: 'null', family: 'ipv4', ...every, prefixes: [{ prefix: '198.18.102.0/24' }], routable: ['198.18.102.1'] },
  { name: 'null-ok', family: 'ipv4', ...every, prefixes: [{ prefix: '198.18.102.0/24', allow_null: true }] },
  { name: 'v6', family: 'ipv6', ...every, prefixes: [{ prefix: '2001:db8:100::/64', next_hops_exact: ['2001:db8::1', '2001:db8::3'] }], routable: ['2001:db8:100::1', '2001:db8:dead:beef::1'] },
  { name: 't100', family: 'ipv4', table: 100, count_min: 2, count_max: 3, ...every },
  // a table that does not exist: `ip` fails; the failure is logged once, the rest keeps running
  { name: 'no-table', family: 'ipv4', table: 200, ...every },
];

async function ip(lab: Lab, args: string): Promise<void> {
  const r = await lab.exec('probe', ['ip', ...args.split(' ')]);
  assert.equal(r.code, 0, `ip ${args}: ${r.stderr}`);
}

const value = (s: Sample[], metric: string, labels: Record<string, string>): number | undefined => find(s, metric, labels)?.value;
const success = (s: Sample[], name: string): number | undefined => value(s, 'wireprobe_check_success', { check: 'routes', name });
const reason = (s: Sample[], name: string): string | undefined =>
  s.find((x) => x.name === 'wireprobe_check_failure_reason' && x.labels['name'] === name)?.labels['reason'];

void describe('check-routes', { timeout: 90_000 }, () => {
  const suite = labSuite('check-routes', [PROMTOOL]);

  suite.test('default route masking, multipath, blackhole, IPv6 and table 100, through a real wireprobe', async (t) => {
    const lab = suite.lab();
    await ip(lab, '-4 route add default via 198.18.0.1');
    await ip(lab, '-4 route add 198.18.101.0/24 nexthop via 198.18.0.1 nexthop via 198.18.0.3');
    await ip(lab, '-4 route add blackhole 198.18.102.0/24');
    await ip(lab, '-6 route add 2001:db8:100::/64 nexthop via 2001:db8::1 nexthop via 2001:db8::3');
    await ip(lab, '-6 route add blackhole 2001:db8:dead:beef::/64');
    await ip(lab, '-4 route add 198.18.110.0/24 via 198.18.0.1 table 100');
    await ip(lab, '-4 route add unreachable 198.18.111.0/24 table 100');

    const wp = await suite.start(checksConfig(ROUTES));
    const all = ROUTES.map((r) => r.name);
    const s = await wp.waitForScrape((x) => all.every((n) => success(x, n) !== undefined), { timeoutMs: 15_000, what: 'a first run of every routes check' });

    // default route: routable, but the exact prefix is missing
    assert.equal(value(s, 'wireprobe_route_present', { name: 'masked', prefix: '198.18.100.0/24' }), 0);
    assert.equal(value(s, 'wireprobe_route_routable', { name: 'masked', address: '198.18.100.1' }), 1);
    assert.equal(reason(s, 'masked'), 'route_missing');
    // multipath
    assert.equal(success(s, 'multi-exact'), 1);
    assert.equal(value(s, 'wireprobe_route_next_hops', { name: 'multi-exact', prefix: '198.18.101.0/24' }), 2);
    assert.equal(reason(s, 'multi-any'), 'next_hop_mismatch');
    assert.equal(value(s, 'wireprobe_route_next_hops_ok', { name: 'multi-any', prefix: '198.18.101.0/24' }), 0);
    // blackhole
    assert.equal(reason(s, 'null'), 'null_route');
    assert.equal(value(s, 'wireprobe_route_null', { name: 'null', prefix: '198.18.102.0/24' }), 1);
    assert.equal(value(s, 'wireprobe_route_routable', { name: 'null', address: '198.18.102.1' }), 0);
    assert.equal(success(s, 'null-ok'), 1);
    // IPv6: multipath next hops ok, an address under a blackhole route not routable
    assert.equal(value(s, 'wireprobe_route_next_hops_ok', { name: 'v6', prefix: '2001:db8:100::/64' }), 1);
    assert.equal(value(s, 'wireprobe_route_routable', { name: 'v6', address: '2001:db8:100::1' }), 1);
    assert.equal(value(s, 'wireprobe_route_routable', { name: 'v6', address: '2001:db8:dead:beef::1' }), 0);
    assert.equal(reason(s, 'v6'), 'not_routable');
    // table 100: two routes, within [2, 3]
    assert.equal(value(s, 'wireprobe_route_entries', { name: 't100', family: 'ipv4', table: '100' }), 2);
    assert.equal(success(s, 't100'), 1);

    // promtool on this scrape
    const text = await wp.scrapeText();
    const types = parseTypes(text);
    assert.equal(types.get('wireprobe_check_runs_total'), 'counter');
    assert.equal(types.get('wireprobe_route_present'), 'gauge');
    const lint = await runCommand(['promtool', 'check', 'metrics'], { input: text, timeoutMs: 15_000 });
    const report = `promtool check metrics: exit ${lint.code}\n${lint.stdout}${lint.stderr}`;
    t.diagnostic(report.replaceAll('\n', ' | '));
    assert.equal(lint.code, 0, report);

    // change the tables: the specific prefix appears, a multipath route goes, table 100 grows
    await ip(lab, '-4 route add 198.18.100.0/24 via 198.18.0.3');
    await ip(lab, '-4 route del 198.18.101.0/24');
    await ip(lab, '-4 route add 198.18.112.0/24 via 198.18.0.1 table 100');
    await ip(lab, '-4 route add prohibit 198.18.113.0/24 table 100');
    const after = await wp.waitForScrape(
      (x) => success(x, 'masked') === 1 && reason(x, 'multi-exact') === 'route_missing' && reason(x, 't100') === 'count_out_of_range',
      { timeoutMs: 15_000, what: 'the checks to see the changed tables' },
    );
    assert.equal(value(after, 'wireprobe_route_present', { name: 'multi-exact', prefix: '198.18.101.0/24' }), 0);
    assert.equal(value(after, 'wireprobe_route_entries', { name: 't100', family: 'ipv4', table: '100' }), 4);
    // one reason series per instance: the old one is gone
    assert.equal(after.filter((x) => x.name === 'wireprobe_check_failure_reason' && x.labels['name'] === 'multi-exact').length, 1);
    assert.equal(after.filter((x) => x.name === 'wireprobe_check_failure_reason' && x.labels['name'] === 'masked').length, 0);

    // bad condition: failing every second, reported with a bounded reason, logged once
    assert.equal(reason(after, 'no-table'), 'ip_failed');
    const runs = value(after, 'wireprobe_check_runs_total', { check: 'routes', name: 'no-table', result: 'failed' }) ?? 0;
    assert.ok(runs >= 2, `no-table failed runs: ${runs}`);
    const logged = wp.logs().split('\n').filter((l) => l.includes('module=check.routes.no-table'));
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0]!, /level=warn .*msg="check failed" check=routes name=no-table reason=ip_failed message="ip -json -4 route show table 200: Error: ipv4: FIB table does not exist."/);
    assert.equal(await wp.stop(), 0, 'clean shutdown with checks running');
  });
});
