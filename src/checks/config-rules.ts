/**
 * The config side of the host check kinds: the semantic rules and canonical forms that config
 * loading applies to each kind's instances. Kept apart from the kinds themselves (checks/index.ts)
 * so that the config layer imports only these pure modules, never the checks' I/O; the layer
 * rules (.dependency-cruiser.cjs) count this file and the `<kind>-config.ts` files as config.
 * A kind without rules of its own needs no line here.
 */
import type { CheckConfigSide } from '../config/rules.js';
import type { CheckKindName } from '../config/types.js';
import { processesConfig } from './processes-config.js';
import { routesConfig } from './routes-config.js';

export const checkConfigSides: { readonly [K in CheckKindName]?: CheckConfigSide } = {
  routes: routesConfig,
  processes: processesConfig,
};
