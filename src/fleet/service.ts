/**
 * The fleet as a service (one entry in subsystems/index.ts): the supervised NATS link running
 * the heartbeat, the member directory and the request executor, plus the HTTP routes under
 * /api/v1/fleet: members (read), Prometheus service discovery (read) and operations dispatched
 * to one member, a selector or all (operate). NATS being down never blocks the start nor the
 * probing; the routes then answer 503. The `fleet:` section is read at start only.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { CheckKinds } from '../checks/runner.js';
import type { CheckDeps } from '../checks/types.js';
import type { Config, FleetConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { AppError, ErrorCodes, errorMessage, isAppError } from '../lib/errors.js';
import type { LogFields, Logger } from '../lib/logger.js';
import { isObj } from '../lib/obj.js';
import type { ReloadOutcome, Service } from '../lib/service.js';
import type { OperationRunner } from '../operations/types.js';
import { createOnDemandChecks } from './checks.js';
import { createFleetLink } from './connection.js';
import { dispatch, type DispatchReport } from './dispatch.js';
import { executorSession } from './executor.js';
import { createMemberDirectory, heartbeatSession, openMembersBucket } from './members.js';
import { createFleetMetrics } from './metrics.js';
import { createPolicy } from './policy.js';
import { isLive, type FleetReply, type MemberRecord } from './protocol.js';
import { serviceDiscovery } from './sd.js';
import { ALL, parseSelector, selects, type Selector } from './selector.js';
import { parseOperation } from './spec.js';

/** An authorization refusal (the API's error: status, code, message, headers). */
export interface HttpRefusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** `operate` scope for dispatching (until the API has it, the wiring maps it to `write`). */
export type FleetScope = 'read' | 'operate';

export interface FleetDeps {
  /** the config at start; must have an enabled `fleet:` section */
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
  readonly registry: Registry;
  readonly version: string;
  /** this machine's host name (for the default metrics address) */
  readonly hostname: string;
  /** the app's operations engine (ping, traceroute, mtr) */
  readonly operations: OperationRunner;
  readonly checks: { readonly kinds: CheckKinds; readonly deps: CheckDeps };
  authorize(header: string | undefined, need: FleetScope): HttpRefusal | null;
}

export interface Fleet extends Service<Config> {
  readonly router: Router;
  summary(): LogFields;
}

export const FLEET_PREFIX = '/api/v1/fleet';
/** bound on deleting this member's record at stop */
const LEAVE_MS = 1000;
const BODY_LIMIT = '64kb';

/** `host:port` Prometheus scrapes this member at. */
export function metricsAddress(config: Config, hostname: string): string {
  const fleet = config.fleet;
  if (fleet?.metrics_url !== undefined && fleet.metrics_url !== null) return fleet.metrics_url;
  const a = config.global.prometheus_address;
  const host = a === '' || a === '0.0.0.0' || a === '::' || a === '[::]' ? hostname : a.includes(':') ? `[${a}]` : a;
  return `${host}:${config.global.prometheus_port}`;
}

/** The live members a selector (or one member's name) addresses. */
export function selectMembers(members: readonly MemberRecord[], selector: Selector, nowMs: number): MemberRecord[] {
  return members.filter((m) => isLive(m, nowMs) && selects(selector, { ...m.labels, name: m.name }));
}

