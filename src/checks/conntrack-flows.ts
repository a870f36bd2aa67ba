/**
 * Pure parsing and aggregation of `conntrack -L` (conntrack-tools, plain output format): per
 * address of the original direction, the number of flows and, when accounting is on
 * (nf_conntrack_acct=1), the bytes and packets of both directions. Worker threads aggregate one
 * batch of whole lines each (`aggregateFlowBytes`); the main thread merges the partial results
 * (`FlowAggregate.merge`). Never throws on bad input: such lines are counted.
 *
 * Line format (conntrack-tools 1.4.7):
 *   tcp  6 119 TIME_WAIT src=A dst=B sport=.. dport=.. [packets=P bytes=N] [UNREPLIED]
 *        src=B' dst=A' sport=.. dport=.. [packets=P bytes=N] [ASSURED] mark=0 use=1
 * The first src=/dst= pair is the original direction, the second the reply direction (which
 * differs from the original under NAT). The parser allocates nothing per line for IPv4.
 */
import { AddressTally, type TallyData } from '../lib/address-tally.js';
import { parseIPv4At } from '../lib/address.js';

/** What one batch of lines, or the whole listing, holds (structured-cloneable). */
export interface FlowPartial {
  /** flows parsed */
  readonly flows: number;
  /** flows that carried accounting counters */
  readonly counted: number;
  /** non-empty lines that are not a well-formed flow */
  readonly malformed: number;
  readonly sources: TallyData;
  readonly destinations: TallyData;
}

const NEWLINE = 10;
const MAX_DIGITS = 20;

function tokenEnd(line: string, start: number): number {
  const e = line.indexOf(' ', start);
  return e < 0 ? line.length : e;
}

/** A non-negative decimal integer in line[start, end); -1 when it is not one. */
function digitsAt(line: string, start: number, end: number): number {
  if (end <= start || end - start > MAX_DIGITS) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const V6 = /^[0-9a-fA-F:.]{2,45}$/;

/** IPv4 as uint32, IPv6 as its text; undefined when the token is neither (keeps labels clean). */
function addressAt(line: string, start: number, end: number): number | string | undefined {
  const v4 = parseIPv4At(line, start, end);
  if (v4 >= 0) return v4;
  const text = line.slice(start, end);
  return text.includes(':') && V6.test(text) ? text : undefined;
}

/** Index of the value of `key` in line[from, before); -1 when absent. */
function valueIndex(line: string, key: string, from: number, before: number): number {
  const i = line.indexOf(key, from);
  return i < 0 || i >= before ? -1 : i + key.length;
}

export class FlowAggregate {
  flows = 0;
  counted = 0;
  malformed = 0;
  readonly sources = new AddressTally();
  readonly destinations = new AddressTally();
  #bytes = 0;
  #packets = 0;

  /** Adds `packets=`/`bytes=` of line[from, before) to the scratch sums: 0 absent, 1 added, -1 malformed. */
  #counters(line: string, from: number, before: number): number {
    const p = valueIndex(line, ' packets=', from, before);
    const b = valueIndex(line, ' bytes=', from, before);
    if (p < 0 && b < 0) return 0;
    const packets = p < 0 ? -1 : digitsAt(line, p, tokenEnd(line, p));
    const bytes = b < 0 ? -1 : digitsAt(line, b, tokenEnd(line, b));
    if (packets < 0 || bytes < 0) return -1;
    this.#packets += packets;
    this.#bytes += bytes;
    return 1;
  }

  /** One line of `conntrack -L`; empty lines are skipped, anything else not a flow is counted. */
  addLine(line: string): void {
    if (line.length === 0) return;
    const s1 = line.indexOf(' src=');
    const d1 = s1 < 0 ? -1 : line.indexOf(' dst=', s1 + 5);
    const s2 = d1 < 0 ? -1 : line.indexOf(' src=', d1 + 5);
    const src = s2 < 0 ? undefined : addressAt(line, s1 + 5, tokenEnd(line, s1 + 5));
    const dst = src === undefined ? undefined : addressAt(line, d1 + 5, tokenEnd(line, d1 + 5));
    this.#bytes = 0;
    this.#packets = 0;
    const orig = dst === undefined ? -1 : this.#counters(line, d1, s2);
    const reply = orig < 0 ? -1 : this.#counters(line, s2, line.length);
    if (src === undefined || dst === undefined || reply < 0) {
      this.malformed++;
      return;
    }
    this.flows++;
    if (orig + reply > 0) this.counted++;
    if (typeof src === 'number') this.sources.addV4(src, 1, this.#bytes, this.#packets);
    else this.sources.addOther(src, 1, this.#bytes, this.#packets);
    if (typeof dst === 'number') this.destinations.addV4(dst, 1, this.#bytes, this.#packets);
    else this.destinations.addOther(dst, 1, this.#bytes, this.#packets);
  }

  /** Adds every line of `text` (lines end with '\n'; the last one may not). */
  addText(text: string): void {
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      this.addLine(text.slice(start, end));
      start = end + 1;
    }
  }

  merge(p: FlowPartial): void {
    this.flows += p.flows;
    this.counted += p.counted;
    this.malformed += p.malformed;
    this.sources.merge(p.sources);
    this.destinations.merge(p.destinations);
  }

  toPartial(): FlowPartial {
    return {
      flows: this.flows,
      counted: this.counted,
      malformed: this.malformed,
      sources: this.sources.export(),
      destinations: this.destinations.export(),
    };
  }

  /** Largest source's share of all flows (0 without flows). */
  topSourceShare(): number {
    const top = this.sources.top('flows', 1)[0];
    return top === undefined || this.flows === 0 ? 0 : top.value / this.flows;
  }
}

/** Bytes decoded per step: small enough for the young generation, so garbage dies young. */
const PIECE = 64 * 1024;

/**
 * Aggregates a batch of whole lines given as bytes (ASCII; latin1 maps each byte to one
 * character without validation), decoded piece by piece at line boundaries.
 */
export function aggregateFlowBytes(bytes: Uint8Array): FlowPartial {
  const agg = new FlowAggregate();
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  while (start < buf.length) {
    let end = Math.min(start + PIECE, buf.length);
    if (end < buf.length) {
      const nl = buf.lastIndexOf(NEWLINE, end - 1);
      end = nl >= start ? nl + 1 : end;
    }
    agg.addText(buf.toString('latin1', start, end));
    start = end;
  }
  return agg.toPartial();
}
