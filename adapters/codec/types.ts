/**
 * The payload codec interface: what turns a handler's values into packet payloads and back. Chosen by
 * `cluster.node.codec` (json, msgpack, protobuf). Gates never use a codec: they forward bytes.
 *
 * @module
 */

/** Encodes and decodes payloads. */
export interface Codec {
  /** The name config uses: `json`, `msgpack`, `protobuf`. */
  readonly name: string;
  /**
   * Encodes a value. `type` names the message type for schema codecs (protobuf: `"package.Message"`); schemaless
   * codecs ignore it. A `Uint8Array` value is passed through unchanged by every codec.
   */
  encode(value: unknown, type?: string): Uint8Array;
  /**
   * For codecs whose bytes are text: the value's encoding as a string, sent as UTF-8, so that a packer can write
   * it straight into the packet; `undefined` when this value must go through {@linkcode Codec.encode} (a
   * `Uint8Array`). Optional: packers call `encode` when it is missing.
   */
  encodeText?(value: unknown, type?: string): string | undefined;
  /** Decodes bytes; `type` as for {@linkcode Codec.encode}. */
  decode<T = unknown>(bytes: Uint8Array, type?: string): T;
}
