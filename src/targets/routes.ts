/** Egress routes of many addresses at once, for the first pass over a target set. */
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { RouteInfo, RouteResolver } from '../net/types.js';

/**
 * The routes of `addresses` (one lookup for all). A failed lookup is logged and yields no
 * route at all: every address is then left out (and logged) by prepareProbes.
 */
export async function lookupRoutes(
  routes: RouteResolver,
  addresses: readonly string[],
  signal: AbortSignal,
  log: Logger,
): Promise<Map<string, RouteInfo>> {
  try {
    return await routes.lookup(addresses, signal);
  } catch (e) {
    log.error('route lookup failed', { err: errorMessage(e) });
    return new Map();
  }
}
