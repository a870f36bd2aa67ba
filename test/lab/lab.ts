// A two-namespace network lab for black-box integration tests.
//
//   wpt<id>p (probe)                         wpt<id>t (targets)
//   wpt-probe 198.18.0.2/24 2001:db8::2/64 ── veth ── wpt-target 198.18.0.1/24 2001:db8::1/64
//   routes: 198.19.0.0/16, 198.18.255.0/24    AnyIP: local 198.19.0.0/16, 2001:db8:1::/64 on lo
//           via 198.18.0.1; 2001:db8:1::/64,   dead (silently dropped): 198.18.255.0/24, 2001:db8:dead::/64
//           2001:db8:dead::/64 via 2001:db8::1 loss: nftables numgen in prerouting (setLoss)
//
// All traffic stays inside these namespaces. DNS in the probe namespace points to 127.0.0.1 (nothing
// listens), so lookups fail at once and never leave it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ETC_NETNS, NS_PREFIX } from './lab-registry.js';
import { openNamespaceSet, type ExecOptions } from './ns-set.js';
import { readPcap } from './pcap-file.js';
import { runChecked, runCommand, type LabProcess, type RunResult, type SpawnOptions } from './processes.js';
import { requireTools, TCPDUMP } from './require-tools.js';
import type { TruthPacket } from './echo-truth.js';

export type { LabProcess } from './processes.js';

export const LAB = {
  probe4: '198.18.0.2',
  target4: '198.18.0.1',
  probe6: '2001:db8::2',
  target6: '2001:db8::1',
  /** Every address answers (AnyIP on lo in the target namespace). */
  anyIp4: '198.19.0.0/16',
  anyIp6: '2001:db8:1::/64',
  /** Routed to the target namespace and silently dropped there. */
  dead4: '198.18.255.0/24',
  dead6: '2001:db8:dead::/64',
} as const;

export type LabSide = 'probe' | 'target';

export type { ExecOptions } from './ns-set.js';

export interface TruthStats {
  readonly captured: number;
  readonly receivedByFilter: number;
  readonly droppedByKernel: number;
}

export interface Truth {
  /** The pcap file written by tcpdump (inside the lab temp dir). */
  readonly file: string;
  readonly process: LabProcess;
  /** Link type from the pcap header; available after stop(). */
  readonly linkType: number;
  /** tcpdump's end-of-capture counters; available after stop(). */
  readonly stats: TruthStats | undefined;
  /** SIGINT to tcpdump, waits for it (bounded), parses the file. Idempotent. */
  stop(): Promise<TruthPacket[]>;
}

export interface DelayedEchoOptions {
  minMs: number;
  maxMs: number;
  /** Exit after this many replies. */
  maxReplies: number;
  /** Exit after this many seconds. */
  maxSeconds: number;
}

export interface FetchResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface Lab {
  readonly id: string;
  readonly name: string;
  readonly probeNs: string;
  readonly targetNs: string;
  /** veth name in the probe namespace. */
  readonly probeIf: string;
  /** veth name in the target namespace. */
  readonly targetIf: string;
  /** Per-lab scratch directory (removed by destroy() unless WPT_LAB_KEEP=1). */
  readonly tmpDir: string;
  exec(ns: LabSide, argv: readonly string[], opts?: ExecOptions): Promise<RunResult>;
  /** Starts a tracked process in a namespace; destroy() kills it by PID if still running. */
  spawn(ns: LabSide, argv: readonly string[], opts?: SpawnOptions): LabProcess;
  sysctl(ns: LabSide, key: string, value: string | number): Promise<void>;
  /** Drops `percent` % of probe→target packets to the AnyIP prefixes, in the target's prerouting. 0 removes the rule. */
  setLoss(percent: number): Promise<void>;
  startTruth(opts?: { filter?: string; snapLen?: number }): Promise<Truth>;
  /** HTTP GET from inside the probe namespace, bounded by timeoutMs (default 10 000). */
  fetchText(url: string, opts?: { timeoutMs?: number }): Promise<FetchResult>;
  /**
   * Starts the delayed ICMPv4 echo responder in the target namespace (kernel echo replies are turned
   * off while it runs; stop() turns them back on). Resolves once it is listening.
   */
  startDelayedEcho(opts: DelayedEchoOptions): Promise<LabProcess>;
  /** Kills tracked processes by PID, deletes the nft table and namespaces. Idempotent. */
  destroy(): Promise<void>;
}

