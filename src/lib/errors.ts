/**
 * The coded error catalog. Every error wireprobe raises on purpose is an AppError
 * with a stable `code`; callers branch on the code, never on the message.
 */
export const ErrorCodes = {
  CFG_ERR_INVALID: 'CFG_ERR_INVALID',
  CFG_ERR_READ: 'CFG_ERR_READ',
  CFG_ERR_YAML: 'CFG_ERR_YAML',
  NET_ERR_PERMISSION: 'NET_ERR_PERMISSION',
  NET_ERR_SOCKET: 'NET_ERR_SOCKET',
  NET_ERR_CAPTURE: 'NET_ERR_CAPTURE',
  NET_ERR_ROUTE: 'NET_ERR_ROUTE',
  NET_ERR_SEND: 'NET_ERR_SEND',
  NET_ERR_NO_INTERFACE: 'NET_ERR_NO_INTERFACE',
  NET_ERR_INTERFACE_DOWN: 'NET_ERR_INTERFACE_DOWN',
  PKT_ERR_DECODE: 'PKT_ERR_DECODE',
  PKT_ERR_ENCODE: 'PKT_ERR_ENCODE',
  DNS_ERR_RESOLVE: 'DNS_ERR_RESOLVE',
  OP_ERR_TIMEOUT: 'OP_ERR_TIMEOUT',
  CLI_ERR_USAGE: 'CLI_ERR_USAGE',
  EXEC_ERR_SPAWN: 'EXEC_ERR_SPAWN',
  EXEC_ERR_OUTPUT: 'EXEC_ERR_OUTPUT',
  CHK_ERR_UNAVAILABLE: 'CHK_ERR_UNAVAILABLE',
  CHK_ERR_PERMISSION: 'CHK_ERR_PERMISSION',
  CHK_ERR_PARSE: 'CHK_ERR_PARSE',
  INV_ERR_LIST: 'INV_ERR_LIST',
  SCHED_ERR_LIMIT: 'SCHED_ERR_LIMIT',
  TGT_ERR_QUARANTINED: 'TGT_ERR_QUARANTINED',
  API_ERR_MALFORMED_JSON: 'API_ERR_MALFORMED_JSON',
  API_ERR_BAD_REQUEST: 'API_ERR_BAD_REQUEST',
  API_ERR_UNAUTHORIZED: 'API_ERR_UNAUTHORIZED',
  API_ERR_FORBIDDEN: 'API_ERR_FORBIDDEN',
  API_ERR_WRITES_DISABLED: 'API_ERR_WRITES_DISABLED',
  API_ERR_NOT_FOUND: 'API_ERR_NOT_FOUND',
  API_ERR_METHOD_NOT_ALLOWED: 'API_ERR_METHOD_NOT_ALLOWED',
  API_ERR_CONFLICT: 'API_ERR_CONFLICT',
  API_ERR_NOT_API_TARGET: 'API_ERR_NOT_API_TARGET',
  API_ERR_LIMIT: 'API_ERR_LIMIT',
  API_ERR_BODY_TOO_LARGE: 'API_ERR_BODY_TOO_LARGE',
  API_ERR_UNSUPPORTED_MEDIA_TYPE: 'API_ERR_UNSUPPORTED_MEDIA_TYPE',
  API_ERR_VALIDATION: 'API_ERR_VALIDATION',
  API_ERR_STATE_WRITE: 'API_ERR_STATE_WRITE',
  API_ERR_STATE_FILE: 'API_ERR_STATE_FILE',
  API_ERR_UNAVAILABLE: 'API_ERR_UNAVAILABLE',
  API_ERR_INTERNAL: 'API_ERR_INTERNAL',
  API_ERR_TIMEOUT: 'API_ERR_TIMEOUT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = code;
  }
}

export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}

/** Message of any thrown value, for logs. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