export function createFleet(deps: FleetDeps): Fleet {
  const { clock, log } = deps;
  const fleet = deps.config.fleet as FleetConfig;
  const member = deps.config.global.probe_name;
  let config = deps.config;
  const startedMs = clock.wallMs();
  const directory = createMemberDirectory(log);
  const metrics = createFleetMetrics(deps.registry, () => {
    const all = directory.all();
    const live = all.filter((m) => isLive(m, clock.wallMs())).length;
    return { live, gone: all.length - live };
  });
  const policy = createPolicy(fleet.allow);
  const labels = { ...fleet.labels, name: member };
  const metricsAt = metricsAddress(deps.config, deps.hostname);
  const record = (): MemberRecord => ({
    name: member,
    labels,
    version: deps.version,
    metrics: metricsAt,
    heartbeatMs: clock.wallMs(),
    heartbeatS: fleet.heartbeat_interval,
    goneAfterS: fleet.gone_after,
    startedMs,
    operations: fleet.allow.operations,
  });
  const link = createFleetLink({
    config: fleet,
    name: `wireprobe:${member}`,
    clock,
    log,
    onState: (s) => metrics.state(s),
    onFailure: (e) => metrics.connectFailure(e.code),
    sessions: [
      directory.session,
      heartbeatSession({ record, intervalMs: fleet.heartbeat_interval * 1000, clock, log, onHeartbeat: () => metrics.heartbeat() }),
      executorSession({
        member,
        policy: () => policy,
        operations: deps.operations,
        checks: createOnDemandChecks(deps.checks.kinds, deps.checks.deps, () => config),
        clock,
        log,
        onRequest: (o) => metrics.request(o),
      }),
    ],
  });

  const refuse = (res: Response, status: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}): void => {
    res.status(status).set(headers).json({ error: { code, message } });
  };
  const gate = (need: FleetScope) => (req: Request, res: Response, next: () => void): void => {
    const r = deps.authorize(req.get('authorization'), need);
    if (r !== null) return refuse(res, r.status, r.code, r.message, r.headers);
    next();
  };

  const runDispatch = async (body: unknown, origin: string, onReply?: (r: FleetReply) => void, signal?: AbortSignal): Promise<DispatchReport> => {
    const nc = link.connection;
    if (nc === null) throw new AppError(ErrorCodes.FLEET_ERR_UNAVAILABLE, 'not connected to NATS');
    if (!isObj(body)) throw new AppError(ErrorCodes.FLEET_ERR_REQUEST, 'the body must be a JSON object');
    const { select, member: one, deadline } = body;
    if (select !== undefined && typeof select !== 'string') throw new AppError(ErrorCodes.FLEET_ERR_REQUEST, 'select must be a selector string');
    if (one !== undefined && typeof one !== 'string') throw new AppError(ErrorCodes.FLEET_ERR_REQUEST, 'member must be a member name');
    const d = deadline ?? fleet.dispatch.default_deadline;
    if (typeof d !== 'number' || !(d > 0) || d > fleet.dispatch.max_deadline) {
      throw new AppError(ErrorCodes.FLEET_ERR_REQUEST, `deadline must be a number of seconds above 0 and at most ${fleet.dispatch.max_deadline}`);
    }
    const selector = one !== undefined ? parseSelector(`name=${one}`) : select === undefined ? ALL : parseSelector(select);
    const operation = parseOperation(body.operation);
    const members = selectMembers(directory.all(), selector, clock.wallMs());
    if (members.length > fleet.dispatch.max_members) {
      throw new AppError(ErrorCodes.FLEET_ERR_REQUEST, `${members.length} members selected; at most ${fleet.dispatch.max_members} (fleet.dispatch.max_members)`);
    }
    log.info('fleet dispatch', { origin, kind: operation.kind, members: members.length });
    metrics.dispatched(members.length);
    const report = await dispatch(nc, {
      members, operation, deadlineMs: d * 1000, origin, clock,
      ...(onReply === undefined ? {} : { onReply }),
      ...(signal === undefined ? {} : { signal }),
    });
    for (const m of report.members) metrics.answered(m.status);
    return report;
  };

  const failure = (res: Response, e: unknown): void => {
    if (isAppError(e, ErrorCodes.FLEET_ERR_UNAVAILABLE)) return refuse(res, 503, e.code, e.message);
    if (isAppError(e, ErrorCodes.FLEET_ERR_REQUEST) || isAppError(e, ErrorCodes.FLEET_ERR_SELECTOR)) return refuse(res, 422, e.code, e.message);
    log.error('fleet request failed', { error: errorMessage(e) });
    refuse(res, 500, ErrorCodes.API_ERR_INTERNAL, 'internal error; see the wireprobe log');
  };

  const router = express.Router();
  const v1 = express.Router();
  v1.get('/members', gate('read'), (_req, res) => {
    const now = clock.wallMs();
    const members = [...directory.all()].sort((a, b) => a.name.localeCompare(b.name)).map((m) => ({ ...m, live: isLive(m, now) }));
    res.json({ connected: link.state === 'connected', members });
  });
  v1.get('/sd', gate('read'), (_req, res) => {
    res.json(serviceDiscovery(directory.all(), clock.wallMs()));
  });
  v1.post('/operations', gate('operate'), express.json({ limit: BODY_LIMIT }), (req, res) => {
    const origin = `${member}/api ${req.ip ?? ''}`.trim();
    if (!(req.get('accept') ?? '').includes('text/event-stream')) {
      runDispatch(req.body, origin).then((r) => res.json(r), (e: unknown) => failure(res, e));
      return;
    }
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' }).flushHeaders();
    };
    const write = (event: string, data: unknown): void => {
      start();
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    runDispatch(req.body, origin, (r) => write('reply', r), ac.signal).then(
      (r) => {
        write('report', r);
        res.end();
      },
      (e: unknown) => (started ? res.end() : failure(res, e)),
    );
  });
  v1.use((err: unknown, _req: Request, res: Response, _next: () => void) => {
    const status = isObj(err) && typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 400;
    refuse(res, status, ErrorCodes.API_ERR_BAD_REQUEST, 'the request body is not JSON, or too large');
  });
  router.use(FLEET_PREFIX, v1);

  let leaving: TimerHandle | null = null;
  return {
    name: 'fleet',
    router,
    summary: () => ({ fleet_member: member, fleet_servers: fleet.servers.join(',') }),
    start() {
      link.start();
    },
    async stop() {
      const nc = link.connection;
      if (nc !== null) {
        await Promise.race([
          openMembersBucket(nc).then((kv) => kv.delete(member)).catch(() => undefined),
          new Promise<void>((resolve) => { leaving = clock.setTimer(LEAVE_MS, resolve); }),
        ]);
        leaving?.cancel();
      }
      await link.stop();
    },
    reload(next): ReloadOutcome {
      const changed = JSON.stringify(next.fleet) !== JSON.stringify(config.fleet);
      config = next;
      if (changed) log.warn('fleet: changes to the fleet: section take effect at the next restart');
      return 'applied';
    },
  };
}
