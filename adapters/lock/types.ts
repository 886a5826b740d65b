/**
 * Distributed locks (due's `lock`): a {@linkcode LockMaker} makes named {@linkcode Lock}s; at most one holder in
 * the cluster holds a name at a time. A held lock expires after `expirationMs` unless renewed, and the holder
 * renews it automatically while it holds it, so a crashed holder frees the name within `expirationMs`.
 *
 * @module
 */

/** Options of {@linkcode Lock.acquire}. */
export interface AcquireOptions {
  /**
   * Stops this caller's wait; its `acquire` then rejects with the signal's reason. Concurrent `acquire` calls on
   * one lock object share one retry loop, which stops (taking nothing) once every caller has stopped waiting.
   */
  signal?: AbortSignal;
}

/** One named lock. Not re-entrant across objects; idempotent on one object. */
export interface Lock {
  /** The name given to {@linkcode LockMaker.make}. */
  readonly name: string;
  /** Whether this object holds the lock (false once a renewal found it lost). */
  readonly held: boolean;
  /**
   * Takes the lock, retrying every `acquireIntervalMs`. Gives up with a `TimeoutError` after
   * `acquireMaxRetries` retries (when > 0) or after `acquireTimeoutMs`, whichever comes first. Resolves at once
   * when this object already holds it.
   *
   * @throws {TimeoutError} when the lock stays taken
   * @throws {DueError} `unavailable` when the server cannot be reached, `closed` after the maker closed
   */
  acquire(options?: AcquireOptions): Promise<void>;
  /** Takes the lock if free, without waiting; `true` when this object now holds it. */
  tryAcquire(): Promise<boolean>;
  /**
   * Releases the lock if this object still holds it (compare-and-delete: a lock that expired and was taken by
   * someone else is left alone). `true` when it was released here.
   */
  release(): Promise<boolean>;
}

/** Makes locks sharing one connection. */
export interface LockMaker {
  /** A lock object for `name` (stored as `<prefix>:<name>`). Cheap; does not touch the server. */
  make(name: string): Lock;
  /** Releases every lock it made that is held, stops renewals and closes the connection. Idempotent. */
  close(): Promise<void>;
}
