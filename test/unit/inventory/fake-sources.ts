/** A TargetSources that records replace() calls, over a real parsed Config. */
import { parseConfig } from '../../../src/config/load.js';
import type { Config, TargetConfig } from '../../../src/config/types.js';
import type { RunningTarget, TargetOrigin, TargetSources } from '../../../src/targets/sources.js';

export const BASE_CONFIG = [
  'global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}',
  'groups:',
  '  g1: {}',
  '  g2: {permit_target_auto_register: false}',
].join('\n');

export function loadConfig(text: string, file = '/etc/wireprobe/config.yaml'): Config {
  return parseConfig(text, file).config;
}

export class FakeSources implements TargetSources {
  #config: Config;
  readonly #listeners = new Set<(config: Config) => void>();
  readonly current = new Map<string, readonly TargetConfig[]>();
  readonly calls: { origin: string; names: string[] }[] = [];
  #waiters: (() => void)[] = [];

  constructor(config: Config) {
    this.#config = config;
  }

  config(): Config {
    return this.#config;
  }

  ownerOf(name: string): TargetOrigin | undefined {
    if (Object.hasOwn(this.#config.targets, name)) return 'file';
    for (const [origin, targets] of this.current) {
      if (targets.some((t) => t.name === name)) return origin as TargetOrigin;
    }
    return undefined;
  }

  *running(): Iterable<RunningTarget> {
    for (const target of Object.values(this.#config.targets)) yield { origin: 'file', target };
    for (const [origin, targets] of this.current) {
      for (const target of targets) yield { origin: origin as TargetOrigin, target };
    }
  }

  replace(origin: Exclude<TargetOrigin, 'file'>, targets: readonly TargetConfig[]): void {
    this.current.set(origin, targets);
    this.calls.push({ origin, names: targets.map((t) => t.name) });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  onConfig(listener: (config: Config) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** a successful reload */
  reload(config: Config): void {
    this.#config = config;
    for (const l of this.#listeners) l(config);
  }

  names(origin: string): string[] {
    return (this.current.get(origin) ?? []).map((t) => t.name);
  }

  /** resolves at the first replace() after which `pred` holds (real time, bounded) */
  async until(pred: () => boolean, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${timeoutMs} ms; calls: ${JSON.stringify(this.calls)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
