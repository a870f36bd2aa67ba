// Configs, fakes and a metrics reader for the target parts' tests.
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { createCatalog, type Catalog } from '../../../src/metrics/catalog.js';
import type { PreparedProbe } from '../../../src/probes/types.js';
import { probeKinds } from '../../../src/probes/index.js';
import type { SchedTask } from '../../../src/scheduler/loop.js';

const GLOBAL = 'global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000, percentile: [95, 50]}';

/** A config of these groups and targets (YAML flow mappings, one per line). */
export function configOf(groups: Record<string, string>, targets: Record<string, string>): Config {
  const lines = (m: Record<string, string>): string => Object.entries(m).map(([k, v]) => `  ${k}: ${v}`).join('\n');
  return parseConfig(`${GLOBAL}\ngroups:\n${lines(groups)}\ntargets:\n${lines(targets)}\n`, 'targets.yaml').config;
}

export function catalog(): Catalog {
  return createCatalog(probeKinds.map((k) => k.metrics));
}

/** The exposition of the per-target families: one line per series, comments left out. */
export function seriesLines(c: Catalog): string[] {
  let text = '';
  c.fast.expose((chunk) => (text += chunk));
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

/** the value of the series whose line starts with `prefix` (name and labels), or undefined */
export function valueOf(c: Catalog, prefix: string): number | undefined {
  const line = seriesLines(c).find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A loop that records the tasks it holds. */
export class FakeLoop {
  readonly tasks = new Map<string, SchedTask>();
  setTask(t: SchedTask): void {
    this.tasks.set(t.key, t);
  }
  removeTask(key: string): void {
    this.tasks.delete(key);
  }
}

/** a prepared probe that sends nothing */
export const noProbe: PreparedProbe = { send: () => undefined };
