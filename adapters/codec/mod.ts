/**
 * Payload codecs chosen by name (`cluster.node.codec`). Backends load lazily, so a game on JSON never loads
 * protobufjs.
 *
 * @module
 */
import type { Codec } from "./types.ts";
import type { ProtobufCodecOptions } from "./protobuf.ts";

export type { Codec } from "./types.ts";
export type { ProtobufCodecOptions } from "./protobuf.ts";

/** Options of {@linkcode createCodec}. */
export interface CodecOptions {
  /** Options of the protobuf codec. */
  protobuf?: ProtobufCodecOptions;
}

const LOADERS: Record<string, (options: CodecOptions) => Promise<Codec>> = {
  json: async () => (await import("./json.ts")).createJsonCodec(),
  msgpack: async () => (await import("./msgpack.ts")).createMsgpackCodec(),
  protobuf: async (options) => (await import("./protobuf.ts")).createProtobufCodec(options.protobuf),
};

/** Names of the codecs available. */
export const CODEC_NAMES: readonly string[] = Object.keys(LOADERS);

/**
 * Creates the codec named `name`.
 *
 * @throws {RangeError} for an unknown name
 */
export function createCodec(name: string, options: CodecOptions = {}): Promise<Codec> {
  const load = LOADERS[name];
  if (!load) {
    throw new RangeError(
      `Cannot create codec as its name must be one of ${CODEC_NAMES.join("|")}: current value is "${name}"`,
    );
  }
  return load(options);
}
