/**
 * The explicit registry of host check kinds (no import side effects). Adding a kind is one
 * line here plus its `$defs/check_<kind>` in the schema.
 */
import type { CheckInstanceConfig } from '../config/types.js';
import { conntrackCheck } from './conntrack.js';
import { dhcpCheck } from './dhcp.js';
import { processesCheck } from './processes.js';
import { routesCheck } from './routes.js';
import type { CheckKind, CheckKindName } from './types.js';

export const checkKinds = {
  routes: routesCheck,
  processes: processesCheck,
  dhcp: dhcpCheck,
  conntrack: conntrackCheck,
} as const satisfies { readonly [K in CheckKindName]?: CheckKind<CheckInstanceConfig> };
