// Self size of a V8 heap snapshot by node type and constructor/name, and the difference between
// two snapshots (e.g. 10 000 TCPsyn targets against 10 000 ICMPping ones, from
// `memory-bench.js --snapshot-dir`).
//   node dist/bench/heap-summary.js A.heapsnapshot [B.heapsnapshot] [--top 40]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { commandLine, positiveNumber, runMain } from './options.js';

const USAGE = `usage: node dist/bench/heap-summary.js A.heapsnapshot [B.heapsnapshot] [--top N]
  one snapshot: its largest groups (self size, count); two: the groups that differ most, B − A`;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Group {
  bytes: number;
  count: number;
}

/** Strings and code are one group per node type; every other node by type and name (an object's name is its constructor's). */
function groupKey(type: string, name: string): string {
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'code' || type === 'number') return `(${type})`;
  return `${type}: ${name.length > 70 ? `${name.slice(0, 67)}…` : name}`;
}

/** Self size and count of each group of a snapshot's nodes. */
function summarize(snap: Snapshot): Map<string, Group> {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const out = new Map<string, Group>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const key = groupKey(types[snap.nodes[i + typeAt]!] ?? '?', snap.strings[snap.nodes[i + nameAt]!] ?? '?');
    const g = out.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += snap.nodes[i + sizeAt]!;
    g.count++;
    out.set(key, g);
  }
  return out;
}

function total(m: ReadonlyMap<string, Group>): Group {
  let bytes = 0;
  let count = 0;
  for (const g of m.values()) {
    bytes += g.bytes;
    count += g.count;
  }
  return { bytes, count };
}

const mb = (b: number): string => (b / 1e6).toFixed(2);

function main(): number {
  const o = commandLine((argv) => {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { top: { type: 'string' }, help: { type: 'boolean' } } });
    if (values.help === true || positionals.length < 1 || positionals.length > 2) return undefined;
    return { files: positionals, top: Math.floor(positiveNumber(values.top, 40, 'top')) };
  }, USAGE);
  if (typeof o === 'number') return o;
  const [a, b] = o.files.map((f) => summarize(JSON.parse(readFileSync(f, 'utf8')) as Snapshot));
  const lines: string[] = [];
  if (b === undefined) {
    const t = total(a!);
    lines.push(`total ${mb(t.bytes)} MB self size, ${t.count} nodes`, '', '| group | MB | count |', '|---|---|---|');
    for (const [k, g] of [...a!].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, o.top)) lines.push(`| ${k} | ${mb(g.bytes)} | ${g.count} |`);
  } else {
    const ta = total(a!);
    const tb = total(b);
    lines.push(`A ${mb(ta.bytes)} MB (${ta.count} nodes), B ${mb(tb.bytes)} MB (${tb.count} nodes), B − A ${mb(tb.bytes - ta.bytes)} MB`, '', '| group | A MB | B MB | B − A MB | A count | B count |', '|---|---|---|---|---|---|');
    const none = { bytes: 0, count: 0 };
    const keys = [...new Set([...a!.keys(), ...b.keys()])];
    const diff = (k: string): number => (b.get(k) ?? none).bytes - (a!.get(k) ?? none).bytes;
    for (const k of keys.sort((x, y) => Math.abs(diff(y)) - Math.abs(diff(x))).slice(0, o.top)) {
      const ga = a!.get(k) ?? none;
      const gb = b.get(k) ?? none;
      lines.push(`| ${k} | ${mb(ga.bytes)} | ${mb(gb.bytes)} | ${mb(gb.bytes - ga.bytes)} | ${ga.count} | ${gb.count} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

runMain(() => Promise.resolve(main()));
