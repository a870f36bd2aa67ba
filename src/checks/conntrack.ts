/**
 * The conntrack host check: table fill of one network namespace, the kernel's conntrack
 * statistics, and the top talkers of the table (flows, and bytes/packets with accounting).
 *
 * Per run, in order (the first failure ends the run; samples gathered so far are kept):
 *  1. nf_conntrack_count / nf_conntrack_max: read under `paths.procfs` in wireprobe's own
 *     namespace, else `ip netns exec NS cat /proc/sys/...`. The count is per namespace; the
 *     maximum is one global value on recent kernels (read-only inside other namespaces) that the
 *     kernel applies to each namespace's own count, so the fill ratio is per namespace.
 *  2. `conntrack -S` (netlink, per-CPU lines, summed).
 *  3. `conntrack -L` streamed through the worker pool (see conntrack-list.ts).
 * Then the expectations: fill ratio ≤ fill_ratio_max, largest source share ≤ talker_share_max
 * (when set, and only with at least talker_min_flows flows listed).
 */
import type { CheckInstanceConfig } from '../config/types.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, ErrorCodes, errorMessage, isAppError } from '../lib/errors.js';
import type { ExecFn } from '../lib/exec.js';
import type { FlowAggregate } from './conntrack-flows.js';
import { listFlows } from './conntrack-list.js';
import { CONNTRACK_METRICS, fillRatio, flowSamples, statSamples, tableSamples, type TableSize } from './conntrack-metrics.js';
import { type ConntrackStats, parseConntrackStats, parseSysctlCount } from './conntrack-stats.js';
import type { CheckContext, CheckDeps, CheckInstance, CheckKind, CheckResult, Sample } from './types.js';

/** The instance's options as validated and defaulted by `#/$defs/check_conntrack`. */
export interface ConntrackOptions extends CheckInstanceConfig {
  /** a named namespace (/run/netns/NAME); absent: wireprobe's own */
  readonly netns?: string;
  readonly top_n: number;
  readonly talker_share_max?: number;
  readonly talker_min_flows: number;
  readonly fill_ratio_max: number;
}

export type ConntrackReason = 'conntrack_full' | 'talker_share' | 'conntrack_unavailable' | 'permission_denied' | 'timeout' | 'parse_error';

const SYSCTL_DIR = 'sys/net/netfilter';
/** per worker task: small batches keep the workers' heaps small (measured: 4 MiB batches cost ~80 MB more peak RSS) */
const BATCH_BYTES = 1024 * 1024;
const PERMISSION = /not permitted|permission denied|must be root|CAP_NET_ADMIN/i;

interface RunEnv {
  readonly opts: ConntrackOptions;
  readonly deps: CheckDeps;
  readonly signal: AbortSignal;
  /** ms left until the run's deadline (at least 1) */
  readonly left: () => number;
  /** `ip netns exec NS` or nothing */
  readonly prefix: readonly string[];
}

/** A failed command as a coded error: permission problems apart from everything else. */
function commandError(argv: readonly string[], code: number | null, stderr: string): AppError {
  const last = stderr.trim().split('\n').pop()?.slice(0, 300) ?? '';
  const what = `${argv.join(' ')}: exit ${code ?? 'signal'}${last === '' ? '' : `: ${last}`}`;
  return new AppError(PERMISSION.test(stderr) ? ErrorCodes.CHK_ERR_PERMISSION : ErrorCodes.CHK_ERR_UNAVAILABLE, what);
}

async function run(env: RunEnv, exec: ExecFn, argv: readonly string[], maxBytes: number): Promise<string> {
  const full = [...env.prefix, ...argv];
  const r = await exec(full, { signal: env.signal, timeoutMs: env.left(), maxBytes });
  if (r.code !== 0) throw commandError(full, r.code, r.stderr);
  return r.stdout;
}

function sysctlValue(text: string | undefined, what: string): number {
  const v = text === undefined ? undefined : parseSysctlCount(text);
  if (v === undefined) throw new AppError(ErrorCodes.CHK_ERR_PARSE, `${what}: not a count: ${JSON.stringify(text?.slice(0, 40))}`);
  return v;
}

