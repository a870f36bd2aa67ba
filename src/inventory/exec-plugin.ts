/**
 * The `exec` plugin: runs an executable (no shell) once per listing; it must print the entry
 * document as JSON on stdout and exit 0. Bounded by the listing's signal, the timeout and an
 * output cap (execCommand kills it by PID).
 */
import type { ExecFn } from '../lib/exec.js';
import { parseJson } from './document.js';
import { InventoryError, type InventoryPlugin } from './types.js';

export interface ExecPluginOptions {
  readonly command: readonly string[];
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly env: Readonly<Record<string, string>>;
  readonly exec: ExecFn;
}

function tail(text: string): string {
  const t = text.trim();
  return t.length > 1000 ? `…${t.slice(-1000)}` : t;
}

export function execPlugin(opts: ExecPluginOptions): InventoryPlugin {
  return {
    async list(signal) {
      const { command, maxBytes, timeoutMs, env } = opts;
      const r = await opts.exec(command, { signal, timeoutMs, maxBytes, env });
      if (r.code !== 0) {
        const how = r.signal !== null ? `was killed by ${r.signal}` : `exited with code ${String(r.code)}`;
        const stderr = tail(r.stderr);
        throw new InventoryError('exit', `${command[0]} ${how}${stderr === '' ? '' : `: ${stderr}`}`);
      }
      return parseJson(r.stdout);
    },
  };
}
