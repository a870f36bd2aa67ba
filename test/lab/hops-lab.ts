// A multi-hop namespace lab for traceroute and mtr (on-demand operations), IPv4 and IPv6:
//
//   wpo<id>p ── wpo<id>r1 ──┬── wpo<id>r2a ──┬── wpo<id>r3 ── wpo<id>t
//   (probe)                 └── wpo<id>r2b ──┘                (target)
//
//   link   net (v4 / v6)                       lower end      upper end
//   L0     198.18.10.0/24  2001:db8:10::/64    probe .2/::2   r1 .1/::1
//   L1     198.18.11.0/24  2001:db8:11::/64    r1 .1/::1      r2a .2/::2
//   L2     198.18.12.0/24  2001:db8:12::/64    r1 .1/::1      r2b .2/::2
//   L3     198.18.13.0/24  2001:db8:13::/64    r2a .1/::1     r3 .2/::2
//   L4     198.18.14.0/24  2001:db8:14::/64    r2b .1/::1     r3 .2/::2
//   L5     198.18.15.0/24  2001:db8:15::/64    r3 .1/::1      target .2/::2
//
// Forward: r1 sends the target's prefix (L5) via r2a, or with `ecmp` over a multipath route via
// r2a and r2b (fib_multipath_hash_policy=1: L4 hashing, both families). Back: every router
// routes the probe's prefix (L0) via r1 / r2a; the address of each hop follows (expectedPath). ICMP
// rate limits are off everywhere. Silent hop: nft drops a router's outgoing time-exceeded;
// loss: nft numgen drops a share of the packets from the probe arriving at a router.
//
// Namespaces `wpo<id>*`, registered like lab.ts' (marker file, cleanup on exit and signals, reaped
// when the creating process died). Addresses from 198.18.0.0/15 and 2001:db8::/32 only; DNS in the
// probe namespace points at 127.0.0.1 (nothing listens). Traffic never leaves the namespaces.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ETC_NETNS } from './lab-registry.js';
import type { ExecOptions, FetchResult } from './lab.js';
import { openNamespaceSet } from './ns-set.js';
import { runChecked, type LabProcess, type RunResult, type SpawnOptions } from './processes.js';

export const HOPS_NS_PREFIX = 'wpo';

export type HopNode = 'probe' | 'r1' | 'r2a' | 'r2b' | 'r3' | 'target';
export type Router = 'r1' | 'r2a' | 'r2b' | 'r3';
const NODES: readonly HopNode[] = ['probe', 'r1', 'r2a', 'r2b', 'r3', 'target'];
const ROUTERS: readonly Router[] = ['r1', 'r2a', 'r2b', 'r3'];

/** link number, lower node, upper node */
const LINKS: readonly (readonly [number, HopNode, HopNode])[] = [
  [10, 'probe', 'r1'], [11, 'r1', 'r2a'], [12, 'r1', 'r2b'], [13, 'r2a', 'r3'], [14, 'r2b', 'r3'], [15, 'r3', 'target'],
];
/** the host number of each end: the lower end .2 on L0, else the lower end .1 */
const hostOf = (link: number, end: 'lower' | 'upper'): number => (link === 10 ? (end === 'lower' ? 2 : 1) : end === 'lower' ? 1 : 2);

export function linkAddress(family: 4 | 6, link: number, end: 'lower' | 'upper'): string {
  const h = hostOf(link, end);
  return family === 4 ? `198.18.${link}.${h}` : `2001:db8:${link}::${h}`;
}

export const HOPS = {
  probe4: linkAddress(4, 10, 'lower'),
  probe6: linkAddress(6, 10, 'lower'),
  target4: linkAddress(4, 15, 'upper'),
  target6: linkAddress(6, 15, 'upper'),
} as const;

/** The addresses a trace from the probe to the target sees, hop by hop, via r2a or r2b. */
export function expectedPath(family: 4 | 6, via: 'r2a' | 'r2b'): string[] {
  return [
    linkAddress(family, 10, 'upper'), // r1, towards the probe
    linkAddress(family, via === 'r2a' ? 11 : 12, 'upper'), // r2a / r2b, towards r1
    // r3: IPv4 answers from the interface towards the probe (its route back via r2a), IPv6 from
    // the one the probe came in on
    linkAddress(family, family === 6 && via === 'r2b' ? 14 : 13, 'upper'),
    family === 4 ? HOPS.target4 : HOPS.target6,
  ];
}

