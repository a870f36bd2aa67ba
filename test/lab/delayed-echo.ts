// Standalone delayed ICMPv4 echo responder, run inside the lab's TARGET namespace (with
// net.ipv4.icmp_echo_ignore_all=1 so the kernel stays quiet). For every echo request to an address of
// --prefix it sends an echo reply (same id, seq and data; source = the requested address) after a
// delay drawn uniformly from [--min-ms, --max-ms]. Bounded: exits after --max-replies replies or
// --max-seconds seconds, or on SIGTERM/SIGINT. Prints "ready" once listening and a final
// "done {json}" summary line.
//
//   node dist/test/lab/delayed-echo.js --min-ms 0.2 --max-ms 3 --max-replies 1000 --max-seconds 30 --prefix 198.19.0.0/16
import { createRequire } from 'node:module';
import { buildIpv4Echo, parseEcho, parseIp } from './ip-packet.js';

interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, cb: (err: Error | null, bytes: number) => void): void;
  setOption(level: number, option: number, value: number): void;
  close(): void;
}
interface RawSocketModule {
  createSocket(opts: { protocol: number; bufferSize?: number }): RawSocket;
  SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number };
  SocketOption: { IP_HDRINCL: number };
}

const SO_RCVBUFFORCE = 33; // Linux; root may exceed net.core.rmem_max
const SO_SNDBUFFORCE = 32;

function arg(name: string): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? undefined : process.argv[i + 1];
  const n = v === undefined ? Number.NaN : Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`delayed-echo: --${name} <non-negative number> is required\n`);
    process.exit(64);
  }
  return n;
}

function parsePrefix(text: string): { net: number; mask: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  if (m === null) throw new Error(`delayed-echo: bad --prefix ${text}`);
  const bits = Number(m[5]);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  return { net: (net & mask) >>> 0, mask };
}

function ipv4ToInt(text: string): number {
  return text.split('.').reduce((acc, x) => ((acc << 8) | Number(x)) >>> 0, 0);
}

const minMs = arg('min-ms');
const maxMs = arg('max-ms');
const maxReplies = arg('max-replies');
const maxSeconds = arg('max-seconds');
const prefixIdx = process.argv.indexOf('--prefix');
const prefixText = (prefixIdx < 0 ? undefined : process.argv[prefixIdx + 1]) ?? '198.19.0.0/16';
const prefix = parsePrefix(prefixText);
if (maxMs < minMs) {
  process.stderr.write('delayed-echo: --max-ms must be >= --min-ms\n');
  process.exit(64);
}

const raw = createRequire(import.meta.url)('raw-socket') as RawSocketModule;
const socket = raw.createSocket({ protocol: 1, bufferSize: 65536 });
socket.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
socket.setOption(raw.SocketLevel.SOL_SOCKET, SO_RCVBUFFORCE, 16 * 1024 * 1024);
socket.setOption(raw.SocketLevel.SOL_SOCKET, SO_SNDBUFFORCE, 16 * 1024 * 1024);

interface Pending {
  dueNs: bigint;
  packet: Buffer;
  to: string;
}

const stats = { requests: 0, ignored: 0, replied: 0, sendErrors: 0, maxLateUs: 0, late100us: 0 };
const queue: Pending[] = []; // sorted by dueNs
let scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined;
let finishing = false;

function finish(reason: string): void {
  if (finishing) return;
  finishing = true;
  process.stdout.write(`done ${JSON.stringify({ reason, ...stats, pending: queue.length })}\n`);
  try {
    socket.close();
  } catch {
    // already closed
  }
  process.exit(0);
}

function sendDue(): void {
  scheduled = undefined;
  const now = process.hrtime.bigint();
  while (queue.length > 0 && (queue[0] as Pending).dueNs <= now) {
    const p = queue.shift() as Pending;
    const lateUs = Number(now - p.dueNs) / 1000;
    if (lateUs > stats.maxLateUs) stats.maxLateUs = Math.round(lateUs);
    if (lateUs > 100) stats.late100us++;
    socket.send(p.packet, 0, p.packet.length, p.to, (err) => {
      if (err !== null) stats.sendErrors++;
      else stats.replied++;
      if (stats.replied >= maxReplies) finish('max-replies');
    });
  }
  arm();
}

function arm(): void {
  if (scheduled !== undefined || queue.length === 0) return;
  const waitNs = (queue[0] as Pending).dueNs - process.hrtime.bigint();
  // setTimeout has millisecond granularity: sleep until ~1.5 ms before the deadline, then spin with
  // setImmediate (I/O is still processed between spins) for sub-millisecond accuracy. Replies can
  // still be late when the process is descheduled (stats.late100us / maxLateUs report it); tests
  // compare wireprobe with the wire, not with the nominal delays.
  if (waitNs > 2_000_000n) scheduled = setTimeout(sendDue, Math.floor(Number(waitNs) / 1e6 - 1.5));
  else scheduled = setImmediate(sendDue);
}

function insert(p: Pending): void {
  let i = queue.length;
  while (i > 0 && (queue[i - 1] as Pending).dueNs > p.dueNs) i--;
  queue.splice(i, 0, p);
}

socket.on('message', (buf) => {
  const received = process.hrtime.bigint();
  const ip = parseIp(buf);
  if (ip === undefined || ip.family !== 'ipv4') return;
  const echo = parseEcho(ip);
  if (echo === undefined || echo.kind !== 'request') return;
  stats.requests++;
  if ((((ipv4ToInt(ip.dst) & prefix.mask) >>> 0) !== prefix.net) || stats.requests - stats.ignored > maxReplies) {
    stats.ignored++;
    return;
  }
  const delayMs = minMs + Math.random() * (maxMs - minMs);
  const packet = Buffer.from(
    buildIpv4Echo({ src: ip.dst, dst: ip.src, kind: 'reply', id: echo.id, seq: echo.seq, data: echo.data }),
  );
  insert({ dueNs: received + BigInt(Math.round(delayMs * 1e6)), packet, to: ip.src });
  arm();
});
socket.on('error', (err) => {
  process.stderr.write(`delayed-echo: socket error: ${err.message}\n`);
  process.exit(70);
});

setTimeout(() => finish('max-seconds'), maxSeconds * 1000);
process.on('SIGTERM', () => finish('SIGTERM'));
process.on('SIGINT', () => finish('SIGINT'));
process.stdout.write(`ready ${prefixText}\n`);
