// The REST API of a running wireprobe, end to end: a target created with POST is probed (and
// answered); GET lists it next to the file's target with their origins; it survives a reload and a
// restart (state file); DELETE removes it and its series; writes without the token are refused.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { find, netprobifyConfig, type Lab, type Sample, type WireprobeHandle } from '../lab/index.js';

const TOKEN = 'wpt-e2e-write-token-0123456789';
const sent = (s: readonly Sample[], target: string): number => find(s, 'icmp_sent_total', t5(target, 'ipv4'))?.value ?? -1;

/** An HTTP request from inside the probe namespace: status and body. */
async function call(lab: Lab, wp: WireprobeHandle, method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: string }> {
  const init = JSON.stringify({ method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const script = `fetch(${JSON.stringify(wp.baseUrl + path)}, ${init}).then(async (r) => process.stdout.write(r.status + '\\n' + await r.text()))`;
  const r = await lab.exec('probe', ['node', '-e', script], { timeoutMs: 10_000 });
  const [status, ...rest] = r.stdout.split('\n');
  return { status: Number(status), body: rest.join('\n') };
}

void describe('api-e2e', { timeout: 90_000 }, () => {
  const suite = labSuite('api-e2e');

  suite.test('create, list, reload, restart, delete through a running wireprobe', async () => {
    const lab = suite.lab();
    const state = join(lab.tmpDir, 'api-state.json');
    const yaml = `${netprobifyConfig({ global: { interval: 1 }, targets: { own: { type: 'ICMPping', destination: '198.19.13.9', timeout: 0.5 } } })}api:\n  tokens: [{token: ${TOKEN}, scope: write}]\n  state_file: ${JSON.stringify(state)}\n`;
    let wp = await suite.start(yaml);

    const denied = await call(lab, wp, 'POST', '/api/v1/targets', { name: 'x', type: 'ICMPping', destination: '198.19.13.2' }, 'wrong-token-0123456789abcdef');
    assert.equal(denied.status, 401, denied.body);
    const created = await call(lab, wp, 'POST', '/api/v1/targets', { name: 'web', type: 'ICMPping', destination: '198.19.13.1', timeout: 0.5 });
    assert.equal(created.status, 201, created.body);
    let s = await wp.waitForScrape((x) => sent(x, 'web') >= 2, { timeoutMs: 15_000, what: 'the API target is probed' });
    assert.equal(find(s, 'icmp_loss_total', t5('web', 'ipv4'))?.value, 0);

    const list = JSON.parse((await call(lab, wp, 'GET', '/api/v1/targets')).body) as { targets?: { name: string; origin: string }[] } | { name: string; origin: string }[];
    const rows = Array.isArray(list) ? list : list.targets ?? [];
    assert.deepEqual(rows.map((r) => `${r.name}:${r.origin}`).sort(), ['own:file', 'web:api']);

    process.kill(wp.process.pid, 'SIGHUP');
    s = await wp.waitForScrape((x) => find(x, 'wireprobe_reloads_total', { result: 'ok' })?.value === 1, { timeoutMs: 10_000, what: 'reload' });
    const afterReload = sent(s, 'web');
    s = await wp.waitForScrape((x) => sent(x, 'web') >= afterReload + 2, { timeoutMs: 10_000, what: 'API target kept by a reload' });

    assert.equal(await wp.stop(), 0);
    wp = await suite.start(yaml);
    s = await wp.waitForScrape((x) => sent(x, 'web') >= 1, { timeoutMs: 15_000, what: 'API target back after a restart' });

    const del = await call(lab, wp, 'DELETE', '/api/v1/targets/web');
    assert.equal(del.status, 204, del.body);
    s = await wp.waitForScrape((x) => sent(x, 'web') === -1, { timeoutMs: 10_000, what: 'series of the deleted target gone' });
    assert.deepEqual(s.filter((x) => x.labels['destination'] === 'web').map((x) => x.name), []);
    assert.equal((await call(lab, wp, 'DELETE', '/api/v1/targets/own')).status, 409, 'a file target cannot be deleted');
  });
});
