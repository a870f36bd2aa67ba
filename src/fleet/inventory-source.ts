/**
 * The shared inventory (the `fleet` inventory plugin's source): a JetStream key-value bucket
 * whose values are `{"select": "<selector>", "target": <entry>}`; this member's share is the
 * entries whose selector matches its labels (`name` included). Each plugin keeps its own NATS
 * connection (supervised like the member's, see connection.ts) and a live copy of the bucket
 * through a watch; every change calls the supervisor at once (debounced 50 ms). The copy is kept
 * while NATS is unreachable, so the listing serves the last known share; before the first
 * synchronisation a listing fails (reason `io`) and the supervisor keeps its last good list.
 */
import { Kvm } from '@nats-io/kv';
import type { FleetConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { InventoryError, type InventoryPlugin, type SharedInventorySource } from '../inventory/types.js';
import { isObj } from '../lib/obj.js';
import { createFleetLink } from './connection.js';
import { decode } from './protocol.js';
import { parseSelector, selects } from './selector.js';

const DEBOUNCE_MS = 50;

export interface SharedInventoryDeps {
  readonly config: FleetConfig;
  /** probe_name */
  readonly member: string;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The entry of one bucket value when it selects `labels`; null otherwise (or when malformed). */
export function shareOf(value: unknown, labels: Readonly<Record<string, string>>): unknown {
  if (!isObj(value) || typeof value.select !== 'string' || !isObj(value.target)) return null;
  try {
    return selects(parseSelector(value.select), labels) ? value.target : null;
  } catch {
    return null;
  }
}

export function createSharedInventory(deps: SharedInventoryDeps): SharedInventorySource {
  const labels = { ...deps.config.labels, name: deps.member };
  return {
    plugin(bucket): InventoryPlugin {
      const log = deps.log.child(`fleet-inventory.${bucket}`);
      let values: Map<string, unknown> | null = null;
      let synced: () => void = () => undefined;
      const first = new Promise<void>((resolve) => { synced = resolve; });
      return {
        async list(signal) {
          if (values === null) {
            // the first listing waits for the first synchronisation, bounded by the supervisor's timeout
            await Promise.race([first, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
          }
          if (values === null) throw new InventoryError('io', `not synchronised with the fleet bucket ${bucket} (NATS unreachable?)`);
          const targets = [...values.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .flatMap(([, v]) => {
              const entry = shareOf(v, labels);
              return entry === null ? [] : [entry];
            });
          return { targets };
        },
        watch(changed) {
          let pending: TimerHandle | null = null;
          const soon = (): void => {
            pending?.cancel();
            pending = deps.clock.setTimer(DEBOUNCE_MS, changed);
          };
          const link = createFleetLink({
            config: deps.config,
            name: `wireprobe:${deps.member}:inventory`,
            clock: deps.clock,
            log,
            onState: () => undefined,
            onFailure: () => undefined,
            sessions: [
              (nc) => {
                let stop: (() => void) | null = null;
                let closed = false;
                void (async () => {
                  const kv = await new Kvm(nc).create(bucket, { history: 1 });
                  const fresh = new Map<string, unknown>();
                  const watch = await kv.watch();
                  stop = () => watch.stop();
                  if (closed) watch.stop();
                  if ((await kv.status()).values === 0) {
                    values = fresh;
                    synced();
                    soon();
                  }
                  for await (const e of watch) {
                    if (e.operation === 'PUT') fresh.set(e.key, decode(e.value));
                    else fresh.delete(e.key);
                    if (e.delta === 0 || values === fresh) {
                      values = fresh;
                      synced();
                      soon();
                    }
                  }
                })().catch((e: unknown) => {
                  if (!closed) log.warn('fleet inventory: cannot follow the bucket', { bucket, error: errorMessage(e) });
                });
                return () => {
                  closed = true;
                  stop?.();
                };
              },
            ],
          });
          link.start();
          return () => {
            pending?.cancel();
            void link.stop();
          };
        },
      };
    },
  };
}
