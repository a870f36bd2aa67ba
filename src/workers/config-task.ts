/**
 * The loadConfig task, in a module of its own: the one-shot thread that runs it at each start and
 * reload imports only the config loader, not the decoders and probe codecs of the pool's tasks.
 */
import { loadConfigFile } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import type { TaskHandler } from './protocol.js';

export const loadConfig: TaskHandler<'loadConfig'> = async ({ path }) => {
  try {
    const { config, warnings } = await loadConfigFile(path);
    return { ok: true, config, warnings };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, code: e.code, message: e.message, file: e.file, problems: e.problems };
    if (e instanceof AppError) return { ok: false, code: e.code, message: e.message };
    return { ok: false, code: ErrorCodes.CFG_ERR_READ, message: `${path}: ${errorMessage(e)}` };
  }
};
