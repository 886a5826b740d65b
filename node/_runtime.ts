/**
 * What a node's context and proxy need from the node itself. Private to `node/`.
 *
 * @module
 */

import type { Codec } from "../adapters/codec/types.ts";
import type { Encryptor } from "../adapters/crypto/types.ts";
import type { Locator } from "../adapters/locator/types.ts";
import type { GateLink } from "../core/link.ts";
import type { Logger } from "../core/logger.ts";
import type { PacketFormat } from "../core/packet.ts";
import type { NodeProxy } from "./proxy.ts";

/** The node internals shared by {@linkcode Context} and {@linkcode NodeProxy}. */
export interface NodeRuntime {
  readonly id: string;
  readonly name: string;
  readonly format: PacketFormat;
  readonly codec: Codec;
  /** Encrypts client-bound payloads and decrypts payloads from clients, when configured. */
  readonly encryptor: Encryptor | undefined;
  readonly locator: Locator;
  readonly log: Logger;
  /** Users bound to this node (by this node's `bindNode`, or learnt from the locator). */
  readonly bound: Set<number>;
  /** The link to gate `gid`. @throws {DueError} `unavailable` when the gate is not known */
  gate(gid: string): GateLink;
  /** Every known gate. */
  gates(): Iterable<{ id: string; link: GateLink }>;
  /** Sends a client packet to node `nid` as a Deliver (a reply to a node's request, or node-to-node). */
  deliverTo(nid: string, cid: number, uid: number, packet: Uint8Array): void;
  /** Counts a reply that had nowhere to go. */
  unroutableReply(): void;
  /** The game-facing proxy. */
  readonly proxy: NodeProxy;
}
