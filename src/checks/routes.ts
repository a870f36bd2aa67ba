/**
 * Routes check: reads one routing table (or a VRF's) with `ip -json route show` and checks the
 * number of routes, exact prefixes (present or absent, next hops, null routes) and, separately,
 * that addresses are routable (`ip -json route get`: a default route counts there, never for a
 * prefix). Parsing and evaluation are pure (routes-parse.ts).
 */
import type { CheckInstanceConfig } from '../config/types.js';
import { errorMessage, isAppError } from '../lib/errors.js';
import type { ExecResult } from '../lib/exec.js';
import {
  evaluateTable,
  firstReason,
  isRoutable,
  parseRoutes,
  type Failure,
  type PrefixExpectation,
  type RouteFamily,
} from './routes-parse.js';
import type { CheckDeps, CheckKind, CheckResult, Sample } from './types.js';

export interface RoutesOptions extends CheckInstanceConfig {
  readonly family: RouteFamily;
  readonly table: number | string;
  readonly vrf?: string;
  readonly count_min?: number;
  readonly count_max?: number;
  readonly prefixes: readonly PrefixExpectation[];
  readonly routable: readonly string[];
}

const FAMILY_FLAG = { ipv4: '-4', ipv6: '-6' } as const;

function ipFailed(what: string, detail: string): CheckResult {
  return { ok: false, reason: 'ip_failed', message: `${what}: ${detail}`, samples: [] };
}

/** stderr's first line, or the exit status */
function why(r: ExecResult): string {
  return r.stderr.trim().split('\n')[0] || `exit status ${r.code ?? r.signal}`;
}

function createRoutes(o: RoutesOptions, deps: CheckDeps) {
  const flag = FAMILY_FLAG[o.family];
  const vrf = o.vrf !== undefined ? ['vrf', o.vrf] : [];
  const showArgv = ['ip', '-json', flag, 'route', 'show', ...(vrf.length > 0 ? vrf : ['table', String(o.table)])];
  const show = showArgv.join(' ');
  const tableLabel = o.vrf !== undefined ? `vrf:${o.vrf}` : String(o.table);
  const timeoutMs = o.timeout * 1000;

  /** exec errors other than a timeout (the runner reports those) are returned, not thrown */
  const exec = async (argv: string[], signal: AbortSignal): Promise<ExecResult | Error> => {
    try {
      return await deps.exec(argv, { signal, timeoutMs });
    } catch (e) {
      if (isAppError(e, 'OP_ERR_TIMEOUT')) throw e;
      return e instanceof Error ? e : new Error(String(e));
    }
  };

  const routable = async (signal: AbortSignal): Promise<{ samples: Sample[]; failures: Failure[] }> => {
    const samples: Sample[] = [];
    const failures: Failure[] = [];
    for (const address of o.routable) {
      const r = await exec(['ip', '-json', flag, 'route', 'get', ...vrf, address], signal);
      const ok = !(r instanceof Error) && isRoutable(r.code, r.stdout, o.family);
      samples.push({ metric: 'wireprobe_route_routable', labels: { address }, value: ok ? 1 : 0 });
      if (!ok) failures.push({ reason: 'not_routable', detail: `${address}: ${r instanceof Error ? r.message : why(r)}` });
    }
    return { samples, failures };
  };

  return {
    async run({ signal }: { signal: AbortSignal }): Promise<CheckResult> {
      const r = await exec(showArgv, signal);
      if (r instanceof Error) return ipFailed(show, errorMessage(r));
      if (r.code !== 0) return ipFailed(show, why(r));
      const routes = parseRoutes(r.stdout, o.family);
      if (routes === null) return ipFailed(show, 'output is not the JSON list expected');
      const table = evaluateTable(routes, { ...o, table: tableLabel });
      const get = await routable(signal);
      const failures = [...table.failures, ...get.failures];
      const samples = [...table.samples, ...get.samples];
      if (failures.length === 0) return { ok: true, samples };
      return { ok: false, reason: firstReason(failures), message: failures.map((f) => f.detail).join('; '), samples };
    },
  };
}

const L = ['prefix'];

export const routesCheck: CheckKind<RoutesOptions> = {
  kind: 'routes',
  metrics: [
    { name: 'wireprobe_route_entries', help: 'Routes of the family in the checked table (every type)', type: 'gauge', labelNames: ['family', 'table'] },
    { name: 'wireprobe_route_present', help: 'Whether the exact prefix is in the table (a covering route does not count)', type: 'gauge', labelNames: L },
    {
      name: 'wireprobe_route_null',
      help: 'Whether a route for the prefix is a blackhole, unreachable or prohibit route',
      type: 'gauge',
      labelNames: L,
    },
    { name: 'wireprobe_route_next_hops', help: 'Distinct next hops of the prefix (multipath: one per path)', type: 'gauge', labelNames: L },
    {
      name: 'wireprobe_route_next_hops_ok',
      help: 'Whether the next hops of the prefix are as configured (next_hops_any / next_hops_exact)',
      type: 'gauge',
      labelNames: L,
    },
    { name: 'wireprobe_route_routable', help: 'Whether the kernel has a usable route to the address (ip route get)', type: 'gauge', labelNames: ['address'] },
  ],
  create: (options, deps) => createRoutes(options, deps),
};
