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
  PKT_ERR_ENCODE: 'PKT_ERR_ENCODE',
  DNS_ERR_RESOLVE: 'DNS_ERR_RESOLVE',
  OP_ERR_TIMEOUT: 'OP_ERR_TIMEOUT',
  OPS_ERR_SPEC: 'OPS_ERR_SPEC',
  EXEC_ERR_SPAWN: 'EXEC_ERR_SPAWN',
  EXEC_ERR_OUTPUT: 'EXEC_ERR_OUTPUT',
  CHK_ERR_UNAVAILABLE: 'CHK_ERR_UNAVAILABLE',
  CHK_ERR_PERMISSION: 'CHK_ERR_PERMISSION',
  CHK_ERR_PARSE: 'CHK_ERR_PARSE',
  INV_ERR_LIST: 'INV_ERR_LIST',
  MET_ERR_REGISTRY: 'MET_ERR_REGISTRY',
  MET_ERR_GZIP: 'MET_ERR_GZIP',
  SVC_ERR_START: 'SVC_ERR_START',
  SVC_ERR_STATE: 'SVC_ERR_STATE',
  SVC_ERR_RELOAD: 'SVC_ERR_RELOAD',
  SCHED_ERR_LIMIT: 'SCHED_ERR_LIMIT',
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
  API_ERR_QUERY_TIMEOUT: 'API_ERR_QUERY_TIMEOUT',
  FLOWDB_ERR_STORE: 'FLOWDB_ERR_STORE',
  FLOWDB_ERR_QUERY_INVALID: 'FLOWDB_ERR_QUERY_INVALID',
  FLOWDB_ERR_QUERY_TIMEOUT: 'FLOWDB_ERR_QUERY_TIMEOUT',
  FLOWDB_ERR_BUSY: 'FLOWDB_ERR_BUSY',
  FLOWDB_ERR_LAYOUT: 'FLOWDB_ERR_LAYOUT',
  TOOL_ERR_INPUT: 'TOOL_ERR_INPUT',
  TOOL_ERR_LIMIT: 'TOOL_ERR_LIMIT',
  TOOL_ERR_UNREACHABLE: 'TOOL_ERR_UNREACHABLE',
  TOOL_ERR_TIMEOUT: 'TOOL_ERR_TIMEOUT',
  TOOL_ERR_TOO_LARGE: 'TOOL_ERR_TOO_LARGE',
  TOOL_ERR_UPSTREAM: 'TOOL_ERR_UPSTREAM',
  TOOL_ERR_NOT_FOUND: 'TOOL_ERR_NOT_FOUND',
  TOOL_ERR_RATE_LIMIT: 'TOOL_ERR_RATE_LIMIT',
  TOOL_ERR_DATA: 'TOOL_ERR_DATA',
  API_ERR_OPERATIONS_DISABLED: 'API_ERR_OPERATIONS_DISABLED',
  OPS_ERR_DISABLED: 'OPS_ERR_DISABLED',
  OPS_ERR_INVALID: 'OPS_ERR_INVALID',
  OPS_ERR_BUDGET: 'OPS_ERR_BUDGET',
  OPS_ERR_BUSY: 'OPS_ERR_BUSY',
  OPS_ERR_RATE: 'OPS_ERR_RATE',
  OPS_ERR_DENIED: 'OPS_ERR_DENIED',
  OPS_ERR_RUNNER: 'OPS_ERR_RUNNER',
  OPS_ERR_CANCELLED: 'OPS_ERR_CANCELLED',
  FLEET_ERR_CONNECT: 'FLEET_ERR_CONNECT',
  FLEET_ERR_AUTH: 'FLEET_ERR_AUTH',
  FLEET_ERR_SELECTOR: 'FLEET_ERR_SELECTOR',
  FLEET_ERR_REQUEST: 'FLEET_ERR_REQUEST',
  FLEET_ERR_REFUSED: 'FLEET_ERR_REFUSED',
  FLEET_ERR_UNAVAILABLE: 'FLEET_ERR_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * What each code means, for operators reading a log line or an API error. docs/errors.md is
 * generated from this table (`make docs`); test/unit/lib/errors.test.ts checks both.
 */
