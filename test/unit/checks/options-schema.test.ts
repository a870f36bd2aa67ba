// Each check kind's options type against its `#/$defs/check_<kind>` in schema/config.schema.json:
// the key sets are compared by the compiler (a mismatch fails the build, naming the kind), the
// registry against the schema's kinds at run time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkKinds } from '../../../src/checks/index.js';
import type { CheckKind } from '../../../src/checks/types.js';
import type { CheckKindName, CheckSchemaProperties } from '../../../src/config/types.js';

type OptionsOf<K extends CheckKindName> = (typeof checkKinds)[K] extends CheckKind<infer O> ? O : never;
/** the declared keys, without the index signature of CheckInstanceConfig */
type KnownKeys<T> = keyof { [P in keyof T as string extends P ? never : number extends P ? never : P]: T[P] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** kinds whose options type has other keys than the schema's properties */
type KeysDiffer = { [K in CheckKindName]: Same<KnownKeys<OptionsOf<K>>, keyof CheckSchemaProperties<K>> extends true ? never : K }[CheckKindName];
/** `kind.key` of schema properties with a default that the options type declares optional */
type DefaultedButOptional = {
  [K in CheckKindName]: {
    [P in keyof CheckSchemaProperties<K>]: 'default' extends keyof CheckSchemaProperties<K>[P]
      ? P extends keyof OptionsOf<K>
        ? object extends Pick<OptionsOf<K>, P>
          ? `${K}.${P & string}`
          : never
        : never
      : never;
  }[keyof CheckSchemaProperties<K>];
}[CheckKindName];

const keysMatch: [KeysDiffer] extends [never] ? true : { optionKeysDifferFromTheSchemaFor: KeysDiffer } = true;
const defaultsPresent: [DefaultedButOptional] extends [never] ? true : { optionalButDefaulted: DefaultedButOptional } = true;

interface SchemaShape {
  properties: { checks: { properties: Record<string, { items: { $ref: string } }> } };
  $defs: Record<string, { properties: Record<string, unknown> }>;
}
const schema = JSON.parse(readFileSync(new URL('../../../../schema/config.schema.json', import.meta.url), 'utf8')) as SchemaShape;

void describe('check kinds against the schema', () => {
  void it('the options types have the keys of their schema definitions (checked by the compiler)', () => {
    assert.equal(keysMatch, true);
    assert.equal(defaultsPresent, true);
  });

  void it('registers exactly the kinds of the schema, each under its own name, with its definition', () => {
    const kinds = Object.keys(schema.properties.checks.properties);
    assert.deepEqual(Object.keys(checkKinds).sort(), [...kinds].sort());
    for (const [name, kind] of Object.entries(checkKinds)) {
      assert.equal(kind.kind, name);
      assert.equal(schema.properties.checks.properties[name]?.items.$ref, `#/$defs/check_${name}`);
      assert.ok(schema.$defs[`check_${name}`]?.properties, name);
    }
  });
});
