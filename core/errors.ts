/**
 * The one error type of due: a stable machine-readable `code`, a human message, the cause, and the context
 * that helps an operator (the address tried, the route, the uid, the instance).
 *
 * Bad arguments and bad config throw the built-in `TypeError` / `RangeError` / `SyntaxError`; `DueError` is for
 * conditions a caller may catch and act on.
 *
 * @module
 */

/** Stable error codes. Lower snake case, never renamed once released. */
export const ErrorCode = {
  /** A packet or frame that breaks the wire format. */
  InvalidPacket: "invalid_packet",
  /** A packet larger than the configured limit. */
  PacketTooLarge: "packet_too_large",
  /** A route nobody serves. */
  RouteNotFound: "route_not_found",
  /** No node can take the request (none registered, none in state work/busy). */
  NoNode: "no_node",
  /** The session (connection or user) does not exist. */
  NotFoundSession: "not_found_session",
  /** The user has no location (gate or node) in the locator. */
  NotFoundLocation: "not_found_location",
  /** The request is not allowed (unbound user on an authorized route, internal route from a gate, …). */
  IllegalRequest: "illegal_request",
  /** A call or dial took longer than allowed. */
  Timeout: "timeout",
  /** The connection, link or component is closed. */
  Closed: "closed",
  /** A bounded queue is full. */
  QueueFull: "queue_full",
  /** A remote system (etcd, Redis, NATS, …) cannot be reached or answered with an error. */
  Unavailable: "unavailable",
  /** Anything else that went wrong inside the framework. */
  Internal: "internal",
} as const;

/** One of the values of {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** Context attached to a {@linkcode DueError}. */
export interface ErrorContext {
  /** The address that was tried (host:port, URL). */
  addr?: string;
  /** The route involved. */
  route?: number;
  /** The user involved. */
  uid?: number;
  /** The connection involved. */
  cid?: number;
  /** The instance involved. */
  instanceId?: string;
}

/** Options of {@linkcode DueError}. */
export interface DueErrorOptions extends ErrorContext {
  /** The underlying error. */
  cause?: unknown;
}

/**
 * An error with a stable code and context.
 *
 * @example Throw and test for a code
 * ```ts
 * import { DueError, ErrorCode } from "./errors.ts";
 * const err = new DueError(ErrorCode.Timeout, "Cannot call node n1: no answer within 3000 ms", { addr: "127.0.0.1:9000" });
 * console.assert(DueError.is(err, ErrorCode.Timeout));
 * ```
 */
export class DueError extends Error {
  /** The stable machine-readable code. */
  readonly code: ErrorCode;
  /** Context: address, route, uid, cid, instance. */
  readonly context: ErrorContext;

  /**
   * @param code a value of {@linkcode ErrorCode}
   * @param message a human message, std style: "Cannot do X: current state"
   * @param options context and cause
   */
  constructor(code: ErrorCode, message: string, options: DueErrorOptions = {}) {
    const { cause, ...context } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.name = "DueError";
    this.code = code;
    this.context = context;
  }

  /** Whether `err` is a {@linkcode DueError}, optionally with the given code. */
  static is(err: unknown, code?: ErrorCode): err is DueError {
    return err instanceof DueError && (code === undefined || err.code === code);
  }
}

/** A call, dial or wait that took too long. */
export class TimeoutError extends DueError {
  constructor(message: string, options: DueErrorOptions = {}) {
    super(ErrorCode.Timeout, message, options);
    this.name = "TimeoutError";
  }
}

/** An operation on something already closed. */
export class ClosedError extends DueError {
  constructor(message: string, options: DueErrorOptions = {}) {
    super(ErrorCode.Closed, message, options);
    this.name = "ClosedError";
  }
}

/** Turns anything thrown into a message fit for one log line. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
