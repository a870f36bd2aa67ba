// Prerequisite checks: integration tests call these first so that a missing tool FAILS the test
// with an actionable message instead of skipping silently.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ToolRequirement {
  /** Binary looked up on PATH. */
  readonly bin: string;
  /** Debian package that provides it. */
  readonly pkg: string;
}

export function findOnPath(bin: string): string | undefined {
  if (bin.includes('/')) {
    try {
      accessSync(bin, constants.X_OK);
      return bin;
    } catch {
      return undefined;
    }
  }
  const dirs = (process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws `missing prerequisite: <bin> (apt-get install <pkg>)` for the first missing binary (all are listed). */
export function requireTools(tools: readonly ToolRequirement[]): void {
  const missing = tools.filter((t) => findOnPath(t.bin) === undefined);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => t.pkg))].join(' ');
  throw new Error(`missing prerequisite: ${missing.map((t) => t.bin).join(', ')} (apt-get install ${pkgs})`);
}

export function requireRoot(): void {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (uid !== 0) {
    throw new Error(
      `missing prerequisite: root (integration tests create network namespaces; run as root, uid is ${uid})`,
    );
  }
}

/** Tools every lab needs. */
export const LAB_TOOLS: readonly ToolRequirement[] = [
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'nft', pkg: 'nftables' },
  { bin: 'sysctl', pkg: 'procps' },
];
export const TCPDUMP: ToolRequirement = { bin: 'tcpdump', pkg: 'tcpdump' };
export const PING: ToolRequirement = { bin: 'ping', pkg: 'iputils-ping' };
export const PROMTOOL: ToolRequirement = { bin: 'promtool', pkg: 'prometheus' };
