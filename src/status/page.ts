/**
 * The status page's HTML (pure): identity, recent reloads, the target table (one page of it),
 * the subsystems' sections (host checks, …), and the forms of the tools and operations, which
 * the script (assets.ts) drives. Every text that comes from outside (target names from
 * inventories, messages, the query) is escaped; the page holds no inline script or style, so
 * the Content-Security-Policy can forbid them.
 */
import type { StatusSection } from '../lib/status-section.js';
import type { ReloadRecord } from '../reload.js';
import { esc, href } from './html.js';
import { PAGE_SIZES, SORT_KEYS, STATES, type ListQuery, type Row, type RowPage, type SortKey } from './rows.js';

export interface Identity {
  readonly probeName: string;
  readonly version: string;
  readonly configFile: string;
  readonly startedWallMs: number;
  readonly nowWallMs: number;
}

export interface PageModel {
  readonly identity: Identity;
  readonly reloads: readonly ReloadRecord[];
  readonly query: ListQuery;
  readonly page: RowPage;
  readonly sections: readonly StatusSection[];
}

const iso = (ms: number): string => (ms === 0 ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));

export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d > 0 ? `${d}d ` : ''}${h}h ${m}m ${s % 60}s`;
}

const num = (v: number | null, digits: number): string => (v === null ? '–' : v.toFixed(digits));

const HEADERS: Readonly<Record<SortKey, string>> = {
  target: 'target', group: 'group', type: 'type', destination: 'destination', state: 'state',
  loss: 'loss %', p50: 'RTT p50 ms', p95: 'RTT p95 ms', max: 'RTT max ms', last_success: 'last success',
};

function listParams(q: ListQuery, over: Partial<Record<keyof ListQuery, string | number>>): Record<string, string | number> {
  const base = { q: q.q, state: q.state, sort: q.sort === 'target' ? '' : q.sort, dir: q.dir === 'asc' ? '' : q.dir, size: q.size === 100 ? '' : q.size, page: q.page === 1 ? '' : q.page };
  return { ...base, ...over };
}

function header(q: ListQuery, k: SortKey): string {
  const active = q.sort === k;
  const dir = active && q.dir === 'asc' ? 'desc' : 'asc';
  const mark = active ? (q.dir === 'asc' ? ' ▲' : ' ▼') : '';
  const aria = active ? ` aria-sort="${q.dir === 'asc' ? 'ascending' : 'descending'}"` : '';
  return `<th${aria}><a data-sort="${k}" href="${href(listParams(q, { sort: k, dir, page: '' }))}">${esc(HEADERS[k])}${mark}</a></th>`;
}

function row(r: Row): string {
  const cells = [
    esc(r.target), esc(r.group), esc(r.type), esc(r.destination),
    `<span class="state ${r.state}">${r.state}</span>`,
    num(r.loss === null ? null : r.loss * 100, 1), num(r.p50, 3), num(r.p95, 3), num(r.max, 3),
    r.lastSuccess === 0 ? 'never' : `<time datetime="${iso(r.lastSuccess)}">${iso(r.lastSuccess)}</time>`,
  ];
  return `<tr class="${r.state}">${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

function targets(m: PageModel): string {
  const { query: q, page: p } = m;
  const stateOptions = ['', ...STATES].map((s) => `<option value="${s}"${s === q.state ? ' selected' : ''}>${s === '' ? 'any state' : s}</option>`).join('');
  const sizeOptions = PAGE_SIZES.map((n) => `<option${n === q.size ? ' selected' : ''}>${n}</option>`).join('');
  const counts = STATES.map((s) => `<a class="state ${s}" href="${href(listParams(q, { state: s, page: '' }))}">${s} ${p.counts[s]}</a>`).join(' ');
  const pager = [
    p.page > 1 ? `<a rel="prev" href="${href(listParams(q, { page: p.page - 1 }))}">← previous</a>` : '',
    `page ${p.page} of ${p.pages}`,
    p.page < p.pages ? `<a rel="next" href="${href(listParams(q, { page: p.page + 1 }))}">next →</a>` : '',
  ].filter((x) => x !== '').join(' · ');
  return `<section id="targets"><h2>Targets</h2>
<p class="counts">${p.total} probed (target, group) pairs: ${counts}</p>
<form method="get" action="/" class="filter" id="filter">
<label>filter <input type="search" name="q" id="filter-q" value="${esc(q.q)}" maxlength="200" placeholder="name, destination or group"></label>
<label>state <select name="state" id="filter-state">${stateOptions}</select></label>
<label>per page <select name="size">${sizeOptions}</select></label>
<input type="hidden" name="sort" value="${q.sort}"><input type="hidden" name="dir" value="${q.dir}">
<button type="submit">apply</button>${q.q !== '' || q.state !== '' ? ` <a href="/">clear</a>` : ''}
</form>
<p class="pager">${p.matched} matching · ${pager}</p>
<table id="target-table"><thead><tr>${SORT_KEYS.map((k) => header(q, k)).join('')}</tr></thead>
<tbody>${p.rows.length === 0 ? `<tr><td colspan="${SORT_KEYS.length}">no target matches</td></tr>` : p.rows.map(row).join('\n')}</tbody></table>
</section>`;
}

function identity(m: PageModel): string {
  const i = m.identity;
  const reloads = m.reloads.length === 0
    ? '<p>no reload since the start</p>'
    : `<table id="reloads"><thead><tr><th>time</th><th>trigger</th><th>result</th><th>message</th></tr></thead><tbody>${m.reloads
        .map((r) => `<tr class="${r.ok ? 'up' : 'down'}"><td>${iso(r.wallMs)}</td><td>${esc(r.trigger)}</td><td>${r.ok ? 'applied' : 'refused'}</td><td class="message">${esc(r.message)}</td></tr>`)
        .join('')}</tbody></table>`;
  return `<section id="identity"><h2>Probe</h2><dl>
<dt>probe name</dt><dd id="probe-name">${esc(i.probeName)}</dd>
<dt>version</dt><dd>${esc(i.version)}</dd>
<dt>up since</dt><dd>${iso(i.startedWallMs)} (${duration(i.nowWallMs - i.startedWallMs)})</dd>
<dt>config file</dt><dd>${esc(i.configFile)}</dd>
</dl><h3>Recent reloads</h3>${reloads}</section>`;
}

function section(s: StatusSection, n: number): string {
  const body = s.rows.length === 0
    ? `<p>none configured</p>`
    : `<table><thead><tr>${s.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${s.rows
        .map((r) => `<tr class="${r.state === 'ok' ? 'up' : r.state === 'bad' ? 'down' : 'pending'}">${r.cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`;
  return `<section id="section-${n}"><h2>${esc(s.title)}</h2>${body}</section>`;
}

const FORMS = `<section id="actions"><h2>Tools and operations</h2>
<p><label>API token <input type="password" id="token" autocomplete="off" placeholder="Bearer token (kept in this tab only)"></label>
<button type="button" id="token-forget">forget</button> <span id="token-state"></span></p>
<div class="tools">
<form id="tool-ipcalc" data-tool="ipcalc"><h3>IP calculator</h3>
<label>prefix(es) <input name="prefix" id="ipcalc-prefix" required placeholder="192.0.2.0/24 (several: summarise)"></label>
<label>contains <input name="contains" placeholder="address or prefix"></label>
<label>split into /<input name="split" size="3" inputmode="numeric"></label>
<button type="submit">calculate</button><pre class="result" id="ipcalc-result" aria-live="polite"></pre></form>
<form id="tool-oui" data-tool="oui"><h3>MAC vendor</h3>
<label>MAC <input name="mac" required placeholder="00:1b:c5:00:00:01"></label>
<button type="submit">look up</button><pre class="result" aria-live="polite"></pre></form>
<form id="tool-registry" data-tool="registry"><h3>WHOIS / RDAP</h3>
<label>query <input name="query" required placeholder="example.com, 192.0.2.1, AS64496"></label>
<select name="service"><option>rdap</option><option>whois</option></select>
<button type="submit">query</button><pre class="result" aria-live="polite"></pre></form>
</div>
<form id="operation"><h3>Ping, traceroute, mtr</h3>
<select name="kind" id="op-kind"><option>ping</option><option>traceroute</option><option>mtr</option></select>
<label>destination <input name="destination" id="op-destination" required></label>
<select name="protocol"><option>icmp</option><option>udp</option><option>tcp</option></select>
<label>count <input name="count" size="3" value="5" inputmode="numeric"></label>
<label>max hops <input name="maxHops" size="3" value="30" inputmode="numeric"></label>
<label>paths <input name="paths" size="3" value="1" inputmode="numeric"></label>
<label>cycles <input name="cycles" size="3" value="10" inputmode="numeric"></label>
<button type="submit">start</button> <span id="op-status" aria-live="polite"></span>
<table id="op-hops"><thead><tr><th>path</th><th>hop</th><th>addresses</th><th>sent</th><th>loss %</th><th>last</th><th>avg</th><th>best</th><th>worst</th></tr></thead><tbody></tbody></table>
<pre class="result" id="op-log"></pre></form>
</section>`;

export function renderPage(m: PageModel): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.identity.probeName)} · wireprobe</title><link rel="stylesheet" href="/status/style.css"></head>
<body><header><h1>wireprobe <span>${esc(m.identity.probeName)}</span></h1>
<nav><a href="/metrics">metrics</a> · <a href="/api/ui/">API</a></nav></header>
<main>${identity(m)}
${targets(m)}
${m.sections.map(section).join('\n')}
${FORMS}</main>
<script src="/status/app.js" defer></script></body></html>
`;
}
