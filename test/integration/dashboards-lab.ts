// The lab scenario behind dashboards-promql.test.ts: one wireprobe in the lab's probe namespace whose
// config exercises every family the dashboards and alert rules query. ICMP, TCPsyn and
// UDPunreachable targets with thresholds in two groups; targets answered with ICMP
// administratively prohibited (nftables reject in the target namespace: icmp errors); a dead target
// (loss, no last success); alert levels paging and paging_validation on two targets (the alert
// rules skip no_alert); a 1 µs latency threshold; an unresolvable name; an is_subnet target with
// per_host_metrics; a file inventory; the REST API (one read request); and host checks: routes
// (one prefix missing), processes (one absent, with an on_failure command), conntrack of the probe
// namespace (tracked by an nftables `ct` rule there, with accounting) and a dhcp check on the probe
// veth answered by a dnsmasq in the target namespace that is not in the allowed set (a rogue);
// and the flow collector with its SQLite store, fed NetFlow v5, v9 and IPFIX on loopback by
// dashboards-flow-sender.ts (data, lost exports, a template that never comes, garbage).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { LabSuite } from '../lab/harness.js';
import { DEFAULT_GLOBAL, type Lab, type WireprobeHandle } from '../lab/index.js';

const PROBE_NAME = 'dash';
const FLOW_PORT = 2055;
const FLOW_SENDER = fileURLToPath(new URL('./dashboards-flow-sender.js', import.meta.url));
/** how long the flow sender runs (the suite is bounded by its own timeout well before) */
const FLOW_SENDER_SECONDS = 400;
const API_TOKEN = 'wpt-dashboards-read-token-0123456789';
/** answered by the target namespace with ICMP administratively prohibited for TCP and UDP */
const ADMIN4 = '198.19.20.3';
const ADMIN6 = '2001:db8:1::20:3';

const answered = { nb_packets: 4, timeout: 0.5 };
const TARGETS: Record<string, Record<string, unknown>> = {
  'icmp-web': { type: 'ICMPping', destination: '198.19.20.1', ...answered, threshold: { latency: 0.05, loss: 0.1 } },
  'icmp-web6': { type: 'ICMPping', destination: '2001:db8:1::20:1', ...answered, threshold: { latency: 0.05, loss: 0.1 }, state: 'in production' },
  'icmp-dead': { type: 'ICMPping', destination: '198.18.255.7', ...answered, threshold: { loss: 0.5 }, alert_level: 'paging' },
  'icmp-unresolved': { type: 'ICMPping', destination: 'nothing.lab.test', ...answered },
  'icmp-net': { type: 'ICMPping', destination: '198.19.21.0/29', is_subnet: true, per_host_metrics: true, nb_packets: 2, timeout: 0.5 },
  'tcp-closed': { type: 'TCPsyn', destination: '198.19.20.2', dst_port: 8081, ...answered, threshold: { latency: 0.05, loss: 0.1 } },
  'tcp-admin': { type: 'TCPsyn', destination: ADMIN4, dst_port: 8081, ...answered, threshold: { loss: 0.1 } },
  // a 1 µs latency threshold: always exceeded (the "over latency threshold" panels have rows)
  'udp-closed': { type: 'UDPunreachable', destination: '198.19.20.4', dst_port: 33434, ...answered, threshold: { latency: 0.000001, loss: 0.1 }, alert_level: 'paging_validation' },
  'udp-admin6': { type: 'UDPunreachable', destination: ADMIN6, dst_port: 33434, ...answered },
};

const GROUPS = { g1: { src_port_a: 65100, src_port_z: 65199 }, g2: { src_port_a: 65200, src_port_z: 65299, dscp: 10 } };

