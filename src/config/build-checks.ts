/**
 * The `checks:` section of the Config: the schema has applied the defaults; each kind that has
 * a canonical form (`CheckConfigSide.canonical` in src/checks/config-rules.ts; e.g. routes:
 * addresses as `ip -json` prints them) rewrites its instances.
 */
import { checkConfigSides } from '../checks/config-rules.js';
import type { CheckInstanceConfig, CheckKindName } from './types.js';

export function buildChecks(raw: Record<CheckKindName, CheckInstanceConfig[]>): Record<CheckKindName, CheckInstanceConfig[]> {
  const out = { ...raw };
  for (const kind of Object.keys(checkConfigSides) as CheckKindName[]) {
    const canonical = checkConfigSides[kind]?.canonical;
    if (canonical !== undefined) out[kind] = raw[kind].map(canonical);
  }
  return out;
}
