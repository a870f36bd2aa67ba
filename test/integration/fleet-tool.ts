// A helper the fleet tests run INSIDE a lab namespace (node dist/test/integration/fleet-tool.js CMD ...),
// printing one JSON line: shared-inventory puts, timed dispatches, and simulated members
// (lightweight fleet members: a NATS connection each, heartbeats and a request executor whose only
// runnable kind is an instant fake `check`; no probing engine).
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { FleetConfig } from '../../src/config/types.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Session } from '../../src/fleet/connection.js';
import { dispatch } from '../../src/fleet/dispatch.js';
import { executorSession } from '../../src/fleet/executor.js';
import { heartbeatSession, openMembersBucket, readMembers } from '../../src/fleet/members.js';
import { createPolicy } from '../../src/fleet/policy.js';
import { selectMembers } from '../../src/fleet/service.js';
import { parseSelector } from '../../src/fleet/selector.js';
import { parseOperation } from '../../src/fleet/spec.js';
import type { OperationRunner } from '../../src/operations/types.js';

const [cmd = '', ...args] = process.argv.slice(2);
const print = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v)}\n`);
};
/** simulated members allow only `check`: the policy refuses the rest before it reaches this */
const noEngine: OperationRunner = { run: () => Promise.reject(new Error('simulated member: no engine')) };
const log = createLogger((line) => process.stderr.write(`${line}\n`), 'warn');

async function main(): Promise<void> {
  switch (cmd) {
    case 'put': {
      // put SERVER TOKEN BUCKET KEY JSON|-   (- deletes)
      const [server, token, bucket, key, json] = args as [string, string, string, string, string];
      const nc = await connect({ servers: [server], token });
      const kv = await new Kvm(nc).create(bucket, { history: 1 });
      const t0 = Date.now();
      if (json === '-') await kv.delete(key);
      else await kv.put(key, json);
      print({ t0 });
      await nc.close();
      return;
    }
    case 'dispatch': {
      // dispatch SERVER TOKEN SELECTOR OPERATION-JSON DEADLINE-MS REPEAT
      const [server, token, selector, op, deadline, repeat] = args as [string, string, string, string, string, string];
      const nc = await connect({ servers: [server], token });
      const kv = await openMembersBucket(nc);
      const members = selectMembers(await readMembers(kv), parseSelector(selector), Date.now());
      const reports = [];
      for (let i = 0; i < Number(repeat); i++) {
        reports.push(await dispatch(nc, { members, operation: parseOperation(JSON.parse(op)), deadlineMs: Number(deadline), origin: 'fleet-tool', clock: systemClock }));
      }
      print({ selected: members.map((m) => m.name), reports });
      await nc.close();
      return;
    }
    case 'sim': {
      // sim SERVER TOKEN PREFIX COUNT: COUNT simulated members until SIGTERM
      const [server, token, prefix, count] = args as [string, string, string, string];
      const allow: FleetConfig['allow'] = { operations: ['check'], destinations: [] };
      const conns = await Promise.all(Array.from({ length: Number(count) }, async (_, i) => {
        const name = `${prefix}${String(i).padStart(2, '0')}`;
        const nc = await connect({ servers: [server], token, name, maxReconnectAttempts: -1 });
        const sessions: Session[] = [
          heartbeatSession({
            record: () => ({
              name, labels: { name, site: 'sim', region: 'eu' }, version: 'sim', metrics: '', heartbeatMs: Date.now(), heartbeatS: 2, goneAfterS: 6, startedMs: 0, operations: ['check'],
            }),
            intervalMs: 2000, clock: systemClock, log, onHeartbeat: () => undefined,
          }),
          executorSession({
            member: name, policy: () => createPolicy(allow), operations: noEngine, clock: systemClock, log, onRequest: () => undefined,
            checks: { run: (check, n) => Promise.resolve({ ok: true, reason: null, message: 'simulated', samples: [], durationMs: 0, check, name: n }) },
          }),
        ];
        sessions.forEach((s) => s(nc));
        return nc;
      }));
      print({ started: conns.length, rssMiB: Math.round(process.memoryUsage().rss / 1048576) });
      await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
      await Promise.all(conns.map((c) => c.close()));
      return;
    }
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`fleet-tool: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
