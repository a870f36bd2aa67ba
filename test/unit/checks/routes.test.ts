import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { routesCheck, type RoutesOptions } from '../../../src/checks/routes.js';
import { activeNextHops, evaluateTable, isRoutable, parseRoutes, type PrefixExpectation, type Route } from '../../../src/checks/routes-parse.js';
import type { Sample } from '../../../src/checks/types.js';
import { AppError, ErrorCodes } from '../../../src/lib/errors.js';
import type { ExecFn, ExecResult } from '../../../src/lib/exec.js';
import { FakeClock } from '../../fakes/clock.js';
import { fakeCheckDeps } from '../../fakes/host-check-deps.js';
import { memoryLogger } from '../../fakes/logger.js';

// Compiled to dist/test/unit/checks/: the repository root is four levels up.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/routes/', import.meta.url));
const fixture = (name: string): string => readFileSync(FIXTURES + name, 'utf8');

function routes(name: string, family: 'ipv4' | 'ipv6'): Route[] {
  const r = parseRoutes(fixture(name), family);
  assert.ok(r !== null, name);
  return r;
}

const expect = (prefix: string, more: Partial<PrefixExpectation> = {}): PrefixExpectation => ({ prefix, present: true, allow_null: false, ...more });

function value(samples: readonly Sample[], metric: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.metric === metric && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

void describe('routes: parsing ip -json output', () => {
  void it('reads types, multipath next hops, metrics and the default route (IPv4)', () => {
    const r = routes('main-ipv4.json', 'ipv4');
    assert.equal(r.length, 10);
    assert.deepEqual(r[0], { dst: '0.0.0.0/0', type: 'unicast', nextHops: ['198.18.0.1'], metric: 0, table: 'main' });
    assert.deepEqual(r.find((x) => x.dst === '198.19.0.0/24')?.nextHops, ['198.18.0.1', '198.18.1.1']);
    assert.deepEqual(r.filter((x) => x.type !== 'unicast').map((x) => `${x.type} ${x.dst}`), [
      'blackhole 198.19.1.0/24',
      'unreachable 198.19.2.0/24',
      'prohibit 198.19.3.0/24',
      'throw 198.19.4.0/24',
    ]);
    assert.deepEqual(r.filter((x) => x.dst === '198.19.5.5/32').map((x) => x.metric), [50, 60], 'host routes get /32');
  });

  void it('reads IPv6 multipath routes (appended routes are shown as one) and tables of `table all`', () => {
    const r = routes('main-ipv6.json', 'ipv6');
    assert.deepEqual(r.find((x) => x.dst === '2001:db8:13::/64')?.nextHops, ['2001:db8:1::1', '2001:db8::1']);
    assert.equal(r.find((x) => x.dst === '2001:db8:12::5/128')?.metric, 1024);
    assert.ok(r.some((x) => x.dst === '::/0'));
    const all = routes('all-ipv4.json', 'ipv4');
    assert.deepEqual([...new Set(all.map((x) => x.table))].sort(), ['100', 'local', 'main']);
  });

  void it('rejects what is not a JSON list', () => {
    assert.equal(parseRoutes(fixture('missing-table.out'), 'ipv4'), null);
    assert.equal(parseRoutes('{}', 'ipv4'), null);
  });

  void it('uses the next hops of the lowest metric only', () => {
    assert.deepEqual(activeNextHops(routes('main-ipv4.json', 'ipv4').filter((x) => x.dst === '198.19.5.5/32')), ['198.18.1.1']);
  });

  void it('tells routable from not routable (ip route get)', () => {
    assert.equal(isRoutable(0, fixture('get-ipv4-default.json'), 'ipv4'), true);
    assert.equal(isRoutable(0, fixture('get-ipv6.json'), 'ipv6'), true);
    assert.equal(isRoutable(2, '', 'ipv4'), false);
    assert.equal(isRoutable(0, '[{"type":"blackhole","dst":"198.19.1.1","flags":[]}]', 'ipv4'), false);
  });
});

void describe('routes: evaluating a table', () => {
  const main4 = routes('main-ipv4.json', 'ipv4');

  void it('a default route does not make a missing prefix present', () => {
    const e = evaluateTable(main4, { family: 'ipv4', table: 'main', prefixes: [expect('198.19.200.0/24')] });
    assert.equal(value(e.samples, 'wireprobe_route_present', { prefix: '198.19.200.0/24' }), 0);
    assert.deepEqual(e.failures, [{ reason: 'route_missing', detail: '198.19.200.0/24 is not in the table' }]);
  });

  void it('checks multipath next hops: any (all within the allowed set) and exact', () => {
    const prefix = '198.19.0.0/24';
    const ok = evaluateTable(main4, {
      family: 'ipv4',
      table: 'main',
      prefixes: [expect(prefix, { next_hops_any: ['198.18.0.1', '198.18.1.1', '198.18.9.9'], next_hops_exact: ['198.18.1.1', '198.18.0.1'] })],
    });
    assert.deepEqual(ok.failures, []);
    assert.equal(value(ok.samples, 'wireprobe_route_next_hops', { prefix }), 2);
    assert.equal(value(ok.samples, 'wireprobe_route_next_hops_ok', { prefix }), 1);
    const exact = evaluateTable(main4, { family: 'ipv4', table: 'main', prefixes: [expect(prefix, { next_hops_exact: ['198.18.0.1'] })] });
    assert.deepEqual(exact.failures, [{ reason: 'next_hop_mismatch', detail: '198.19.0.0/24 goes via [198.18.0.1, 198.18.1.1]' }]);
    const any = evaluateTable(main4, { family: 'ipv4', table: 'main', prefixes: [expect(prefix, { next_hops_any: ['198.18.0.1'] })] });
    assert.equal(any.failures[0]?.reason, 'next_hop_mismatch');
    assert.equal(value(any.samples, 'wireprobe_route_next_hops_ok', { prefix }), 0);
  });

  void it('recognises blackhole, unreachable and prohibit routes as null; throw is not', () => {
    for (const [prefix, type] of [['198.19.1.0/24', 'blackhole'], ['198.19.2.0/24', 'unreachable'], ['198.19.3.0/24', 'prohibit']] as const) {
      const e = evaluateTable(main4, { family: 'ipv4', table: 'main', prefixes: [expect(prefix)] });
      assert.deepEqual(e.failures, [{ reason: 'null_route', detail: `${prefix} is a ${type} route` }]);
      assert.equal(value(e.samples, 'wireprobe_route_null', { prefix }), 1);
      assert.equal(value(e.samples, 'wireprobe_route_present', { prefix }), 1);
      const allowed = evaluateTable(main4, { family: 'ipv4', table: 'main', prefixes: [expect(prefix, { allow_null: true })] });
      assert.deepEqual(allowed.failures, []);
    }
    const thrown = evaluateTable(main4, { family: 'ipv4', table: 'main', prefixes: [expect('198.19.4.0/24')] });
    assert.deepEqual(thrown.failures, []);
    assert.equal(value(thrown.samples, 'wireprobe_route_null', { prefix: '198.19.4.0/24' }), 0);
  });

  void it('reports a prefix expected absent, and counts routes against the range', () => {
    const e = evaluateTable(routes('table100-ipv4.json', 'ipv4'), {
      family: 'ipv4',
      table: '100',
      count_min: 3,
      prefixes: [expect('198.19.9.0/24', { present: false })],
    });
    assert.equal(value(e.samples, 'wireprobe_route_entries', { family: 'ipv4', table: '100' }), 2);
    assert.deepEqual(e.failures.map((f) => f.reason), ['count_out_of_range', 'route_unexpected']);
    assert.equal(e.failures[0]!.detail, '2 routes in table 100, expected [3, ∞]');
  });
});

void describe('routes: the check with canned ip output', () => {
  const options = (more: Partial<RoutesOptions>): RoutesOptions => ({
    name: 'r',
    enabled: true,
    interval: 30,
    timeout: 5,
    on_failure: [],
    family: 'ipv6',
    table: 'main',
    prefixes: [],
    routable: [],
    ...more,
  });

  function run(o: RoutesOptions, answer: (argv: readonly string[]) => ExecResult | Error) {
    const argvs: string[][] = [];
    const exec: ExecFn = (argv) => {
      argvs.push([...argv]);
      const a = answer(argv);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    };
    const clock = new FakeClock();
    const instance = routesCheck.create(o, fakeCheckDeps({ clock, log: memoryLogger().log, exec }));
    return { argvs, result: instance.run({ signal: new AbortController().signal }) };
  }
  const out = (stdout: string, code = 0, stderr = ''): ExecResult => ({ code, signal: null, stdout, stderr });

  void it('runs ip route show for the table and ip route get per routable address', async () => {
    const { argvs, result } = run(
      options({ table: 100, prefixes: [expect('2001:db8:20::/64', { next_hops_exact: ['2001:db8::1'] })], routable: ['2001:db8:10::1', '2001:db8:11::1'] }),
      (argv) => {
        if (argv[4] === 'show') return out(fixture('table100-ipv6.json'));
        return argv.at(-1) === '2001:db8:10::1' ? out(fixture('get-ipv6.json')) : out('', 2, 'RTNETLINK answers: Network is unreachable\n');
      },
    );
    const r = await result;
    assert.deepEqual(argvs, [
      ['ip', '-json', '-6', 'route', 'show', 'table', '100'],
      ['ip', '-json', '-6', 'route', 'get', '2001:db8:10::1'],
      ['ip', '-json', '-6', 'route', 'get', '2001:db8:11::1'],
    ]);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'not_routable');
    assert.equal(r.message, '2001:db8:11::1: RTNETLINK answers: Network is unreachable');
    assert.equal(value(r.samples, 'wireprobe_route_routable', { address: '2001:db8:10::1' }), 1);
    assert.equal(value(r.samples, 'wireprobe_route_next_hops_ok', { prefix: '2001:db8:20::/64' }), 1);
  });

  void it('uses vrf when given, for the table and for route get', async () => {
    const { argvs, result } = run(options({ family: 'ipv4', vrf: 'blue', routable: ['198.19.0.1'] }), (argv) =>
      argv[4] === 'show' ? out('[]') : out(fixture('get-ipv4-multipath.json')),
    );
    const r = await result;
    assert.deepEqual(argvs, [
      ['ip', '-json', '-4', 'route', 'show', 'vrf', 'blue'],
      ['ip', '-json', '-4', 'route', 'get', 'vrf', 'blue', '198.19.0.1'],
    ]);
    assert.equal(r.ok, true);
    assert.equal(value(r.samples, 'wireprobe_route_entries', { family: 'ipv4', table: 'vrf:blue' }), 0);
  });

  void it('fails with ip_failed when ip fails or cannot start; a timeout is left to the runner', async () => {
    const missing = await run(options({ family: 'ipv4', table: 200 }), () => out(fixture('missing-table.out'), 2, fixture('missing-table.err'))).result;
    assert.deepEqual(missing, { ok: false, reason: 'ip_failed', message: 'ip -json -4 route show table 200: Error: ipv4: FIB table does not exist.', samples: [] });
    const spawn = await run(options({}), () => new AppError(ErrorCodes.EXEC_ERR_SPAWN, 'ip: spawn ip ENOENT')).result;
    assert.equal(spawn.reason, 'ip_failed');
    await assert.rejects(run(options({}), () => new AppError(ErrorCodes.OP_ERR_TIMEOUT, 'ip: timed out')).result, { code: 'OP_ERR_TIMEOUT' });
  });
});