async function readOwnSysctl(env: RunEnv, key: string): Promise<string> {
  const path = join(env.deps.paths.procfs, SYSCTL_DIR, key);
  try {
    return await readFile(path, { encoding: 'utf8', signal: env.signal });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError(ErrorCodes.CHK_ERR_UNAVAILABLE, `${path} missing: nf_conntrack is not loaded`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM') throw new AppError(ErrorCodes.CHK_ERR_PERMISSION, `${path}: ${errorMessage(e)}`, { cause: e });
    throw e;
  }
}

async function readTable(env: RunEnv): Promise<TableSize> {
  const keys = ['nf_conntrack_count', 'nf_conntrack_max'] as const;
  let texts: (string | undefined)[];
  if (env.opts.netns === undefined) {
    texts = await Promise.all(keys.map((k) => readOwnSysctl(env, k)));
  } else {
    const out = await run(env, env.deps.exec, ['cat', ...keys.map((k) => `/proc/${SYSCTL_DIR}/${k}`)], 4096);
    texts = out.split('\n');
  }
  return { entries: sysctlValue(texts[0], keys[0]), max: sysctlValue(texts[1], keys[1]) };
}

async function readStats(env: RunEnv): Promise<ConntrackStats> {
  const stats = parseConntrackStats(await run(env, env.deps.exec, ['conntrack', '-S'], 64 * 1024));
  if (stats.cpus === 0) throw new AppError(ErrorCodes.CHK_ERR_PARSE, `conntrack -S: no per-CPU statistics (${stats.malformed} other lines)`);
  return stats;
}

async function readFlows(env: RunEnv): Promise<FlowAggregate> {
  const argv = [...env.prefix, 'conntrack', '-L'];
  const out = await listFlows(argv, env.deps.stream, env.deps.pool, {
    signal: env.signal,
    timeoutMs: env.left(),
    batchBytes: BATCH_BYTES,
    maxInFlight: env.deps.pool.threads + 1,
  });
  if (out.code !== 0) throw commandError(argv, out.code, out.stderr);
  return out.aggregate;
}

function reasonOf(e: unknown, signal: AbortSignal): ConntrackReason {
  if (signal.aborted || isAppError(e, ErrorCodes.OP_ERR_TIMEOUT)) return 'timeout';
  if (isAppError(e, ErrorCodes.CHK_ERR_PERMISSION)) return 'permission_denied';
  // a failed command (missing binary or namespace, nf_conntrack absent, a netlink error)
  if (isAppError(e, ErrorCodes.CHK_ERR_UNAVAILABLE) || isAppError(e, ErrorCodes.EXEC_ERR_SPAWN)) return 'conntrack_unavailable';
  // CHK_ERR_PARSE, EXEC_ERR_OUTPUT, a failed worker task
  return 'parse_error';
}

/** The expectations, on a complete run. */
function judge(opts: ConntrackOptions, table: TableSize, flows: FlowAggregate, samples: Sample[]): CheckResult {
  const problems: { reason: ConntrackReason; message: string }[] = [];
  const fill = fillRatio(table);
  if (fill > opts.fill_ratio_max) {
    problems.push({ reason: 'conntrack_full', message: `table ${(fill * 100).toFixed(1)} % full (${table.entries}/${table.max}), limit ${opts.fill_ratio_max}` });
  }
  const share = flows.topSourceShare();
  if (opts.talker_share_max !== undefined && flows.flows >= opts.talker_min_flows && share > opts.talker_share_max) {
    const top = flows.sources.top('flows', 1)[0];
    problems.push({
      reason: 'talker_share',
      message: `source ${top?.address ?? '?'} holds ${top?.value ?? 0} of ${flows.flows} flows (${(share * 100).toFixed(1)} %), limit ${opts.talker_share_max}`,
    });
  }
  const first = problems[0];
  if (first === undefined) return { ok: true, samples };
  return { ok: false, reason: first.reason, message: `conntrack ${opts.name}: ${problems.map((p) => p.message).join('; ')}`, samples };
}

function create(opts: ConntrackOptions, deps: CheckDeps): CheckInstance {
  const log = deps.log.child('check-conntrack');
  const prefix = opts.netns === undefined ? [] : ['ip', 'netns', 'exec', opts.netns];
  return {
    async run(ctx: CheckContext): Promise<CheckResult> {
      const started = deps.clock.monoMs();
      const deadline = started + opts.timeout * 1000;
      const env: RunEnv = { opts, deps, signal: ctx.signal, prefix, left: () => Math.max(1, Math.round(deadline - deps.clock.monoMs())) };
      const samples: Sample[] = [];
      try {
        const table = await readTable(env);
        samples.push(...tableSamples(table));
        samples.push(...statSamples(await readStats(env)));
        const flows = await readFlows(env);
        samples.push(...flowSamples(flows, opts.top_n));
        log.debug('conntrack listed', { name: opts.name, flows: flows.flows, unparsed: flows.malformed, ms: Math.round(deps.clock.monoMs() - started) });
        return judge(opts, table, flows, samples);
      } catch (e) {
        return { ok: false, reason: reasonOf(e, ctx.signal), message: `conntrack ${opts.name}: ${errorMessage(e)}`, samples };
      }
    },
  };
}

export const conntrackCheck: CheckKind<ConntrackOptions> = {
  kind: 'conntrack',
  metrics: CONNTRACK_METRICS,
  create,
};
