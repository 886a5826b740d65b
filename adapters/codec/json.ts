/**
 * The JSON codec (UTF-8 JSON text), the default of `due dev`.
 *
 * @module
 */
import type { Codec } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Creates the JSON codec. An empty payload decodes to `undefined`. */
export function createJsonCodec(): Codec {
  return {
    name: "json",
    encode(value: unknown): Uint8Array {
      if (value instanceof Uint8Array) return value;
      return encoder.encode(value === undefined ? "" : JSON.stringify(value));
    },
    decode<T>(bytes: Uint8Array): T {
      if (bytes.length === 0) return undefined as T;
      return JSON.parse(decoder.decode(bytes)) as T;
    },
  } satisfies Codec;
}