export interface HopsLab {
  readonly id: string;
  readonly tmpDir: string;
  ns(node: HopNode): string;
  exec(node: HopNode, argv: readonly string[], opts?: ExecOptions): Promise<RunResult>;
  /** a tracked process in a namespace; destroy() kills it by PID if still running */
  spawn(node: HopNode, argv: readonly string[], opts?: SpawnOptions): LabProcess;
  /** HTTP GET from inside the probe namespace */
  fetchText(url: string, opts?: { timeoutMs?: number }): Promise<FetchResult>;
  /** `router` stops sending ICMP/ICMPv6 time-exceeded (true) or sends them again (false) */
  setSilent(router: Router, silent: boolean): Promise<void>;
  /** `router` drops `percent` % of the packets from the probe it receives (nft numgen); 0 removes */
  setLoss(router: Router, percent: number): Promise<void>;
  /** nft counters of the loss rule at `router`: packets dropped */
  lossDrops(router: Router): Promise<number>;
  destroy(): Promise<void>;
}

const NFT_TABLE = 'wpohops';

const FETCH_SCRIPT = `
const [url, ms] = process.argv.slice(1);
fetch(url, { signal: AbortSignal.timeout(Number(ms)) }).then(async (r) => {
  const body = await r.text();
  process.stdout.write(JSON.stringify({ status: r.status, contentType: r.headers.get('content-type') ?? '', body }));
}, (e) => { process.stderr.write(String(e && e.message || e)); process.exit(2); });
`;

