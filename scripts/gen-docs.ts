/**
 * `make docs`: writes the generated references (docs/metrics.md, docs/config.md, docs/errors.md)
 * into the repository. test/unit/docs.test.ts fails when the committed files differ from what this writes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { generatedDocs, REPO_ROOT } from './docs/generate.js';

for (const doc of await generatedDocs()) {
  const url = new URL(doc.path, REPO_ROOT);
  await mkdir(new URL('.', url), { recursive: true });
  await writeFile(url, doc.text);
  process.stdout.write(`gen-docs: wrote ${doc.path}\n`);
}
