/**
 * The member side of a dispatch: requests arrive on `wireprobe.fleet.op.<probe_name>`; each is
 * checked (format, then this member's own `fleet.allow`), logged with its origin, run (an
 * operation through the injected OperationRunner, a host check once) within the request's
 * deadline, and answered on its reply inbox: `accepted`, the operation's events, then `result`
 * (or `refused` / `error`). At most MAX_RUNNING requests run at once; more are refused.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Clock } from '../lib/clock.js';
import { errorMessage, isAppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { OperationRunner } from '../operations/types.js';
import type { OnDemandChecks } from './checks.js';
import type { Session } from './connection.js';
import type { Policy } from './policy.js';
import { decode, encode, opSubject, parseRequest, type FleetRequest, type ReplyBody } from './protocol.js';
import { describeOperation } from './spec.js';

/** requests run at once by one member */
export const MAX_RUNNING = 16;

export interface ExecutorDeps {
  readonly member: string;
  readonly policy: () => Policy;
  /** the app's operations engine (ping, traceroute, mtr) */
  readonly operations: OperationRunner;
  readonly checks: OnDemandChecks;
  readonly clock: Clock;
  readonly log: Logger;
  onRequest(outcome: 'run' | 'refused' | 'error'): void;
}

export function executorSession(deps: ExecutorDeps): Session {
  const { member, clock, log } = deps;
  let running = 0;

  const execute = async (req: FleetRequest, reply: (r: ReplyBody) => void, signal: AbortSignal): Promise<void> => {
    const op = req.operation;
    if (op.kind === 'check') {
      reply({ type: 'result', result: await deps.checks.run(op.check, op.name, signal) });
      return;
    }
    const result = await deps.operations.run(op.spec, (event) => reply({ type: 'event', event }), signal);
    reply({ type: 'result', result });
  };

  return (nc: NatsConnection) => {
    const sub = nc.subscribe(opSubject(member), {
      callback: (err, msg) => {
        if (err !== null || msg.reply === undefined || msg.reply === '') return;
        const inbox = msg.reply;
        const raw = decode(msg.data);
        let req: FleetRequest | null;
        try {
          req = parseRequest(raw);
        } catch (e) {
          const id = typeof (raw as { id?: unknown } | null)?.id === 'string' ? (raw as { id: string }).id : 'unknown';
          nc.publish(inbox, encode({ id, member, type: 'error', code: 'FLEET_ERR_REQUEST', message: errorMessage(e) }));
          deps.onRequest('error');
          return;
        }
        if (req === null) return;
        const request = req;
        const send = (r: ReplyBody): void => {
          try {
            nc.publish(inbox, encode({ ...r, id: request.id, member }));
          } catch {
            // the connection closed meanwhile: the dispatcher reports this member missing
          }
        };
        const { kind, destination } = describeOperation(request.operation);
        const fields = { id: request.id, origin: request.origin, kind, destination: destination ?? `${request.operation.kind === 'check' ? `${request.operation.check}/${request.operation.name}` : ''}` };
        const refusal = running >= MAX_RUNNING ? `busy: ${MAX_RUNNING} fleet operations already running on this member` : deps.policy().refusal(kind, destination);
        if (refusal !== null) {
          log.warn('fleet operation refused', { ...fields, reason: refusal });
          send({ type: 'refused', code: 'FLEET_ERR_REFUSED', message: refusal });
          deps.onRequest('refused');
          return;
        }
        log.info('fleet operation', fields);
        deps.onRequest('run');
        running += 1;
        send({ type: 'accepted' });
        const ac = new AbortController();
        const timer = clock.setTimer(request.deadlineMs, () => ac.abort(new Error('deadline')));
        void execute(request, send, ac.signal)
          .catch((e: unknown) => {
            const code = isAppError(e) ? e.code : 'FLEET_ERR_UNAVAILABLE';
            log.warn('fleet operation failed', { ...fields, code, error: errorMessage(e) });
            send({ type: 'error', code, message: errorMessage(e) });
          })
          .finally(() => {
            timer.cancel();
            running -= 1;
          });
      },
    });
    return () => sub.unsubscribe();
  };
}
