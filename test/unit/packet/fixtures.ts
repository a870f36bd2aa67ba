// Shared helpers for the packet codec tests: hex fixtures and a seeded PRNG.
import { readFileSync, readdirSync } from 'node:fs';

/** test/fixtures/packets/, resolved from dist/test/unit/packet/ at run time. */
export const FIXTURE_DIR = new URL('../../../../test/fixtures/packets/', import.meta.url);

/** Bytes of a hex string; whitespace and `#` comment lines are ignored. */
export function hex(text: string): Uint8Array {
  const digits = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`not an even run of hex digits: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A fixture's frame bytes (a plain Uint8Array, not a Buffer). */
export function loadHex(name: string): Uint8Array {
  return hex(readFileSync(new URL(name, FIXTURE_DIR), 'utf8'));
}

/** The link type recorded in a fixture's `# linktype N, ...` comment line. */
export function fixtureLinkType(name: string): number {
  const m = /^# linktype (\d+),/m.exec(readFileSync(new URL(name, FIXTURE_DIR), 'utf8'));
  if (m === null) throw new Error(`${name} has no linktype comment`);
  return Number(m[1]);
}

/** Names of all frame fixtures (every .hex file except the checksum vectors). */
export function frameFixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((n) => n.endsWith('.hex') && !n.startsWith('checksum-'))
    .sort();
}

/** Concatenation of byte arrays. */
export function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

export { rng } from '../../fakes/rng.js';
