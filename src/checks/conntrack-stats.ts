/**
 * Pure parsers for the small conntrack inputs: `conntrack -S` (kernel statistics, one line per
 * CPU) and the nf_conntrack_count / nf_conntrack_max sysctls.
 *
 * `conntrack -S` asks the kernel through netlink (IPCTNL_MSG_CT_GET_STATS_CPU) and prints
 *   cpu=0   found=0 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0
 * When netlink fails, conntrack-tools falls back to /proc/net/stat/nf_conntrack (absent on
 * kernels built without CONFIG_NF_CONNTRACK_PROCFS) and prints its columns instead:
 *   cpu=0   entries=1 clashres=0 found=0 new=0 invalid=0 ignore=0 delete=0 chainlength=0 insert=2 … icmp_error=0 expect_new=0 …
 * That format is mapped onto the netlink names (the kernel fills both from the same per-CPU
 * counters) so the exported series do not depend on the path taken; `entries` (the table size,
 * repeated on every line), the constant-zero columns and the expectation counters (proc only)
 * are left out.
 */

export interface ConntrackStats {
  /** summed over CPUs, by netlink name; bounded to MAX_STATS names */
  readonly totals: ReadonlyMap<string, number>;
  /** per-CPU lines read */
  readonly cpus: number;
  /** non-empty lines that are not a per-CPU line */
  readonly malformed: number;
}

const MAX_STATS = 32;
const STAT_NAME = /^[a-z_]{1,32}$/;
const DIGITS = /^[0-9]{1,20}$/;
const CPU = /^cpu=[0-9]+$/;
const PROC_RENAME: Readonly<Record<string, string>> = {
  clashres: 'clash_resolve',
  chainlength: 'chaintoolong',
  icmp_error: 'error',
};
const PROC_SKIP = new Set(['entries', 'searched', 'new', 'ignore', 'delete', 'delete_list', 'expect_new', 'expect_create', 'expect_delete']);

function parseStatLine(fields: readonly string[], totals: Map<string, number>): boolean {
  const pairs: [string, number][] = [];
  let proc = false;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (eq <= 0 || !STAT_NAME.test(key) || !DIGITS.test(value)) return false;
    if (key === 'entries') proc = true;
    pairs.push([key, Number(value)]);
  }
  for (const [key, value] of pairs) {
    if (proc && PROC_SKIP.has(key)) continue;
    const name = proc ? (PROC_RENAME[key] ?? key) : key;
    const seen = totals.get(name);
    if (seen === undefined && totals.size >= MAX_STATS) continue;
    totals.set(name, (seen ?? 0) + value);
  }
  return true;
}

/** Parses `conntrack -S`; never throws. */
export function parseConntrackStats(text: string): ConntrackStats {
  const totals = new Map<string, number>();
  let cpus = 0;
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    const first = fields[0] ?? '';
    if (first === '') continue;
    if (!CPU.test(first) || !parseStatLine(fields.slice(1), totals)) {
      malformed++;
      continue;
    }
    cpus++;
  }
  return { totals, cpus, malformed };
}

/** One non-negative integer sysctl value (`262144\n`); undefined when it is not one. */
export function parseSysctlCount(text: string): number | undefined {
  const t = text.trim();
  return DIGITS.test(t) ? Number(t) : undefined;
}
