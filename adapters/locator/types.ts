/**
 * User location: which gate holds a user's connection, and which node of each node name holds the user's state.
 * Key layout and events of the Redis backend are in PROTOCOL.md §3.
 *
 * @module
 */

/** Locator change types, as numbers in events. */
export const LocateEventType = { BindGate: 1, BindNode: 2, UnbindGate: 3, UnbindNode: 4 } as const;
/** One of the values of {@linkcode LocateEventType}. */
export type LocateEventType = typeof LocateEventType[keyof typeof LocateEventType];

/** A change of a user's location (JSON keys as due publishes them). */
export interface LocateEvent {
  /** The user. */
  uid: number;
  /** What changed. */
  type: LocateEventType;
  /** The gate or node instance id. */
  insID: string;
  /** `gate` or `node`. */
  insKind: "gate" | "node";
  /** The instance's name (node group; `gate` for gates). */
  insName: string;
}

/** Options of {@linkcode Locator.watch}. */
export interface LocateWatchOptions {
  /** Ends the watch. */
  signal?: AbortSignal;
  /**
   * Called when the watch is live: once when it starts receiving events, and again after every reconnect of the
   * backend. Events published while it was not live are lost, so a cache of locations should drop what it holds.
   */
  onReady?: () => void;
}

/** Finds and records where users are. */
export interface Locator {
  /** The driver name. */
  readonly name: string;
  /** Records that `uid` is connected through gate `gid`. */
  bindGate(uid: number, gid: string): Promise<void>;
  /** Removes the gate binding of `uid` only if it is still `gid` (compare and delete). */
  unbindGate(uid: number, gid: string): Promise<void>;
  /** The gate of `uid`, or `undefined`. */
  locateGate(uid: number): Promise<string | undefined>;
  /** Records that `uid`'s state for node name `name` lives on node `nid`. */
  bindNode(uid: number, name: string, nid: string): Promise<void>;
  /** Removes the node binding of `uid` for `name` only if it is still `nid`. */
  unbindNode(uid: number, name: string, nid: string): Promise<void>;
  /** The node of `uid` for node name `name`, or `undefined`. */
  locateNode(uid: number, name: string): Promise<string | undefined>;
  /** Every node binding of `uid`: node name → nid. */
  locateNodes(uid: number): Promise<Record<string, string>>;
  /** Location changes of the given kinds, as they happen. */
  watch(kinds: ("gate" | "node")[], options?: LocateWatchOptions): AsyncIterable<LocateEvent>;
  /** Ends watches and releases connections. */
  close(): Promise<void>;
}
