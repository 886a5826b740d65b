/**
 * The JSON codec (UTF-8 JSON text), the default of `due dev`.
 *
 * @module
 */
import { utf8Decode, utf8Encode } from "../../core/bytes.ts";
import type { Codec } from "./types.ts";

/**
 * Creates the JSON codec. An empty payload decodes to `undefined`. Encoded bytes may be a view into a shared slab
 * (see `core/bytes.ts`): copy them to keep them beyond the current task.
 */
export function createJsonCodec(): Codec {
  return {
    name: "json",
    encode(value: unknown): Uint8Array {
      if (value instanceof Uint8Array) return value;
      return utf8Encode(value === undefined ? "" : JSON.stringify(value));
    },
    encodeText(value: unknown): string | undefined {
      if (value instanceof Uint8Array) return undefined;
      return value === undefined ? "" : JSON.stringify(value);
    },
    decode<T>(bytes: Uint8Array): T {
      if (bytes.length === 0) return undefined as T;
      return JSON.parse(utf8Decode(bytes)) as T;
    },
  } satisfies Codec;
}
