/**
 * What the app hands to each subsystem (subsystems/index.ts), and what a subsystem is: a
 * Service (lib/service.ts) that may also serve HTTP routes and add fields to the start log line.
 */
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import type { CheckDeps } from '../checks/types.js';
import type { Config } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { ExecFn, StreamFn } from '../lib/exec.js';
import type { LogFields, Logger } from '../lib/logger.js';
import type { Service } from '../lib/service.js';
import type { StatusSection } from '../lib/status-section.js';
import type { HostPacketIo } from '../net/types.js';
import type { OperationRunner } from '../operations/types.js';
import type { TargetSources } from '../targets/sources.js';
import type { WorkerPool } from '../workers/pool.js';

export interface SubsystemContext {
  /** the config at start; later ones arrive through Service.reload (or targets.onConfig) */
  readonly config: Config;
  readonly clock: Clock;
  /** the app's logger; a subsystem logs through a child of it */
  readonly log: Logger;
  /** the app's registry, where a subsystem registers its metrics */
  readonly registry: Registry;
  /** wireprobe's version */
  readonly version: string;
  /** the running target set (file, API, inventories) */
  readonly targets: TargetSources;
  /** bounded commands */
  readonly exec: ExecFn;
  readonly stream: StreamFn;
  /** filesystem roots (/proc, /sys; fixture trees in tests) */
  readonly paths: CheckDeps['paths'];
  /** the worker pool, for parsing large inputs off the main thread */
  readonly pool: WorkerPool;
  /** link-level packet I/O on host interfaces, opened on first use */
  readonly hostIo: HostPacketIo;
  /** on-demand ping, traceroute and mtr through the probe engine */
  readonly operations: OperationRunner;
}

export interface Subsystem extends Service<Config> {
  /** mounted at the root of the HTTP server, before /metrics */
  readonly router?: Router;
  /** fields added to the "probing" log line once everything started */
  summary?(): LogFields;
  /** a table for the status page (host checks' last results, …) */
  statusSection?(): StatusSection;
}

/**
 * Builds a subsystem at app creation, importing its modules then; null when the config does not
 * enable it (nothing of it is loaded).
 */
export type SubsystemFactory = (ctx: SubsystemContext) => Promise<Subsystem | null>;
