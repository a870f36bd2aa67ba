/**
 * The status page's style sheet and script, served from /status/ (no inline code, so the
 * Content-Security-Policy allows scripts and styles from the page's own origin only).
 *
 * The script: the API token lives in sessionStorage (this tab only) and goes out as a Bearer
 * header, never in a URL. Tool forms call GET /api/v1/tools/*. The operation form POSTs
 * /api/v1/operations and reads the returned events link as a Server-Sent-Events stream through
 * fetch (EventSource cannot send an Authorization header), updating the hop table as events come.
 * Results are written with textContent only.
 */
export const STYLE_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.5em 1em;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:1.2em;margin:0}header h1 span{font-weight:normal;opacity:.8}header a{color:#cfe0ff}
main{padding:0 1em 2em}section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:.5em 1em;margin:1em 0}
h2{font-size:1.1em;margin:.3em 0}h3{font-size:1em;margin:.6em 0 .3em}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{color:#667}dd{margin:0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{text-align:left;padding:.2em .5em;border-bottom:1px solid #eef0f3}
th a{color:inherit;text-decoration:none}th a:hover{text-decoration:underline}
.state{display:inline-block;padding:0 .4em;border-radius:3px;background:#eee}.state.up{background:#d6f5dd}.state.degraded{background:#fff1c2}
.state.down{background:#ffd6d6}.state.pending,.state.inactive{background:#e6e8ee}
tr.down td:first-child{border-left:3px solid #d33}tr.degraded td:first-child{border-left:3px solid #e9b500}
.message{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.9em}
.filter label,.tools label,#operation label{margin-right:.6em}.tools{display:grid;grid-template-columns:repeat(auto-fit,minmax(22em,1fr));gap:1em}
pre.result{background:#f3f4f7;padding:.4em;max-height:24em;overflow:auto;white-space:pre-wrap}pre.result:empty{display:none}
.error{color:#b00}
`;

export const APP_JS = String.raw`'use strict';
(() => {
  const KEY = 'wireprobe.token';
  const byId = (id) => document.getElementById(id);
  const token = byId('token');
  const tokenState = byId('token-state');
  const showToken = () => { tokenState.textContent = token.value.trim() === '' ? 'no token: reads only where the API allows them' : 'token set for this tab'; };
  token.value = sessionStorage.getItem(KEY) || '';
  showToken();
  token.addEventListener('input', () => { sessionStorage.setItem(KEY, token.value.trim()); showToken(); });
  byId('token-forget').addEventListener('click', () => { sessionStorage.removeItem(KEY); token.value = ''; showToken(); });

  const headers = (extra) => {
    const h = Object.assign({ Accept: 'application/json' }, extra || {});
    const t = token.value.trim();
    if (t !== '') h.Authorization = 'Bearer ' + t;
    return h;
  };
  const api = async (path, init) => {
    const res = await fetch(path, Object.assign({}, init || {}, { headers: headers((init || {}).headers), credentials: 'omit' }));
    let body = null;
    try { body = await res.json(); } catch (_) { body = null; }
    if (!res.ok) {
      const e = body && body.error ? body.error.code + ': ' + body.error.message : 'HTTP ' + res.status;
      // uncoded-error: browser script, shown in the form
      throw new Error(e);
    }
    return body;
  };
  const show = (pre, value, failed) => {
    pre.classList.toggle('error', failed === true);
    pre.textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  };

  const toolQuery = (form) => {
    const data = new FormData(form);
    const qs = new URLSearchParams();
    switch (form.dataset.tool) {
      case 'ipcalc': {
        for (const p of String(data.get('prefix') || '').split(/[\s,]+/).filter((x) => x !== '')) qs.append('prefix', p);
        for (const k of ['contains', 'split']) { const v = String(data.get(k) || '').trim(); if (v !== '') qs.set(k, v); }
        return '/api/v1/tools/ipcalc?' + qs;
      }
      case 'oui':
        qs.set('mac', String(data.get('mac') || '').trim());
        return '/api/v1/tools/oui?' + qs;
      default:
        qs.set('query', String(data.get('query') || '').trim());
        return '/api/v1/tools/' + (data.get('service') === 'whois' ? 'whois' : 'rdap') + '?' + qs;
    }
  };
  for (const form of document.querySelectorAll('form[data-tool]')) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const pre = form.querySelector('pre.result');
      show(pre, 'working…');
      try {
        const r = await api(toolQuery(form));
        show(pre, form.dataset.tool === 'registry' && r.answers ? r.answers.map((a) => '% ' + a.server + '\n' + a.text).join('\n') : r);
      } catch (e) { show(pre, String(e.message || e), true); }
    });
  }

  // operations: POST, then the SSE stream of the events link
  const op = byId('operation');
  const status = byId('op-status');
  const log = byId('op-log');
  const hops = byId('op-hops').tBodies[0];
  const names = new Map();
  const fmt = (v) => (v === null || v === undefined ? '–' : Number(v).toFixed(2));
  const hopRow = (path, hop) => {
    const id = 'hop-' + path + '-' + hop.ttl;
    let tr = document.getElementById(id);
    if (tr === null) {
      tr = document.createElement('tr');
      tr.id = id;
      for (let i = 0; i < 9; i++) tr.appendChild(document.createElement('td'));
      const after = Array.from(hops.rows).find((r) => { const [p, t] = r.id.split('-').slice(1).map(Number); return p > path || (p === path && t > hop.ttl); });
      hops.insertBefore(tr, after || null);
    }
    const addrs = hop.addresses.length === 0 ? '*' : hop.addresses.map((a) => (names.get(a) || hop.names[a]) ? a + ' (' + (names.get(a) || hop.names[a]) + ')' : a).join(', ');
    const cells = [path, hop.ttl, addrs, hop.sent, fmt(hop.loss * 100), fmt(hop.lastMs), fmt(hop.avgMs), fmt(hop.bestMs), fmt(hop.worstMs)];
    cells.forEach((c, i) => { tr.cells[i].textContent = String(c); });
    tr.dataset.addresses = hop.addresses.join(' ');
  };
  const onEvent = (type, e) => {
    switch (type) {
      case 'start': status.textContent = 'running: ' + e.spec.kind + ' ' + e.spec.destination + ' (' + e.address + ')'; break;
      case 'probe': {
        const r = e.reply;
        log.textContent += (r.ttl !== undefined ? 'ttl ' + r.ttl + ' ' : '') + 'seq ' + r.seq + ': ' + (r.from || '*') + ' ' + r.kind + (r.rttMs === null ? '' : ' ' + r.rttMs.toFixed(3) + ' ms') + '\n';
        break;
      }
      case 'hop': hopRow(e.path, e.hop); break;
      case 'annotate':
        if (e.name) names.set(e.address, e.name);
        for (const tr of hops.rows) if ((tr.dataset.addresses || '').split(' ').includes(e.address)) tr.cells[2].textContent = tr.cells[2].textContent.replace(e.address, e.address + ' (' + (e.name || 'AS' + e.asn) + ')');
        break;
      case 'done': status.textContent = 'done: ' + (e.result.reached ? 'reached' : 'not reached') + ', ' + e.result.received + '/' + e.result.sent + ' answered'; break;
      case 'error': status.textContent = 'error: ' + e.code + ': ' + e.message; status.classList.add('error'); break;
      default: break;
    }
  };
  const stream = async (url) => {
    const res = await fetch(url, { headers: headers({ Accept: 'text/event-stream' }), credentials: 'omit' });
    // uncoded-error: browser script, shown in the form
    if (!res.ok || res.body === null) throw new Error('events: HTTP ' + res.status);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let type = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length > 0) onEvent(type, JSON.parse(data.join('\n')));
        if (type === 'done' || type === 'error') { await reader.cancel(); return; }
      }
    }
  };
  op.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const d = new FormData(op);
    const kind = String(d.get('kind'));
    const spec = { kind, destination: String(d.get('destination') || '').trim(), protocol: String(d.get('protocol')) };
    const int = (k) => { const v = String(d.get(k) || '').trim(); if (v !== '') spec[k] = Number(v); };
    if (kind === 'ping') int('count');
    if (kind !== 'ping') int('maxHops');
    if (kind === 'traceroute') int('paths');
    if (kind === 'mtr') int('cycles');
    hops.textContent = '';
    log.textContent = '';
    names.clear();
    status.classList.remove('error');
    status.textContent = 'starting…';
    try {
      const started = await api('/api/v1/operations', { method: 'POST', body: JSON.stringify(spec), headers: { 'Content-Type': 'application/json' } });
      status.textContent = 'operation ' + started.id + ': ' + started.state;
      await stream(started.links.events);
    } catch (e) {
      status.textContent = String(e.message || e);
      status.classList.add('error');
    }
  });
})();
`;
