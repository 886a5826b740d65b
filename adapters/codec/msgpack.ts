/**
 * The MessagePack codec, on `npm:msgpackr` with plain maps (no record extension), so any MessagePack peer
 * (Go's shamaton/msgpack as due uses, C#, C++) can read it.
 *
 * @module
 */
import { Packr } from "msgpackr";
import type { Codec } from "./types.ts";

/** Creates the MessagePack codec. An empty payload decodes to `undefined`. */
export function createMsgpackCodec(): Codec {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });
  return {
    name: "msgpack",
    encode(value: unknown): Uint8Array {
      if (value instanceof Uint8Array) return value;
      return packr.pack(value);
    },
    decode<T>(bytes: Uint8Array): T {
      if (bytes.length === 0) return undefined as T;
      return packr.unpack(bytes) as T;
    },
  } satisfies Codec;
}
