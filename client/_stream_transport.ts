/**
 * The stream transport of the client (private to `client/`), shared by Deno (`tcp_deno.ts`) and Node
 * (`tcp_node.ts`): a coalescing writer, the close that flushes first, and the rule that the client hears of an
 * ending connection once and never after it closed it itself. The socket is the caller's, behind a small
 * {@linkcode ByteSocket}; this file touches neither `Deno.*` nor `node:*`.
 *
 * @module
 */

import { StreamWriter } from "./_stream_writer.ts";
import type { Transport, TransportHandlers } from "./transport.ts";

/** How long `close()` waits for queued writes to go out. */
const CLOSE_FLUSH_MS = 1000;

/** The platform side of a {@linkcode StreamTransport}. */
export interface ByteSocket {
  /**
   * Starts reading: hands every chunk read to `onData` (valid during the call only) and stops reading once it
   * returns `false`; calls `onEnd` once when the socket ends or fails. Resolves once the socket is released.
   */
  read(onData: (bytes: Uint8Array) => boolean, onEnd: (error?: Error) => void): Promise<void>;
  /** Writes all of `bytes`; rejects when the socket fails. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the socket at once; never throws. */
  destroy(): void;
}

/** One stream connection: what the socket reads goes to the client, writes go through a coalescing writer. */
export class StreamTransport implements Transport {
  readonly #socket: ByteSocket;
  readonly #handlers: TransportHandlers;
  readonly #writer: StreamWriter;
  readonly #ended: Promise<void>;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(socket: ByteSocket, handlers: TransportHandlers, maxQueuedBytes: number) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#writer = new StreamWriter(
      (bytes) => socket.write(bytes),
      (error) => this.#fail(error),
      maxQueuedBytes,
    );
    this.#ended = socket.read((bytes) => this.#data(bytes), (error) => this.#fail(error));
  }

  write(bytes: Uint8Array): boolean {
    return !this.#closing && this.#writer.write(bytes);
  }

  close(): Promise<void> {
    return this.#closed ??= this.#close();
  }

  async #close(): Promise<void> {
    const ended = this.#closing;
    this.#closing = true;
    if (!ended) await this.#writer.drain(CLOSE_FLUSH_MS);
    this.#writer.fail();
    this.#socket.destroy();
    await this.#ended;
  }

  #data(bytes: Uint8Array): boolean {
    if (this.#closing) return false;
    this.#handlers.onData(bytes);
    return true;
  }

  /** The connection ended by itself: tell the client once, unless it is the one closing. */
  #fail(error?: Error): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#writer.fail();
    this.#socket.destroy();
    this.#handlers.onClose(error);
  }
}