export const ErrorMeanings: { readonly [C in ErrorCode]: string } = {
  CFG_ERR_INVALID:
    'The configuration is well-formed YAML but breaks the schema or a semantic rule (each problem with line, column and key path); also a value that only fails when used, such as a subnet destination or a DHCP window.',
  CFG_ERR_READ:
    'The configuration file cannot be read (missing, permissions, not a regular file).',
  CFG_ERR_YAML:
    'The configuration file is not valid YAML (duplicate keys, syntax errors, tabs, ...).',
  NET_ERR_PERMISSION:
    'A raw socket or capture needs CAP_NET_RAW (and CAP_NET_ADMIN for some options) that the process lacks.',
  NET_ERR_SOCKET:
    'A raw socket could not be opened or configured for another reason than permissions.',
  NET_ERR_CAPTURE:
    'A pcap capture could not be opened or filtered on an interface, or its link type is not supported.',
  NET_ERR_ROUTE:
    'No route, or no source address, to reach a target; or the route lookup (`ip route get`) failed.',
  NET_ERR_SEND: 'The kernel refused to send a probe or a frame.',
  NET_ERR_NO_INTERFACE:
    'A named network interface does not exist (or its name is not a valid interface name).',
  NET_ERR_INTERFACE_DOWN: 'A named network interface exists but is down.',
  PKT_ERR_ENCODE:
    'A packet cannot be built from the given fields (bad address, payload too large, wrong field size).',
  DNS_ERR_RESOLVE: 'A target hostname did not resolve, or not within its timeout.',
  OP_ERR_TIMEOUT:
    'A bounded operation (a check run, a command, an inventory refresh) did not finish within its timeout.',
  OPS_ERR_SPEC:
    'An on-demand operation (ping, traceroute, mtr) cannot run as asked: a destination without an address of the family, no route or source address, or more packets or time than the bounds allow.',
  EXEC_ERR_SPAWN: 'An external command could not be started (not found, not executable, empty argv).',
  EXEC_ERR_OUTPUT: 'An external command wrote more output than the bound set for it.',
  CHK_ERR_UNAVAILABLE:
    'What a host check reads is not there (for example nf_conntrack not loaded, conntrack tools missing).',
  CHK_ERR_PERMISSION:
    'A host check is not allowed to read what it needs (a /proc file, conntrack netlink).',
  CHK_ERR_PARSE:
    'A host check could not make sense of what it read (a count that is not a number, no per-CPU statistics).',
  INV_ERR_LIST:
    'A dynamic inventory could not produce its target list (plugin failure, bad document, HTTP error); the last good list is kept.',
  MET_ERR_REGISTRY:
    'A metric family was registered twice, or a series was used with label names other than its family\'s: a bug in wireprobe.',
  MET_ERR_GZIP:
    'A gzip-encoded scrape could not be compressed: zlib failed, or this Node.js lacks the zlib stream internals wireprobe compresses with (a bug in wireprobe, or a Node.js it does not support).',
  SVC_ERR_START:
    'A service of the app (http, engine, probing, a subsystem) failed to start or did not start in time; the message names it, and the services already started were stopped in reverse order.',
  SVC_ERR_STATE: 'The app was asked to start or reload while it is not in a state that allows it (already started, stopping, stopped).',
  SVC_ERR_RELOAD: 'One or more services failed to apply a reloaded config; the message names them, the other services applied it.',
  API_ERR_MALFORMED_JSON: 'HTTP 400: the request body is not JSON.',
  API_ERR_BAD_REQUEST:
    'HTTP 400: the request is malformed otherwise (body nested too deep, unreadable, bad query parameter).',
  API_ERR_UNAUTHORIZED: 'HTTP 401: no bearer token, or not a valid one.',
  API_ERR_FORBIDDEN: 'HTTP 403: the token\'s scope does not allow this (a read token for a write; a token without the operate scope for an operation).',
  API_ERR_WRITES_DISABLED: 'HTTP 403: writes are disabled because no write token is configured.',
  API_ERR_NOT_FOUND: 'HTTP 404: no such route, or no target of that name.',
  API_ERR_METHOD_NOT_ALLOWED:
    'HTTP 405: the method is not allowed on this path (the Allow header lists those that are).',
  API_ERR_CONFLICT:
    'HTTP 409: the name is taken, by an API target (POST; PUT replaces it) or by a target from the config file or an inventory.',
  API_ERR_NOT_API_TARGET:
    'HTTP 409: the target comes from the config file or an inventory, not from the API, so the API cannot change it.',
  API_ERR_LIMIT: 'HTTP 409: the API target limit is reached.',
  API_ERR_BODY_TOO_LARGE: 'HTTP 413: the request body is larger than the limit.',
  API_ERR_UNSUPPORTED_MEDIA_TYPE: 'HTTP 415: the request body is not uncompressed UTF-8 JSON.',
  API_ERR_VALIDATION:
    'HTTP 422: the body is JSON but not a valid target (details list the problems).',
  API_ERR_STATE_WRITE:
    'HTTP 503: the API state file could not be written, so the change was not made.',
  API_ERR_STATE_FILE:
    'The API state file cannot be used: unreadable at start-up, or not a state file wireprobe wrote (it is then renamed aside as `<file>.corrupt-<time>`).',
  API_ERR_UNAVAILABLE:
    'HTTP 503: the API is starting, stopping, or busy (retry after the Retry-After delay).',
  API_ERR_INTERNAL:
    'HTTP 500: an unexpected error while handling the request; the wireprobe log has the details.',
  SCHED_ERR_LIMIT:
    'A round of a target is not a packet count the scheduler can plan (not a safe integer, or above the packets-per-round limit): the target is quarantined, the others keep probing.',
  API_ERR_TIMEOUT: 'HTTP 408: the request headers or body did not arrive within the configured timeouts.',
  API_ERR_QUERY_TIMEOUT:
    'HTTP 503: a flow query did not finish within its timeout and was interrupted; narrow the time range or the filters.',
  FLOWDB_ERR_STORE:
    'The flow store cannot be opened, read or written: a file that is not a flow database (or of a newer schema), a full disk, a database worker that died, or a PostgreSQL server that refuses the statements.',
  FLOWDB_ERR_QUERY_INVALID:
    'A flow query is not valid: an address or CIDR that does not parse, or a time range, filter or limit out of bounds.',
  FLOWDB_ERR_QUERY_TIMEOUT:
    'A flow query did not finish within its timeout: the statement was interrupted and the caller told so.',
  FLOWDB_ERR_BUSY:
    'The flow store has as many queries waiting as it accepts, or is closing; retry later.',
  FLOWDB_ERR_LAYOUT:
    'The SQLite flow database holds flows in the row-per-flow layout of wireprobe before the chunked store (schema 1), which this version neither reads nor converts: move the file aside (query it with the older wireprobe or sqlite3) or point flows.sqlite.path to a new file.',
  TOOL_ERR_INPUT:
    'HTTP 400: a tool was given something it cannot read (not a prefix or address, not a MAC address, not a domain, address or AS number).',
  TOOL_ERR_LIMIT:
    'HTTP 422: a tool request would produce more than its bound (too many subnets from a split, too many prefixes to summarise).',
  TOOL_ERR_UNREACHABLE:
    'HTTP 502: a WHOIS or RDAP server could not be reached (name does not resolve, connection refused, no route: this host may have no internet access).',
  TOOL_ERR_TIMEOUT: 'HTTP 504: a WHOIS or RDAP query did not finish within `tools.whois.timeout` or `tools.rdap.timeout`.',
  TOOL_ERR_TOO_LARGE: 'HTTP 502: a WHOIS or RDAP answer was larger than `tools.whois.max_bytes` or `tools.rdap.max_bytes`.',
  TOOL_ERR_UPSTREAM:
    'HTTP 502: a WHOIS or RDAP server answered something unusable (an HTTP error, a body that is not RDAP JSON, a redirect loop or too many redirects, a socket error).',
  TOOL_ERR_NOT_FOUND: 'HTTP 404: the RDAP registries hold no such object, or the bootstrap registry names no server for it.',
  TOOL_ERR_RATE_LIMIT:
    'HTTP 429: the WHOIS/RDAP rate limit (`tools.rate_limit`) or concurrency limit is reached; retry after the Retry-After delay.',
  TOOL_ERR_DATA: 'The MAC vendor (OUI) data could not be loaded (the oui-data package is missing or unreadable).',
  API_ERR_OPERATIONS_DISABLED:
    'HTTP 403: operations cannot be started or cancelled because no API token is configured (an `operate` token is needed).',
  OPS_ERR_DISABLED: 'An on-demand operation was refused because `operations.enabled` is false (HTTP 403).',
  OPS_ERR_INVALID: 'An on-demand operation request is not a valid ping, traceroute or mtr (HTTP 422; details list the problems).',
  OPS_ERR_BUDGET:
    'An on-demand operation would send more probes than `operations.max_packets`, or run longer than `operations.max_duration` (HTTP 422).',
  OPS_ERR_BUSY: 'An on-demand operation was refused because `operations.max_concurrent` operations are running (HTTP 429, Retry-After).',
  OPS_ERR_RATE: 'An on-demand operation was refused because its token started its `operations.rate` already (HTTP 429, Retry-After).',
  OPS_ERR_DENIED:
    'An on-demand operation was refused for its addresses: the destination (or the address its name resolves to) is not in `operations.allow`, is in `operations.deny` or is unspecified, multicast or broadcast; or the source is not an address of this host (HTTP 403).',
  OPS_ERR_RUNNER: 'An on-demand operation failed in the engine for an unexpected reason (its `error` event and the log have the message).',
  OPS_ERR_CANCELLED: 'An on-demand operation was cancelled (DELETE, or wireprobe stopping) before it had gathered a result.',
  FLEET_ERR_CONNECT: 'The NATS servers of the fleet cannot be reached (or not within connect_timeout); probing goes on and the connection is retried.',
  FLEET_ERR_AUTH: 'The NATS servers refused the fleet credentials (token, NKEY seed) or their permissions; probing goes on and the connection is retried.',
  FLEET_ERR_SELECTOR: 'A member selector is not `key=value[,key=value...]` with label names and values of the allowed characters.',
  FLEET_ERR_REQUEST: 'A fleet operation request is malformed (kind, destination, options, deadline).',
  FLEET_ERR_REFUSED: "A member refused an operation its own config does not allow (fleet.allow: operation kinds, destination prefixes).",
  FLEET_ERR_UNAVAILABLE: 'The fleet is not connected to NATS (HTTP 503), or a member failed to run an operation for an unexpected reason (its log has the details).',
};

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
