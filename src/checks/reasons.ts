/**
 * Failure reasons are label values, so they must stay a small bounded set of tokens: errors
 * thrown by a check are mapped from their AppError code; a token a check returns is kept only
 * if it looks like one.
 */
import { isAppError, type ErrorCode } from '../lib/errors.js';

const CODE_REASONS: Partial<Record<ErrorCode, string>> = {
  OP_ERR_TIMEOUT: 'timeout',
  CHK_ERR_PERMISSION: 'permission_denied',
  NET_ERR_PERMISSION: 'permission_denied',
  CHK_ERR_UNAVAILABLE: 'unavailable',
  EXEC_ERR_SPAWN: 'exec_failed',
  EXEC_ERR_OUTPUT: 'output_too_large',
  NET_ERR_SOCKET: 'socket_error',
  NET_ERR_CAPTURE: 'capture_error',
  NET_ERR_SEND: 'send_error',
};

const TOKEN = /^[a-z][a-z0-9_]{0,39}$/;

/** The reason label of a thrown value: `error` unless it is an AppError with a known code. */
export function reasonOfError(e: unknown): string {
  return isAppError(e) ? (CODE_REASONS[e.code] ?? 'error') : 'error';
}

/** A check's own reason if it is a token (`route_missing`), else `error`. */
export function boundedReason(reason: string | undefined): string {
  return reason !== undefined && TOKEN.test(reason) ? reason : 'error';
}

/** Messages go to the log and to actions: one line, bounded. */
export function boundedMessage(message: string, max = 500): string {
  const line = message.replace(/\s*\n\s*/g, ' | ');
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