const PROBE_IF = 'wpt-probe';
const TARGET_IF = 'wpt-target';
const NFT_TABLE = 'wptlab';

function checkLossPercent(percent: number): number {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new RangeError(`setLoss: percent must be within [0, 100], got ${percent}`);
  }
  return Math.round(percent * 100);
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`lab: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, Math.min(20 * (i + 1), 200)));
  }
}

const FETCH_SCRIPT = `
const [url, ms] = process.argv.slice(1);
fetch(url, { signal: AbortSignal.timeout(Number(ms)) }).then(async (r) => {
  const body = await r.text();
  process.stdout.write(JSON.stringify({ status: r.status, contentType: r.headers.get('content-type') ?? '', body }));
}, (e) => {
  const c = e && e.cause;
  process.stderr.write(String((c && (c.code || c.message)) || (e && e.message) || e));
  process.exit(2);
});
`;

export async function createLab(opts: { name?: string } = {}): Promise<Lab> {
  const set = openNamespaceSet<LabSide>({
    what: 'lab', name: opts.name ?? 'lab', tmpPrefix: 'wpt-lab', nodes: ['probe', 'target'],
    nsOf: (id, side) => `${NS_PREFIX}${id}${side === 'probe' ? 'p' : 't'}`,
  });
  const { id, name, tmpDir, ip, sysctls, exec, spawn, destroy } = set;
  const probeNs = set.ns('probe');
  const targetNs = set.ns('target');
  const sysctl = async (side: LabSide, key: string, value: string | number): Promise<void> => {
    await sysctls(side, { [key]: value });
  };
  const nft = (script: string): Promise<RunResult> => set.nft('target', script);

  try {
    // DNS inside the probe namespace: a resolver on 127.0.0.1 (nothing listens) fails fast and keeps
    // lookups inside the namespace.
    mkdirSync(join(ETC_NETNS, probeNs), { recursive: true });
    writeFileSync(join(ETC_NETNS, probeNs, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');

    await runChecked(['ip', 'netns', 'add', probeNs]);
    await runChecked(['ip', 'netns', 'add', targetNs]);
    for (const side of ['probe', 'target'] as const) {
      await sysctls(side, {
        'net.ipv6.conf.all.accept_dad': 0,
        'net.ipv6.conf.default.accept_dad': 0,
        'net.ipv6.conf.all.accept_ra': 0,
        'net.ipv6.conf.default.accept_ra': 0,
        'net.ipv6.conf.all.router_solicitations': 0,
        'net.ipv6.conf.default.router_solicitations': 0,
        'net.ipv4.conf.all.rp_filter': 0,
        'net.ipv4.conf.default.rp_filter': 0,
      });
    }
    await ip('probe', ['link', 'add', PROBE_IF, 'type', 'veth', 'peer', 'name', TARGET_IF, 'netns', targetNs]);
    await ip('probe', ['addr', 'add', `${LAB.probe4}/24`, 'dev', PROBE_IF]);
    await ip('probe', ['-6', 'addr', 'add', `${LAB.probe6}/64`, 'dev', PROBE_IF, 'nodad']);
    await ip('target', ['addr', 'add', `${LAB.target4}/24`, 'dev', TARGET_IF]);
    await ip('target', ['-6', 'addr', 'add', `${LAB.target6}/64`, 'dev', TARGET_IF, 'nodad']);
    for (const [side, dev] of [['probe', PROBE_IF], ['target', TARGET_IF]] as const) {
      await ip(side, ['link', 'set', 'lo', 'up']);
      await ip(side, ['link', 'set', dev, 'up']);
    }

    // Static neighbours: no ARP/ND on the wire, no first-packet resolution delay.
    const mac = async (side: LabSide, dev: string): Promise<string> => {
      const r = await ip(side, ['-j', 'link', 'show', 'dev', dev]);
      const parsed = JSON.parse(r.stdout) as { address?: string }[];
      const addr = parsed[0]?.address;
      if (addr === undefined) throw new Error(`lab: no MAC address for ${dev}`);
      return addr;
    };
    const probeMac = await mac('probe', PROBE_IF);
    const targetMac = await mac('target', TARGET_IF);
    await ip('probe', ['neigh', 'replace', LAB.target4, 'lladdr', targetMac, 'dev', PROBE_IF, 'nud', 'permanent']);
    await ip('probe', ['-6', 'neigh', 'replace', LAB.target6, 'lladdr', targetMac, 'dev', PROBE_IF, 'nud', 'permanent']);
    await ip('target', ['neigh', 'replace', LAB.probe4, 'lladdr', probeMac, 'dev', TARGET_IF, 'nud', 'permanent']);
    await ip('target', ['-6', 'neigh', 'replace', LAB.probe6, 'lladdr', probeMac, 'dev', TARGET_IF, 'nud', 'permanent']);

    // Probe routes towards the target namespace.
    await ip('probe', ['route', 'add', LAB.anyIp4, 'via', LAB.target4, 'dev', PROBE_IF]);
    await ip('probe', ['route', 'add', LAB.dead4, 'via', LAB.target4, 'dev', PROBE_IF]);
    await ip('probe', ['-6', 'route', 'add', LAB.anyIp6, 'via', LAB.target6, 'dev', PROBE_IF]);
    await ip('probe', ['-6', 'route', 'add', LAB.dead6, 'via', LAB.target6, 'dev', PROBE_IF]);

    // Targets: AnyIP, dead prefixes, ICMP rate limits off.
    await ip('target', ['route', 'add', 'local', LAB.anyIp4, 'dev', 'lo']);
    await ip('target', ['-6', 'route', 'add', 'local', LAB.anyIp6, 'dev', 'lo']);
    await ip('target', ['route', 'add', 'blackhole', LAB.dead4]);
    await ip('target', ['-6', 'route', 'add', 'blackhole', LAB.dead6]);
    await sysctls('target', {
      'net.ipv4.icmp_ratelimit': 0,
      'net.ipv6.icmp.ratelimit': 0,
      'net.ipv4.icmp_echo_ignore_all': 0,
      'net.ipv4.icmp_echo_ignore_broadcasts': 1,
    });
    // Per-namespace on recent kernels; global (and left alone) on older ones.
    await sysctls('target', { 'net.ipv4.icmp_msgs_per_sec': 1_000_000, 'net.ipv4.icmp_msgs_burst': 1_000_000 }).catch(
      () => undefined,
    );
    // The dead prefixes are dropped before routing (no ICMP error can come back); the loss chain is
    // filled by setLoss(). Priority -300: before conntrack, like the raw table.
    await nft(
      [
        `add table inet ${NFT_TABLE}`,
        `add chain inet ${NFT_TABLE} pre { type filter hook prerouting priority -300; policy accept; }`,
        `add chain inet ${NFT_TABLE} loss`,
        `add rule inet ${NFT_TABLE} pre ip daddr ${LAB.dead4} counter drop`,
        `add rule inet ${NFT_TABLE} pre ip6 daddr ${LAB.dead6} counter drop`,
        `add rule inet ${NFT_TABLE} pre jump loss`,
        '',
      ].join('\n'),
    );

    // Wait until both links are up and no IPv6 address is tentative.
    await waitUntil('veth up and IPv6 addresses usable', 5000, async () => {
      for (const [side, dev] of [['probe', PROBE_IF], ['target', TARGET_IF]] as const) {
        const link = await runCommand(['ip', '-n', set.ns(side), 'link', 'show', 'dev', dev]);
        if (!link.stdout.includes('LOWER_UP')) return false;
        const addrs = await runCommand(['ip', '-n', set.ns(side), '-6', 'addr', 'show', 'dev', dev]);
        if (/tentative|dadfailed/.test(addrs.stdout) || !addrs.stdout.includes('2001:db8::')) return false;
      }
      return true;
    });
  } catch (e) {
    await destroy().catch(() => undefined);
    throw e;
  }

  const setLoss = async (percent: number): Promise<void> => {
    const threshold = checkLossPercent(percent);
    const lines = [`flush chain inet ${NFT_TABLE} loss`];
    if (threshold > 0) {
      lines.push(
        `add rule inet ${NFT_TABLE} loss ip daddr ${LAB.anyIp4} numgen random mod 10000 < ${threshold} counter drop`,
        `add rule inet ${NFT_TABLE} loss ip6 daddr ${LAB.anyIp6} numgen random mod 10000 < ${threshold} counter drop`,
      );
    }
    await nft(`${lines.join('\n')}\n`);
  };

  let truthCount = 0;
  const startTruth = async (o: { filter?: string; snapLen?: number } = {}): Promise<Truth> => {
    requireTools([TCPDUMP]);
    const file = join(tmpDir, `truth-${++truthCount}.pcap`);
    const argv = [
      'tcpdump', '-i', PROBE_IF, '-n', '-p', '-s', String(o.snapLen ?? 256), '-B', '65536',
      // Immediate mode: packets reach tcpdump at once (no 1 s block timeout), so nothing captured
      // before stop() is left unread in the ring buffer when tcpdump exits.
      '--immediate-mode', '-U', '--time-stamp-precision=nano', '-w', file,
      ...(o.filter === undefined || o.filter === '' ? [] : [o.filter]),
    ];
    const proc = spawn('probe', argv);
    await proc.waitForOutput(/listening on/, 10_000);
    let linkType: number | undefined;
    let stats: TruthStats | undefined;
    let stopped: Promise<TruthPacket[]> | undefined;
    const stop = (): Promise<TruthPacket[]> => {
      stopped ??= (async () => {
        // Let packets already on the wire reach tcpdump before it stops reading.
        await new Promise((r) => setTimeout(r, 250));
        const code = await proc.stop('SIGINT', 10_000);
        if (code !== 0) throw new Error(`tcpdump exited with ${code}: ${proc.stderr}`);
        const num = (re: RegExp): number => Number(re.exec(proc.stderr)?.[1] ?? Number.NaN);
        stats = {
          captured: num(/(\d+) packets? captured/),
          receivedByFilter: num(/(\d+) packets? received by filter/),
          droppedByKernel: num(/(\d+) packets? dropped by kernel/),
        };
        const pcap = readPcap(new Uint8Array(readFileSync(file)));
        linkType = pcap.linkType;
        return pcap.packets;
      })();
      return stopped;
    };
    return {
      file,
      process: proc,
      get linkType(): number {
        if (linkType === undefined) throw new Error('truth: linkType is known after stop()');
        return linkType;
      },
      get stats() {
        return stats;
      },
      stop,
    };
  };

  const fetchText = async (url: string, o: { timeoutMs?: number } = {}): Promise<FetchResult> => {
    const timeoutMs = o.timeoutMs ?? 10_000;
    const r = await exec('probe', [process.execPath, '-e', FETCH_SCRIPT, url, String(timeoutMs)], {
      timeoutMs: timeoutMs + 5000,
    });
    if (r.code !== 0) throw new Error(`GET ${url} (in ${probeNs}) failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    return JSON.parse(r.stdout) as FetchResult;
  };

  const startDelayedEcho = async (o: DelayedEchoOptions): Promise<LabProcess> => {
    const script = fileURLToPath(new URL('./delayed-echo.js', import.meta.url));
    if (!existsSync(script)) throw new Error(`lab: ${script} is missing (run npx tsc -p .)`);
    await sysctl('target', 'net.ipv4.icmp_echo_ignore_all', 1);
    const proc = spawn('target', [
      process.execPath, script,
      '--min-ms', String(o.minMs), '--max-ms', String(o.maxMs),
      '--max-replies', String(o.maxReplies), '--max-seconds', String(o.maxSeconds),
      '--prefix', LAB.anyIp4,
    ]);
    const restore = async (): Promise<void> => {
      if (!set.isDestroyed()) await sysctl('target', 'net.ipv4.icmp_echo_ignore_all', 0).catch(() => undefined);
    };
    try {
      await proc.waitForOutput(/^ready/m, 10_000);
    } catch (e) {
      await proc.stop('SIGKILL', 1000);
      await restore();
      throw e;
    }
    // Kernel echo replies come back as soon as the responder exits (on its own or stopped).
    const restored = proc.exited.then(restore);
    return {
      pid: proc.pid,
      child: proc.child,
      get stdout() {
        return proc.stdout;
      },
      get stderr() {
        return proc.stderr;
      },
      exited: proc.exited,
      get exitCode() {
        return proc.exitCode;
      },
      waitForOutput: (pattern: RegExp, timeoutMs: number) => proc.waitForOutput(pattern, timeoutMs),
      stop: async (signal?: NodeJS.Signals, graceMs?: number): Promise<number> => {
        const code = await proc.stop(signal, graceMs);
        await restored;
        return code;
      },
    };
  };

  return {
    id,
    name,
    probeNs,
    targetNs,
    probeIf: PROBE_IF,
    targetIf: TARGET_IF,
    tmpDir,
    exec,
    spawn,
    sysctl,
    setLoss,
    startTruth,
    fetchText,
    startDelayedEcho,
    destroy,
  };
}
