/**
 * The explicit registry of host check kinds (no import side effects). Adding a kind is its own
 * file(s) under src/checks/ (the CheckKind, with its config rules), one line here, and its
 * schema: `checks.<kind>` and `$defs/check_<kind>` (the kind names are the schema's, see
 * CheckKindName; the compiler requires one entry here per kind).
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
} as const satisfies { readonly [K in CheckKindName]: CheckKind<CheckInstanceConfig> };
