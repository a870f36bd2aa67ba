/**
 * API errors: a coded AppError with its HTTP status, answered as
 * `{ "error": { "code", "message", "details"? } }`. Every error the API answers goes through here.
 */
import type { EntryProblem } from '../config/entries.js';
import { AppError, ErrorCodes, errorMessage, type ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export class ApiHttpError extends AppError {
  readonly status: number;
  readonly details: readonly EntryProblem[] | undefined;
  /** extra response headers, e.g. WWW-Authenticate or Allow */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    extra: { details?: readonly EntryProblem[]; headers?: Record<string, string> } = {},
  ) {
    super(code, message);
    this.status = status;
    this.details = extra.details;
    this.headers = extra.headers ?? {};
  }
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: readonly EntryProblem[] };
}

export function errorBody(e: ApiHttpError): ErrorBody {
  const details = e.details === undefined ? {} : { details: e.details };
  return { error: { code: e.code, message: e.message, ...details } };
}

export const notFound = (name: string): ApiHttpError =>
  new ApiHttpError(404, ErrorCodes.API_ERR_NOT_FOUND, `no target named ${JSON.stringify(name)}`);

export const validationError = (problems: readonly EntryProblem[]): ApiHttpError =>
  new ApiHttpError(422, ErrorCodes.API_ERR_VALIDATION, 'the request body is not a valid target', { details: problems });

/** What a body-parser (express.json) error becomes. */
export function fromBodyParser(e: unknown, limit: number): ApiHttpError | null {
  const type = typeof e === 'object' && e !== null && 'type' in e ? String((e).type) : null;
  switch (type) {
    case null:
      return null;
    case 'entity.too.large':
      return new ApiHttpError(413, ErrorCodes.API_ERR_BODY_TOO_LARGE, `the request body is larger than ${limit} bytes`);
    case 'entity.parse.failed':
      return new ApiHttpError(400, ErrorCodes.API_ERR_MALFORMED_JSON, 'the request body is not a JSON object or array');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new ApiHttpError(415, ErrorCodes.API_ERR_UNSUPPORTED_MEDIA_TYPE, 'the request body must be UTF-8 JSON, not compressed');
    default:
      return new ApiHttpError(400, ErrorCodes.API_ERR_BAD_REQUEST, 'the request body could not be read');
  }
}

/** An error's HTTP status when it carries a 4xx one (express, body-parser, router), else null. */
export function clientStatus(err: unknown): number | null {
  if (err instanceof URIError) return 400;
  if (typeof err !== 'object' || err === null) return null;
  const s = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s < 500 ? s : null;
}

/** The coded error to answer for anything thrown; unexpected errors are logged, never echoed. */
export function toHttpError(err: unknown, log: Logger, where: { method: string; path: string }): ApiHttpError {
  if (err instanceof ApiHttpError) return err;
  const status = clientStatus(err);
  if (status === 404) return new ApiHttpError(404, ErrorCodes.API_ERR_NOT_FOUND, `no route ${where.method} ${where.path}`);
  if (status !== null) return new ApiHttpError(status, ErrorCodes.API_ERR_BAD_REQUEST, 'the request could not be understood');
  log.error('HTTP request failed', { ...where, reason: errorMessage(err) });
  return new ApiHttpError(500, ErrorCodes.API_ERR_INTERNAL, 'internal error; see the wireprobe log');
}
