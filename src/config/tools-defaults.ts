/**
 * The `tools:` section with every default of the schema, for the one-shot commands run without
 * a config file (`wireprobe whois|rdap QUERY`). The schema stays the single source of defaults.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { validator } from './load.js';
import type { ToolsConfig } from './types.js';

export function toolsDefaults(): ToolsConfig {
  const { schema } = validator();
  const ajv = new Ajv2020({ useDefaults: true, strict: false });
  const data: Record<string, unknown> = {};
  ajv.validate({ $defs: (schema as { $defs: unknown }).$defs, $ref: '#/$defs/tools' }, data);
  return data as unknown as ToolsConfig;
}
