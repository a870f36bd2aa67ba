// The status page's HTML: escaping of everything from outside, the target table's filter, state,
// sort and server-side pages, lenient query parsing, the sections and the reloads, the headers
// (CSP, no inline code), and the render time at 10 000 targets.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express from 'express';
import type { TaskStatus } from '../../../src/targets/manager.js';
import { CONTENT_SECURITY_POLICY, statusHtml, statusRouter, type StatusSources } from '../../../src/status/router.js';
import { parseListQuery, selectRows } from '../../../src/status/rows.js';
import { esc } from '../../../src/status/html.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

function task(i: number, over: Partial<TaskStatus> = {}): TaskStatus {
  const lost = i % 10 === 0 ? 5 : i % 7 === 0 ? 2 : 0;
  return {
    target: `t${String(i).padStart(5, '0')}`, group: i % 2 === 0 ? 'even' : 'odd', type: 'ICMPping', destination: `198.18.${Math.floor(i / 250)}.${i % 250}`,
    family: 4, active: i % 97 !== 5,
    last: i % 13 === 3 ? null : {
      sent: 5, lost, rttP50: lost === 5 ? NaN : (i % 50) / 1000, rttP95: lost === 5 ? NaN : (i % 50) / 900, rttMax: lost === 5 ? NaN : (i % 50) / 800,
      endWallMs: NOW - 1000, lastSuccessWallMs: lost === 5 ? NOW - 60_000 : NOW - 1000,
    },
    ...over,
  };
}

function sources(tasks: TaskStatus[], extra: Partial<StatusSources> = {}): StatusSources {
  return {
    identity: () => ({ probeName: 'probe-1', version: '1.2.3', configFile: '/etc/wireprobe.yaml', startedWallMs: NOW - 90_061_000, nowWallMs: NOW }),
    tasks: () => tasks,
    reloads: () => [],
    sections: () => [],
    ...extra,
  };
}

const tbodyRows = (html: string): string[] => [...html.split('<tbody>')[1]!.split('</tbody>')[0]!.matchAll(/<tr class="[a-z]+"><td>([^<]*)<\/td>/g)].map((m) => m[1]!);

