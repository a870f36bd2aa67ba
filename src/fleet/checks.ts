/**
 * A host check run on demand for the fleet: the named instance of the member's own `checks:`
 * section (enabled or not), created for this one run, run once bounded by the instance's
 * timeout (checks/run-once.ts) and closed. The scheduled runner and its metrics are untouched.
 */
import type { CheckKinds } from '../checks/runner.js';
import { runOnce, type RunOutcome } from '../checks/run-once.js';
import type { CheckDeps } from '../checks/types.js';
import type { CheckKindName, Config } from '../config/types.js';
import { AppError, ErrorCodes } from '../lib/errors.js';

export type CheckOutcomeJson = RunOutcome & { readonly check: CheckKindName; readonly name: string };

export interface OnDemandChecks {
  run(check: CheckKindName, name: string, signal: AbortSignal): Promise<CheckOutcomeJson>;
}

export function createOnDemandChecks(kinds: CheckKinds, deps: CheckDeps, config: () => Config): OnDemandChecks {
  return {
    async run(check, name, signal) {
      const kind = kinds[check];
      const instanceConfig = config().checks[check].find((c) => c.name === name);
      if (kind === undefined || instanceConfig === undefined) {
        throw new AppError(ErrorCodes.FLEET_ERR_REFUSED, `this member has no ${check} check named ${JSON.stringify(name)}`);
      }
      const instance = kind.create(instanceConfig, { ...deps, log: deps.log.child(`fleet.check.${check}.${name}`) });
      try {
        const handle = runOnce(instance, instanceConfig.timeout, deps.clock, signal);
        const outcome = await handle.outcome;
        return { ...outcome, check, name };
      } finally {
        await instance.close?.();
      }
    },
  };
}
