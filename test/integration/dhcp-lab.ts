// A throw-away Ethernet segment for the dhcp check: a bridge in a "switch" namespace with three
// ports, one to the probe namespace (where the check runs) and one to each of two DHCP server
// namespaces running dnsmasq (A is meant to be allowed, B is the rogue). Namespaces are
// registered with the lab registry (test/lab) so that they are removed even if this process dies.
//
//   wptd<id>p  wptd0 (no address)              ─┐
//   wptd<id>a  wptd0 198.18.200.1/24, dnsmasq  ─┼─ wptd<id>s  bridge wptdbr
//   wptd<id>b  wptd0 198.18.201.1/24, dnsmasq  ─┘
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupRecordSync, listNamespaces, NS_PREFIX, reapStaleLabs, registerLab, trackedPids, trackPid, unregisterLab, untrackPid, type LabRecord } from '../lab/lab-registry.js';
import { processStartTime, runChecked, runCommand, spawnProcess, type LabProcess, type RunResult } from '../lab/processes.js';

export const DHCP_IF = 'wptd0';
export type DhcpSide = 'probe' | 'a' | 'b';

export const SERVERS = {
  a: { address: '198.18.200.1', range: ['198.18.200.100', '198.18.200.150'] },
  b: { address: '198.18.201.1', range: ['198.18.201.100', '198.18.201.150'] },
} as const;

export interface DhcpServer {
  readonly process: LabProcess;
  readonly mac: string;
  readonly leaseFile: string;
  /** the lease file's content (dnsmasq writes a line per lease it grants) */
  leases(): string;
}

export interface DhcpLab {
  readonly tmpDir: string;
  ns(side: DhcpSide): string;
  exec(side: DhcpSide, argv: readonly string[], timeoutMs?: number): Promise<RunResult>;
  spawn(side: DhcpSide, argv: readonly string[]): LabProcess;
  mac(side: DhcpSide): Promise<string>;
  startServer(side: 'a' | 'b'): Promise<DhcpServer>;
  destroy(): Promise<void>;
}

export async function createDhcpLab(): Promise<DhcpLab> {
  reapStaleLabs();
  const id = randomBytes(3).toString('hex');
  const names = { probe: `${NS_PREFIX}d${id}p`, a: `${NS_PREFIX}d${id}a`, b: `${NS_PREFIX}d${id}b`, switch: `${NS_PREFIX}d${id}s` };
  if (listNamespaces().some((n) => Object.values(names).includes(n))) throw new Error(`dhcp lab: namespaces ${id} exist already`);
  const tmpDir = mkdtempSync(join(tmpdir(), `wpt-dhcp-${id}-`));
  const record: LabRecord = {
    id: `d${id}`,
    name: 'dhcp',
    pid: process.pid,
    pidStart: processStartTime(process.pid),
    namespaces: Object.values(names),
    tmpDir,
    keepTmp: process.env['WPT_LAB_KEEP'] === '1',
    createdAt: new Date().toISOString(),
  };
  registerLab(record);
  const processes: LabProcess[] = [];
  let destroyed: Promise<void> | undefined;

  const ns = (side: DhcpSide): string => names[side];
  const ip = (n: string, args: string[]): Promise<RunResult> => runChecked(['ip', '-n', n, ...args]);
  const spawn = (side: DhcpSide, argv: readonly string[]): LabProcess => {
    const p = spawnProcess(['ip', 'netns', 'exec', ns(side), ...argv], { cwd: tmpDir });
    processes.push(p);
    trackPid(record.id, p.pid);
    void p.exited.then(() => untrackPid(record.id, p.pid));
    return p;
  };
  const mac = async (side: DhcpSide): Promise<string> => {
    const r = await ip(ns(side), ['-j', 'link', 'show', 'dev', DHCP_IF]);
    const addr = (JSON.parse(r.stdout) as { address?: string }[])[0]?.address;
    if (addr === undefined) throw new Error(`dhcp lab: no MAC on ${side}`);
    return addr;
  };

  const destroy = (): Promise<void> => {
    destroyed ??= (async () => {
      await Promise.all(processes.map((p) => p.stop('SIGTERM', 3000)));
      cleanupRecordSync(record, trackedPids(record.id));
      unregisterLab(record.id);
    })();
    return destroyed;
  };

  try {
    for (const n of Object.values(names)) {
      await runChecked(['ip', 'netns', 'add', n]);
      // no IPv6 chatter (router solicitations, MLD) on the segment
      await runChecked(['ip', 'netns', 'exec', n, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      await ip(n, ['link', 'set', 'lo', 'up']);
    }
    await ip(names.switch, ['link', 'add', 'wptdbr', 'type', 'bridge', 'stp_state', '0']);
    await ip(names.switch, ['link', 'set', 'wptdbr', 'up']);
    for (const side of ['probe', 'a', 'b'] as const) {
      const port = `wptd${side}`;
      await ip(names.switch, ['link', 'add', port, 'type', 'veth', 'peer', 'name', DHCP_IF, 'netns', ns(side)]);
      await ip(names.switch, ['link', 'set', port, 'master', 'wptdbr', 'up']);
      await ip(ns(side), ['link', 'set', DHCP_IF, 'up']);
    }
    for (const side of ['a', 'b'] as const) await ip(ns(side), ['addr', 'add', `${SERVERS[side].address}/24`, 'dev', DHCP_IF]);
  } catch (e) {
    await destroy();
    throw e;
  }

  const startServer = async (side: 'a' | 'b'): Promise<DhcpServer> => {
    const s = SERVERS[side];
    const leaseFile = join(tmpDir, `${side}.leases`);
    const argv = [
      'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--port=0', '--log-facility=-', '--log-dhcp',
      `--interface=${DHCP_IF}`, '--bind-interfaces', '--no-ping', '--user=root', '--group=root',
      `--pid-file=${join(tmpDir, `${side}.pid`)}`, `--dhcp-leasefile=${leaseFile}`,
      `--dhcp-range=${s.range[0]},${s.range[1]},255.255.255.0,10m`,
    ];
    const p = spawn(side, argv);
    await p.waitForOutput(/DHCP, IP range/, 5000);
    return { process: p, mac: await mac(side), leaseFile, leases: () => readFileSync(leaseFile, 'utf8') };
  };

  return {
    tmpDir,
    ns,
    exec: (side, argv, timeoutMs) => runCommand(['ip', 'netns', 'exec', ns(side), ...argv], timeoutMs === undefined ? {} : { timeoutMs }),
    spawn,
    mac,
    startServer,
    destroy,
  };
}