void describe('status page HTML', () => {
  void it('escapes target names, groups, destinations, messages, section cells and the filter text', () => {
    const evil = '<script>alert("x")</script>\'`&';
    const html = statusHtml(
      sources([task(1, { target: evil, group: `g${evil}`, destination: `d${evil}` })], {
        identity: () => ({ probeName: `p${evil}`, version: 'v', configFile: `/c${evil}`, startedWallMs: NOW, nowWallMs: NOW }),
        reloads: () => [{ wallMs: NOW, trigger: 'http', ok: false, message: `bad ${evil}` }],
        sections: () => [{ title: `T${evil}`, columns: [`c${evil}`], rows: [{ cells: [`x${evil}`], state: 'bad' }] }],
      }),
      { q: `"><script>alert(1)</script>` },
    );
    assert.equal(html.match(/<script/g)?.length, 1, 'only the page script tag');
    assert.ok(html.includes('<script src="/status/app.js" defer></script>'));
    assert.ok(!html.includes('alert("x")'));
    assert.ok(html.includes(esc(evil)));
    assert.ok(html.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
    assert.ok(!/ on[a-z]+=/i.test(html), 'no inline event handler');
    assert.ok(!/<style|style="/.test(html), 'no inline style');
  });

  void it('shows identity, uptime and the recent reloads', () => {
    const html = statusHtml(sources([], { reloads: () => [{ wallMs: NOW, trigger: 'signal', ok: true, message: 'configuration reloaded' }] }), {});
    assert.match(html, /<dd id="probe-name">probe-1<\/dd>/);
    assert.match(html, /1d 1h 1m 1s/);
    assert.match(html, /\/etc\/wireprobe\.yaml/);
    assert.match(html, /<td>signal<\/td><td>applied<\/td>/);
    assert.match(html, /no target matches/);
  });

  void it('pages server-side: 250 rows, 100 a page, the last page holds 50, a page past the end shows the last', () => {
    const tasks = Array.from({ length: 250 }, (_, i) => task(i));
    const p3 = statusHtml(sources(tasks), { page: '3' });
    assert.equal(tbodyRows(p3).length, 50);
    assert.equal(tbodyRows(p3)[0], 't00200');
    assert.match(p3, /page 3 of 3/);
    assert.match(p3, /<a rel="prev" href="\/\?page=2">/);
    assert.ok(!p3.includes('rel="next"'));
    assert.match(statusHtml(sources(tasks), { page: '99' }), /page 3 of 3/);
    assert.equal(tbodyRows(statusHtml(sources(tasks), { size: '50', page: '2' }))[0], 't00050');
  });

  void it('sorts by any column both ways, keeping the filter in the links', () => {
    const tasks = Array.from({ length: 40 }, (_, i) => task(i));
    const byLoss = selectRows(tasks, parseListQuery({ sort: 'loss', dir: 'desc' })).rows;
    assert.ok(byLoss.slice(0, 4).every((r) => r.loss === 1), 'total loss first');
    const ascP50 = selectRows(tasks, parseListQuery({ sort: 'p50' })).rows.map((r) => r.p50 ?? -1);
    assert.deepEqual(ascP50, [...ascP50].sort((a, b) => a - b));
    const byName = selectRows(tasks, parseListQuery({ sort: 'target', dir: 'desc' })).rows;
    assert.equal(byName[0]!.target, 't00039');
    const html = statusHtml(sources(tasks), { q: 'even', sort: 'p95', dir: 'asc' });
    assert.match(html, /<th aria-sort="ascending"><a data-sort="p95" href="\/\?q=even&amp;sort=p95&amp;dir=desc">/);
  });

  void it('filters by substring (target, destination, group) and by state; counts every state', () => {
    const tasks = Array.from({ length: 100 }, (_, i) => task(i));
    const p = selectRows(tasks, parseListQuery({ q: 'T0001' }));
    assert.deepEqual(p.rows.map((r) => r.target), Array.from({ length: 10 }, (_, i) => `t000${10 + i}`));
    assert.equal(selectRows(tasks, parseListQuery({ q: '198.18.0.42' })).matched, 1);
    assert.equal(selectRows(tasks, parseListQuery({ q: 'odd' })).matched, 50);
    const down = selectRows(tasks, parseListQuery({ state: 'down' }));
    assert.ok(down.rows.length > 0 && down.rows.every((r) => r.state === 'down'));
    assert.equal(Object.values(down.counts).reduce((a, b) => a + b, 0), 100);
    assert.deepEqual(selectRows(tasks, parseListQuery({})).counts, selectRows(tasks, parseListQuery({ state: 'up' })).counts);
  });

  void it('reads a bad query leniently (defaults) and bounds the filter text', () => {
    assert.deepEqual(parseListQuery({ sort: 'nope', dir: 'sideways', page: '-3', size: '7', state: 'weird', q: ['a', 'b'] }), {
      q: '', state: '', sort: 'target', dir: 'asc', page: 1, size: 100,
    });
    assert.equal(parseListQuery({ q: 'x'.repeat(1000) }).q.length, 200);
  });

  void it('renders a section per subsystem, or says none is configured', () => {
    const html = statusHtml(sources([], { sections: () => [{ title: 'Host checks', columns: ['kind', 'name'], rows: [] }] }), {});
    assert.match(html, /<h2>Host checks<\/h2><p>none configured<\/p>/);
  });

  void it('renders page 1 of 10 000 targets quickly', (t) => {
    const tasks = Array.from({ length: 10_000 }, (_, i) => task(i));
    const times: number[] = [];
    for (const query of [{}, { sort: 'p95', dir: 'desc' }, { q: 't0', state: 'up', sort: 'loss' }, { page: '100' }, {}]) {
      const t0 = process.hrtime.bigint();
      const html = statusHtml(sources(tasks), query);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      assert.ok(html.length < 200_000, `${html.length} bytes`);
    }
    const worst = Math.max(...times.slice(1));
    t.diagnostic(`render at 10 000 targets: ${times.map((x) => x.toFixed(1)).join(', ')} ms`);
    assert.ok(worst < 500, `${worst} ms`);
  });
});

void it('serves the page and its assets with the Content-Security-Policy, nosniff and no caching of the page', async () => {
  const app = express().use(statusRouter(sources([task(1)])));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const [path, type] of [['/', 'text/html'], ['/status/app.js', 'text/javascript'], ['/status/style.css', 'text/css']] as const) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, path);
      assert.ok(res.headers.get('content-type')!.startsWith(type), path);
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      await res.text();
    }
    assert.equal((await fetch(`${base}/?sort=loss`)).headers.get('cache-control'), 'no-store');
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
    assert.ok(!CONTENT_SECURITY_POLICY.includes('unsafe'));
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
