// The probe types the benchmark measures, each with its peer tool and what the targets answer, and
// the wire witness: nftables counters in the target namespace that count the probes of each type
// that reached the targets and the answers the targets sent back.
import { runCommand, type Lab, type LabProcess } from '../test/lab/index.js';

export type BenchType = 'ICMPping' | 'TCPsyn' | 'TCPsyn-open' | 'UDPunreachable';
export type PeerTool = 'fping' | 'hping3';

/** Port nothing listens on (the target kernel answers RST), and the listener's port (SYN-ACK). */
export const TCP_CLOSED_PORT = 8081;
export const TCP_OPEN_PORT = 8080;
/** Closed UDP port: the target kernel answers ICMP port unreachable. */
export const UDP_PORT = 33434;

export interface BenchTypeSpec {
  readonly name: BenchType;
  /** netprobify target type and the prefix of its metric families */
  readonly probeType: 'ICMPping' | 'TCPsyn' | 'UDPunreachable';
  readonly metricPrefix: 'icmp' | 'tcpsyn' | 'udp_unreachable';
  readonly dstPort: number | undefined;
  readonly peer: PeerTool;
  /** hping3 mode flags (hping3 peers only) */
  readonly hping3Flags: readonly string[];
  /** nft expression matching a probe arriving at the target namespace (prerouting) */
  readonly probeMatch: string;
  /** nft expression matching the answer the target sends back (output) */
  readonly replyMatch: string;
  readonly answer: string;
}

export const BENCH_TYPES: Readonly<Record<BenchType, BenchTypeSpec>> = {
  ICMPping: {
    name: 'ICMPping', probeType: 'ICMPping', metricPrefix: 'icmp', dstPort: undefined, peer: 'fping', hping3Flags: [],
    probeMatch: 'icmp type echo-request', replyMatch: 'icmp type echo-reply', answer: 'echo reply',
  },
  TCPsyn: {
    name: 'TCPsyn', probeType: 'TCPsyn', metricPrefix: 'tcpsyn', dstPort: TCP_CLOSED_PORT, peer: 'hping3', hping3Flags: ['-S', '-p', String(TCP_CLOSED_PORT)],
    probeMatch: `tcp dport ${TCP_CLOSED_PORT} tcp flags & (syn | ack) == syn`,
    replyMatch: `tcp sport ${TCP_CLOSED_PORT} tcp flags & (rst | ack) == rst | ack`, answer: 'RST-ACK (closed port)',
  },
  'TCPsyn-open': {
    name: 'TCPsyn-open', probeType: 'TCPsyn', metricPrefix: 'tcpsyn', dstPort: TCP_OPEN_PORT, peer: 'hping3', hping3Flags: ['-S', '-p', String(TCP_OPEN_PORT)],
    probeMatch: `tcp dport ${TCP_OPEN_PORT} tcp flags & (syn | ack) == syn`,
    replyMatch: `tcp sport ${TCP_OPEN_PORT} tcp flags & (syn | ack) == syn | ack`, answer: 'SYN-ACK (listener)',
  },
  UDPunreachable: {
    name: 'UDPunreachable', probeType: 'UDPunreachable', metricPrefix: 'udp_unreachable', dstPort: UDP_PORT, peer: 'hping3', hping3Flags: ['-2', '-p', String(UDP_PORT)],
    probeMatch: `udp dport ${UDP_PORT}`, replyMatch: 'icmp type destination-unreachable icmp code port-unreachable', answer: 'ICMP port unreachable',
  },
};

export function parseBenchTypes(text: string): BenchType[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = names.filter((s) => !(s in BENCH_TYPES));
  if (names.length === 0 || bad.length > 0) throw new Error(`--types: expected some of ${Object.keys(BENCH_TYPES).join(', ')}; got ${text}`);
  return [...new Set(names as BenchType[])];
}

