// netprobify-format YAML configs for the wireprobe under test.
import { stringify } from 'yaml';

export interface GlobalSection {
  probe_name: string;
  interval: number;
  nb_proc: number;
  logging_level: string;
  prometheus_address: string;
  prometheus_port: number;
  dns_update_interval: number;
  percentile: number[];
  [key: string]: unknown;
}

export type TargetSpec = { type: 'ICMPping' | 'TCPsyn' | 'UDPunreachable'; destination: string } & Record<string, unknown>;

export const DEFAULT_PORT = 9771;

export const DEFAULT_GLOBAL: Readonly<GlobalSection> = {
  probe_name: 'itest',
  interval: 2,
  nb_proc: 1,
  logging_level: 'WARNING',
  prometheus_address: '127.0.0.1',
  prometheus_port: DEFAULT_PORT,
  dns_update_interval: 300,
  percentile: [50, 95, 99],
};

export function netprobifyConfig(opts: {
  global?: Partial<GlobalSection>;
  groups?: Record<string, Record<string, unknown>>;
  targets: Record<string, TargetSpec>;
}): string {
  return stringify(
    {
      global: { ...DEFAULT_GLOBAL, ...opts.global },
      groups: opts.groups ?? { g1: {} },
      targets: opts.targets,
    },
    { lineWidth: 0 },
  );
}
