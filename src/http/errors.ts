/**
 * JSON errors for the whole HTTP surface (not only /api/v1): unknown paths, bad
 * percent-encoding, errors of express itself and of Node's HTTP parser (malformed requests,
 * header and request timeouts). Every one answers `{ "error": { "code", "message" } }`;
 * internal details (paths, stack traces) go to the log only.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Socket } from 'node:net';
import { ApiHttpError, errorBody, toHttpError } from '../api/errors.js';
import { ErrorCodes } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/** 400 when the path has a bad percent-encoding (`%`, `%zz`, a truncated or invalid UTF-8 sequence). */
export const checkPercentEncoding: RequestHandler = (req, _res, next) => {
  try {
    decodeURIComponent(req.path);
  } catch {
    next(new ApiHttpError(400, ErrorCodes.API_ERR_BAD_REQUEST, 'the request path has a malformed percent-encoding'));
    return;
  }
  next();
};

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiHttpError(404, ErrorCodes.API_ERR_NOT_FOUND, `no route ${req.method} ${req.path}`));
};

export function jsonErrorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = toHttpError(err, log, { method: req.method, path: req.path });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(e.status).set(e.headers).json(errorBody(e));
  };
}

/**
 * Node's `clientError`: a request the parser refuses (400, 431) or that was not received in
 * time (408) gets a JSON answer when nothing was written yet, and its socket is closed.
 */
export function onClientError(err: Error & { code?: string }, socket: Socket): void {
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const e = timeout
    ? new ApiHttpError(408, ErrorCodes.API_ERR_TIMEOUT, 'the request was not received in time')
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiHttpError(431, ErrorCodes.API_ERR_BAD_REQUEST, 'the request headers are too large')
      : new ApiHttpError(400, ErrorCodes.API_ERR_BAD_REQUEST, 'malformed HTTP request');
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !started) {
    const body = JSON.stringify(errorBody(e));
    const reason = timeout ? 'Request Timeout' : e.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${e.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } else socket.destroy();
}