export async function createHopsLab(opts: { ecmp?: boolean; name?: string } = {}): Promise<HopsLab> {
  const set = openNamespaceSet<HopNode>({
    what: 'hops lab', name: opts.name ?? 'hops', tmpPrefix: 'wpo-lab', nodes: NODES,
    nsOf: (id, n) => `${HOPS_NS_PREFIX}${id}${n === 'probe' ? 'p' : n === 'target' ? 't' : n}`,
  });
  const { id, tmpDir, ip, sysctls, nft, exec, spawn, destroy } = set;
  const nsOf = set.ns;

  try {
    mkdirSync(join(ETC_NETNS, nsOf('probe')), { recursive: true });
    writeFileSync(join(ETC_NETNS, nsOf('probe'), 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    for (const n of NODES) {
      await runChecked(['ip', 'netns', 'add', nsOf(n)]);
      await sysctls(n, {
        'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0,
        'net.ipv6.conf.all.accept_ra': 0, 'net.ipv6.conf.default.accept_ra': 0,
        'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0,
        'net.ipv4.icmp_ratelimit': 0, 'net.ipv6.icmp.ratelimit': 0,
      });
      await ip(n, ['link', 'set', 'lo', 'up']);
    }
    for (const r of ROUTERS) {
      await sysctls(r, {
        'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1,
        'net.ipv4.fib_multipath_hash_policy': 1, 'net.ipv6.fib_multipath_hash_policy': 1,
      });
    }
    for (const n of NODES) {
      await sysctls(n, { 'net.ipv4.icmp_msgs_per_sec': 1_000_000, 'net.ipv4.icmp_msgs_burst': 1_000_000 }).catch(() => undefined);
    }
    for (const [link, lower, upper] of LINKS) {
      const a = `wpo${link}${lower}`.slice(0, 15);
      const b = `wpo${link}${upper}`.slice(0, 15);
      await ip(lower, ['link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsOf(upper)]);
      for (const [n, dev, end] of [[lower, a, 'lower'], [upper, b, 'upper']] as const) {
        await ip(n, ['addr', 'add', `${linkAddress(4, link, end)}/24`, 'dev', dev]);
        await ip(n, ['-6', 'addr', 'add', `${linkAddress(6, link, end)}/64`, 'dev', dev, 'nodad']);
        await ip(n, ['link', 'set', dev, 'up']);
      }
    }
    const route = async (n: HopNode, link: number, via: readonly [number, 'lower' | 'upper'][]): Promise<void> => {
      for (const f of [4, 6] as const) {
        const prefix = f === 4 ? `198.18.${link}.0/24` : `2001:db8:${link}::/64`;
        const hops = via.length === 1
          ? ['via', linkAddress(f, via[0]![0], via[0]![1])]
          : via.flatMap(([l, e]) => ['nexthop', 'via', linkAddress(f, l, e), 'weight', '1']);
        await ip(n, [`-${f}`, 'route', 'add', prefix, ...hops]);
      }
    };
    const everywhere = [11, 12, 13, 14, 15];
    for (const l of everywhere) await route('probe', l, [[10, 'upper']]);
    // r1: the far links via r2a (r2b's own links via r2b); the target's link via r2a, or both
    await route('r1', 13, [[11, 'upper']]);
    await route('r1', 14, [[12, 'upper']]);
    await route('r1', 15, opts.ecmp === true ? [[11, 'upper'], [12, 'upper']] : [[11, 'upper']]);
    for (const l of [10, 12, 14]) await route('r2a', l, l === 14 ? [[13, 'upper']] : [[11, 'lower']]);
    await route('r2a', 15, [[13, 'upper']]);
    for (const l of [10, 11, 13]) await route('r2b', l, l === 13 ? [[14, 'upper']] : [[12, 'lower']]);
    await route('r2b', 15, [[14, 'upper']]);
    for (const l of [10, 11, 12]) await route('r3', l, [[13, 'lower']]);
    for (const l of [10, 11, 12, 13, 14]) await route('target', l, [[15, 'lower']]);
    for (const r of ROUTERS) {
      await nft(r, [
        `add table inet ${NFT_TABLE}`,
        `add chain inet ${NFT_TABLE} pre { type filter hook prerouting priority -300; policy accept; }`,
        `add chain inet ${NFT_TABLE} out { type filter hook output priority 0; policy accept; }`,
        `add chain inet ${NFT_TABLE} silent`,
        `add chain inet ${NFT_TABLE} loss`,
        `add rule inet ${NFT_TABLE} out jump silent`,
        `add rule inet ${NFT_TABLE} pre jump loss`,
        '',
      ].join('\n'));
    }
    // the whole path answers (neighbour discovery done) before the lab is handed over
    const deadline = Date.now() + 10_000;
    for (const f of [4, 6] as const) {
      const target = f === 4 ? HOPS.target4 : HOPS.target6;
      for (;;) {
        const r = await exec('probe', ['ping', `-${f}`, '-c', '1', '-W', '1', target], { timeoutMs: 3000 });
        if (r.code === 0) break;
        if (Date.now() > deadline) throw new Error(`hops lab: ${target} unreachable: ${r.stdout}${r.stderr}`);
      }
    }
  } catch (e) {
    await destroy().catch(() => undefined);
    throw e;
  }

  return {
    id,
    tmpDir,
    ns: nsOf,
    exec,
    spawn,
    async fetchText(url, o = {}) {
      const r = await exec('probe', [process.execPath, '-e', FETCH_SCRIPT, url, String(o.timeoutMs ?? 10_000)], { timeoutMs: (o.timeoutMs ?? 10_000) + 5000 });
      if (r.code !== 0) throw new Error(`GET ${url} failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as FetchResult;
    },
    async setSilent(router, silent) {
      const lines = [`flush chain inet ${NFT_TABLE} silent`];
      if (silent) {
        lines.push(
          `add rule inet ${NFT_TABLE} silent icmp type time-exceeded counter drop`,
          `add rule inet ${NFT_TABLE} silent icmpv6 type time-exceeded counter drop`,
        );
      }
      await nft(router, `${lines.join('\n')}\n`);
    },
    async setLoss(router, percent) {
      if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new RangeError(`setLoss: percent ${percent}`);
      const threshold = Math.round(percent * 100);
      const lines = [`flush chain inet ${NFT_TABLE} loss`];
      if (threshold > 0) {
        lines.push(
          `add rule inet ${NFT_TABLE} loss ip saddr ${HOPS.probe4} numgen random mod 10000 < ${threshold} counter drop`,
          `add rule inet ${NFT_TABLE} loss ip6 saddr ${HOPS.probe6} numgen random mod 10000 < ${threshold} counter drop`,
        );
      }
      await nft(router, `${lines.join('\n')}\n`);
    },
    async lossDrops(router) {
      const r = await runChecked(['ip', 'netns', 'exec', nsOf(router), 'nft', 'list', 'chain', 'inet', NFT_TABLE, 'loss']);
      return [...r.stdout.matchAll(/packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    },
    destroy,
  };
}
