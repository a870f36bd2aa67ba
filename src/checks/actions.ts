/**
 * `on_failure` actions: commands run without a shell, placeholders substituted in each
 * argument, each bounded by its timeout and by the runner's shutdown signal.
 */
import type { CheckActionConfig } from '../config/types.js';
import { errorMessage, isAppError } from '../lib/errors.js';
import type { ExecFn } from '../lib/exec.js';
import type { Logger } from '../lib/logger.js';
import type { ActionResultLabel } from './recorder.js';
import { boundedMessage } from './reasons.js';

export interface ActionVars {
  readonly check: string;
  readonly name: string;
  readonly reason: string;
  readonly message: string;
}

const OUTPUT_LOG_CHARS = 300;

/** `{check}`, `{name}`, `{reason}`, `{message}` replaced in one pass (values are not re-scanned). */
export function substitute(argv: readonly string[], vars: ActionVars): string[] {
  return argv.map((arg) => arg.replace(/\{(check|name|reason|message)\}/g, (_m, key: keyof ActionVars) => vars[key]));
}

export interface ActionDeps {
  readonly exec: ExecFn;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

async function runOne(action: CheckActionConfig, vars: ActionVars, deps: ActionDeps): Promise<ActionResultLabel> {
  const argv = substitute(action.exec, vars);
  const fields = { check: vars.check, name: vars.name, command: argv[0] };
  try {
    const r = await deps.exec(argv, { signal: deps.signal, timeoutMs: action.timeout * 1000, maxBytes: 64 * 1024 });
    const output = boundedMessage(`${r.stdout}${r.stderr}`.trim(), OUTPUT_LOG_CHARS);
    const done = { ...fields, code: r.code, signal: r.signal, output };
    if (r.code === 0) {
      deps.log.info('failure action ran', done);
      return 'ok';
    }
    deps.log.warn('failure action failed', done);
    return 'failed';
  } catch (e) {
    const timedOut = isAppError(e, 'OP_ERR_TIMEOUT');
    deps.log.warn(timedOut ? 'failure action timed out' : 'failure action failed', { ...fields, err: boundedMessage(errorMessage(e)) });
    return timedOut ? 'timeout' : 'failed';
  }
}

/** Runs the actions one after the other; reports each result unless shutdown aborted it. */
export async function runActions(
  actions: readonly CheckActionConfig[],
  vars: ActionVars,
  deps: ActionDeps,
  onResult: (result: ActionResultLabel) => void,
): Promise<void> {
  for (const action of actions) {
    if (deps.signal.aborted) return;
    const result = await runOne(action, vars, deps);
    if (!deps.signal.aborted) onResult(result);
  }
}
