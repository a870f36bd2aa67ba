/**
 * The member's NATS connection, supervised: connects in the background (never blocking the
 * start, never stopping probing), retries failed attempts forever with a doubling delay (1 s up
 * to 30 s), lets the client reconnect by itself after a drop, and starts again from scratch
 * when the client gives up (e.g. credentials refused after a server restart). Each established
 * connection runs the registered sessions (membership, dispatch handling); a session's cleanup
 * runs when its connection closes. Errors are logged once per distinct cause.
 */
import { readFileSync } from 'node:fs';
import { AuthorizationError, connect, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { FleetConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/** Runs on each new connection; returns its cleanup. */
export type Session = (nc: NatsConnection) => () => void;

export interface FleetLink {
  readonly state: LinkState;
  /** the open connection, null while not connected */
  readonly connection: NatsConnection | null;
  /** the last connection failure, for status and logs; null once connected */
  readonly lastError: AppError | null;
  start(): void;
  stop(): Promise<void>;
}

const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** bound on closing the connection at stop */
const CLOSE_MS = 2000;

/** The client options of a fleet config: servers, timeout, credentials, TLS. */
export function connectOptions(cfg: FleetConfig, name: string): NodeConnectionOptions {
  const creds = cfg.credentials;
  return {
    servers: [...cfg.servers],
    name,
    timeout: cfg.connect_timeout * 1000,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    ...(creds.kind === 'token' ? { token: creds.token } : {}),
    ...(creds.kind === 'nkey' ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(creds.seed)) } : {}),
    ...(cfg.tls === null
      ? {}
      : {
          tls: {
            ca: readFileSync(cfg.tls.ca_file, 'utf8'),
            ...(cfg.tls.cert_file === null ? {} : { cert: readFileSync(cfg.tls.cert_file, 'utf8') }),
            ...(cfg.tls.key_file === null ? {} : { key: readFileSync(cfg.tls.key_file, 'utf8') }),
          },
        }),
  };
}

/** A connection failure as a coded error: refused credentials apart from the rest. */
export function connectError(e: unknown, servers: readonly string[]): AppError {
  if (e instanceof AuthorizationError || /authoriz|authentic/i.test(errorMessage(e))) {
    return new AppError(ErrorCodes.FLEET_ERR_AUTH, `NATS refused the fleet credentials (${errorMessage(e)}); check fleet.token, token_file or nkey_seed_file`, { cause: e });
  }
  return new AppError(ErrorCodes.FLEET_ERR_CONNECT, `cannot connect to NATS at ${servers.join(', ')}: ${errorMessage(e)}`, { cause: e });
}

/** One connection attempt, for the CLI: a coded error when it fails. */
export async function connectOnce(cfg: FleetConfig, name: string): Promise<NatsConnection> {
  try {
    return await connect({ ...connectOptions(cfg, name), reconnect: false });
  } catch (e) {
    throw connectError(e, cfg.servers);
  }
}

export interface LinkDeps {
  readonly config: FleetConfig;
  /** the client name (`wireprobe:<probe_name>`) */
  readonly name: string;
  readonly sessions: readonly Session[];
  readonly clock: Clock;
  readonly log: Logger;
  /** state changes, for the connection gauge */
  onState(state: LinkState): void;
  /** a failed attempt, for the metrics */
  onFailure(error: AppError): void;
}

export function createFleetLink(deps: LinkDeps): FleetLink {
  const { config, clock, log } = deps;
  let state: LinkState = 'connecting';
  let nc: NatsConnection | null = null;
  let lastError: AppError | null = null;
  let stopped = false;
  let retry: TimerHandle | null = null;
  let wake: (() => void) | null = null;
  let loop: Promise<void> | null = null;

  const setState = (s: LinkState): void => {
    if (s === state) return;
    state = s;
    deps.onState(s);
  };

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    wake = resolve;
    retry = clock.setTimer(ms, resolve);
  });

  const follow = async (conn: NatsConnection): Promise<void> => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect') {
        setState('reconnecting');
        log.warn('fleet: disconnected from NATS; reconnecting', { server: s.server });
      } else if (s.type === 'reconnect') {
        setState('connected');
        log.info('fleet: reconnected to NATS', { server: s.server });
      } else if (s.type === 'error' && 'error' in s) {
        log.warn('fleet: NATS error', { error: errorMessage(s.error) });
      }
    }
  };

  const session = async (conn: NatsConnection): Promise<void> => {
    nc = conn;
    lastError = null;
    setState('connected');
    log.info('fleet: connected to NATS', { server: conn.getServer() });
    void follow(conn).catch(() => undefined);
    const cleanups = deps.sessions.map((s) => s(conn));
    const err = await conn.closed();
    for (const c of cleanups) c();
    nc = null;
    if (!stopped) {
      setState('connecting');
      log.warn('fleet: NATS connection closed; connecting again', { error: err === undefined ? 'closed' : errorMessage(err) });
    }
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopped) {
      let conn: NatsConnection;
      try {
        conn = await connect(connectOptions(config, deps.name));
      } catch (e) {
        const error = connectError(e, config.servers);
        deps.onFailure(error);
        if (lastError?.message !== error.message) log.error('fleet: NATS connection failed; probing goes on, retrying', { code: error.code, error: error.message });
        lastError = error;
        failures += 1;
        await sleep(Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** Math.min(failures - 1, 10)));
        continue;
      }
      failures = 0;
      if (stopped) {
        await conn.close();
        return;
      }
      await session(conn);
    }
  };

  return {
    get state() {
      return state;
    },
    get connection() {
      return nc;
    },
    get lastError() {
      return lastError;
    },
    start() {
      deps.onState(state);
      loop = run().catch((e: unknown) => log.error('fleet: connection loop failed', { error: errorMessage(e) }));
    },
    async stop() {
      stopped = true;
      retry?.cancel();
      wake?.();
      setState('stopped');
      const conn = nc;
      if (conn !== null) {
        let timer: TimerHandle | null = null;
        await Promise.race([
          conn.close().catch(() => undefined),
          new Promise<void>((resolve) => { timer = clock.setTimer(CLOSE_MS, resolve); }),
        ]);
        (timer as TimerHandle | null)?.cancel();
      }
      await loop;
    },
  };
}
