// node:test glue shared by the wireprobe integration tests: one lab per suite, created in `before`
// (after the prerequisite checks) and destroyed in `after`, also when a test failed.
import { after, before, test, type TestContext } from 'node:test';
import type { ToolRequirement } from './require-tools.js';
import { LAB_TOOLS, requireRoot, requireTools } from './require-tools.js';
import { createLab, type Lab } from './lab.js';
import { startWireprobe, type WireprobeHandle, type WireprobeOptions } from './wireprobe.js';

export interface LabSuite {
  /** The suite's lab (throws if `before` failed). */
  lab(): Lab;
  /** Starts wireprobe in the lab; it is stopped in `after`. */
  start(configYaml: string, opts?: WireprobeOptions): Promise<WireprobeHandle>;
  /** The running wireprobe (throws if start() was not called). */
  wireprobe(): WireprobeHandle;
  /** node:test `test` that records failures, so that `after` prints wireprobe's logs when one failed. */
  test(title: string, fn: (t: TestContext) => Promise<void>, opts?: { timeout?: number }): void;
}

export function labSuite(name: string, tools: readonly ToolRequirement[] = []): LabSuite {
  let lab: Lab | undefined;
  const started: WireprobeHandle[] = [];
  let failures = 0;

  before(async () => {
    requireRoot();
    requireTools([...LAB_TOOLS, ...tools]);
    lab = await createLab({ name });
  });

  after(async () => {
    try {
      for (const wp of started) {
        const code = await wp.stop();
        if (failures > 0) {
          process.stderr.write(`--- wireprobe (${name}) exited ${code}; logs (tail):\n${wp.logs().slice(-8000)}\n---\n`);
        }
      }
    } finally {
      await lab?.destroy();
    }
  });

  const getLab = (): Lab => {
    if (lab === undefined) throw new Error(`lab for ${name} was not created (see the before hook error)`);
    return lab;
  };

  return {
    lab: getLab,
    start: async (configYaml, opts) => {
      const wp = await startWireprobe(getLab(), configYaml, opts);
      started.push(wp);
      return wp;
    },
    wireprobe: () => {
      const wp = started.at(-1);
      if (wp === undefined) throw new Error('wireprobe was not started');
      return wp;
    },
    test: (title, fn, opts) => {
      void test(title, opts ?? {}, async (t) => {
        try {
          await fn(t);
        } catch (e) {
          failures++;
          throw e;
        }
      });
    },
  };
}

/** netprobify's T5 label set for a target (state "None" when unset; group g1 by default). */
export function t5(
  destination: string,
  addressFamily: 'ipv4' | 'ipv6',
  opts: { probeName?: string; group?: string; state?: string } = {},
): Record<string, string> {
  return {
    probe_name: opts.probeName ?? 'itest',
    destination,
    address_family: addressFamily,
    state: opts.state ?? 'None',
    group: opts.group ?? 'g1',
  };
}