export interface WireSample {
  /** probes of the type that reached the target namespace */
  readonly probes: number;
  /** answers of the targets to them */
  readonly replies: number;
  /** receive drops of the probe namespace's veth (answers lost before any tool saw them) */
  readonly rxDropped: number;
  /** performance.now() when the counters were read */
  readonly atMs: number;
}

export interface WireWitness {
  read(): Promise<WireSample>;
}

const TABLE = 'wptbench';
const counterName = (t: BenchType, what: 'probes' | 'replies'): string => `${t.replace('-', '_').toLowerCase()}_${what}`;

/** Adds the counting table (one named counter per type and direction) to the target namespace. */
export async function installWitness(lab: Lab): Promise<void> {
  const specs = Object.values(BENCH_TYPES);
  const script = [
    `add table inet ${TABLE}`,
    `add chain inet ${TABLE} pre { type filter hook prerouting priority -350; policy accept; }`,
    `add chain inet ${TABLE} out { type filter hook output priority 0; policy accept; }`,
    ...specs.flatMap((s) => [`add counter inet ${TABLE} ${counterName(s.name, 'probes')}`, `add counter inet ${TABLE} ${counterName(s.name, 'replies')}`]),
    ...specs.map((s) => `add rule inet ${TABLE} pre ${s.probeMatch} counter name ${counterName(s.name, 'probes')}`),
    ...specs.map((s) => `add rule inet ${TABLE} out ${s.replyMatch} counter name ${counterName(s.name, 'replies')}`),
    '',
  ].join('\n');
  const r = await lab.exec('target', ['nft', '-f', '-'], { input: script, timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`nft (bench counters) failed: ${r.stderr.trim()}`);
}

interface NftCounter {
  counter?: { name?: string; packets?: number };
}

/** The witness of one type: its two counters and the probe veth's receive drops. */
export function witnessFor(lab: Lab, type: BenchType): WireWitness {
  return {
    async read(): Promise<WireSample> {
      const [c, l] = await Promise.all([
        lab.exec('target', ['nft', '-j', 'list', 'counters', 'table', 'inet', TABLE], { timeoutMs: 10_000 }),
        runCommand(['ip', '-n', lab.probeNs, '-s', '-j', 'link', 'show', 'dev', lab.probeIf], { timeoutMs: 10_000 }),
      ]);
      const atMs = performance.now();
      if (c.code !== 0) throw new Error(`nft list counters failed (${c.code}): ${c.stderr.trim()}`);
      if (l.code !== 0) throw new Error(`ip -s link failed (${l.code}): ${l.stderr.trim()}`);
      const counters = (JSON.parse(c.stdout) as { nftables?: NftCounter[] }).nftables ?? [];
      const packets = (name: string): number => counters.find((x) => x.counter?.name === name)?.counter?.packets ?? Number.NaN;
      const link = JSON.parse(l.stdout) as { stats64?: { rx?: { dropped?: number } } }[];
      return {
        probes: packets(counterName(type, 'probes')),
        replies: packets(counterName(type, 'replies')),
        rxDropped: link[0]?.stats64?.rx?.dropped ?? Number.NaN,
        atMs,
      };
    },
  };
}

/**
 * A TCP listener on every address of the target namespace (AnyIP included) for TCPsyn-open: the
 * kernel answers SYN-ACK (from its SYN cookies once the SYN queue is full). Nothing ever completes a
 * handshake; it exits by itself after `maxSeconds`, and the lab stops it by PID.
 */
export async function startListener(lab: Lab, maxSeconds: number): Promise<LabProcess> {
  const script =
    `const srv = require('node:net').createServer((s) => s.destroy());` +
    `srv.listen({ port: ${TCP_OPEN_PORT}, host: '::', backlog: 4096 }, () => process.stdout.write('listening\\n'));` +
    `setTimeout(() => process.exit(0), ${Math.ceil(maxSeconds * 1000)});`;
  const p = lab.spawn('target', [process.execPath, '-e', script]);
  await p.waitForOutput(/listening/, 10_000);
  return p;
}