function config(inventoryFile: string, probeIf: string, flowsDir: string): string {
  const every = { interval: 2, timeout: 5 };
  return stringify(
    {
      global: { ...DEFAULT_GLOBAL, probe_name: PROBE_NAME, interval: 2 },
      groups: GROUPS,
      targets: TARGETS,
      inventories: [{ name: 'inv', plugin: 'file', interval: 2, options: { path: inventoryFile } }],
      api: { tokens: [{ token: API_TOKEN, scope: 'read' }] },
      flows: { listen: [{ address: '127.0.0.1', port: FLOW_PORT }], state_dir: flowsDir, early_data: { max_age: 1 }, top: { window: 10 } },
      checks: {
        routes: [
          { name: 'lab-v4', family: 'ipv4', ...every, count_min: 1, prefixes: [{ prefix: '198.19.0.0/16', next_hops_any: ['198.18.0.1'] }], routable: ['198.19.20.1'] },
          { name: 'missing', family: 'ipv4', ...every, prefixes: [{ prefix: '198.18.77.0/24' }] },
        ],
        processes: [
          // wireprobe itself (not `ip netns exec … node …main.js`, whose command line starts with ip)
          { name: 'wireprobe', ...every, cmdline_regex: '^\\S*node \\S*dist/src/main\\.js run', count_min: 1, count_max: 1 },
          { name: 'absent', ...every, process_name: 'wpt-no-such', count_min: 1, on_failure: [{ exec: ['true'] }] },
        ],
        conntrack: [{ name: 'probe-ns', ...every, top_n: 5, fill_ratio_max: 0.9, talker_share_max: 1 }],
        // a DISCOVER at start and every 20 s: the dashboards need one run
        dhcp: [{ name: 'veth', interface: probeIf, interval: 20, timeout: 2, window: 1, allowed_servers: ['198.18.0.254'] }],
      },
    },
    { lineWidth: 0 },
  );
}

async function nft(lab: Lab, side: 'probe' | 'target', lines: readonly string[]): Promise<void> {
  const r = await lab.exec(side, ['nft', '-f', '-'], { input: `${lines.join('\n')}\n` });
  assert.equal(r.code, 0, `nft in the ${side} namespace: ${r.stderr}`);
}

/** One GET through the API from inside the probe namespace (wireprobe_api_requests_total). */
async function apiRead(lab: Lab, wp: WireprobeHandle): Promise<void> {
  const init = JSON.stringify({ headers: { authorization: `Bearer ${API_TOKEN}` } });
  const script = `fetch(${JSON.stringify(`${wp.baseUrl}/api/v1/targets`)}, ${init}).then((r) => process.stdout.write(String(r.status)))`;
  const r = await lab.exec('probe', [process.execPath, '-e', script], { timeoutMs: 10_000 });
  assert.equal(r.stdout, '200', `GET /api/v1/targets: ${r.stdout} ${r.stderr}`);
}

/** Sets up the namespaces and starts wireprobe; resolves once the API answered one request. */
export async function startDashboardsWireprobe(suite: LabSuite): Promise<WireprobeHandle> {
  const lab = suite.lab();
  await nft(lab, 'target', [
    'add table inet wptdash',
    'add chain inet wptdash in { type filter hook input priority 0; policy accept; }',
    `add rule inet wptdash in ip daddr ${ADMIN4} meta l4proto { tcp, udp } reject with icmpx type admin-prohibited`,
    `add rule inet wptdash in ip6 daddr ${ADMIN6} meta l4proto { tcp, udp } reject with icmpx type admin-prohibited`,
  ]);
  // conntrack in the probe namespace: a `ct` expression makes the kernel track its traffic
  await nft(lab, 'probe', [
    'add table inet wptdash',
    'add chain inet wptdash out { type filter hook output priority 0; policy accept; }',
    'add rule inet wptdash out ct state new counter',
  ]);
  await lab.sysctl('probe', 'net.netfilter.nf_conntrack_acct', 1);
  const dnsmasq = lab.spawn('target', [
    'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--port=0', '--log-facility=-', `--interface=${lab.targetIf}`,
    '--bind-interfaces', '--no-ping', '--user=root', '--group=root', `--pid-file=${join(lab.tmpDir, 'dnsmasq.pid')}`,
    `--dhcp-leasefile=${join(lab.tmpDir, 'dnsmasq.leases')}`, '--dhcp-range=198.18.0.100,198.18.0.150,255.255.255.0,10m',
  ]);
  await dnsmasq.waitForOutput(/DHCP, IP range/, 5000);
  const inventory = join(lab.tmpDir, 'dashboards-inventory.json');
  writeFileSync(inventory, JSON.stringify({ targets: [{ hostname: 'app', destination: '198.19.20.9', groups: ['g1'], timeout: 0.5 }] }));
  const wp = await suite.start(config(inventory, lab.probeIf, join(lab.tmpDir, 'flows')));
  await apiRead(lab, wp);
  lab.spawn('probe', [process.execPath, FLOW_SENDER, String(FLOW_PORT), String(FLOW_SENDER_SECONDS)]);
  return wp;
}
