/**
 * The Protocol Buffers codec, on `npm:protobufjs`, with the user's `.proto` files or JSON descriptors
 * (`codec.protobuf.files`). Every encode and decode names its message type (`"game.EchoReq"`), usually through the
 * route's `request` / `response` options.
 *
 * @module
 */
import protobuf from "protobufjs";
import type { Codec } from "./types.ts";

/** Options of {@linkcode createProtobufCodec}. */
export interface ProtobufCodecOptions {
  /** Paths of `.proto` files or JSON descriptor files (`.json`, as `pbjs -t json` writes them). */
  files?: string[];
  /** Descriptors given inline, as objects in protobufjs' JSON form (tests, bundlers). */
  descriptors?: protobuf.INamespace[];
}

/**
 * Creates the protobuf codec, loading every file at once so a bad schema fails at start.
 *
 * @throws {TypeError} when a file cannot be read or parsed (the message names the file)
 */
export async function createProtobufCodec(options: ProtobufCodecOptions = {}): Promise<Codec> {
  const { files = [], descriptors = [] } = options;
  const root = new protobuf.Root();
  for (const file of files) {
    try {
      const text = await Deno.readTextFile(file);
      if (file.endsWith(".json")) {
        const json = JSON.parse(text);
        root.addJSON(json.nested ?? json);
      } else protobuf.parse(text, root, { keepCase: true });
    } catch (err) {
      throw new TypeError(`Cannot load protobuf schema '${file}': ${(err as Error).message}`, { cause: err });
    }
  }
  for (const descriptor of descriptors) root.addJSON(descriptor.nested ?? {});
  root.resolveAll();
  const types = new Map<string, protobuf.Type>();
  const lookup = (type: string | undefined): protobuf.Type => {
    if (!type) {
      throw new TypeError(
        "Cannot use protobuf codec without a message type: set the route's request/response type",
      );
    }
    let found = types.get(type);
    if (!found) {
      try {
        found = root.lookupType(type);
      } catch {
        throw new TypeError(
          `Cannot use protobuf codec as message type '${type}' is not in the loaded schemas`,
        );
      }
      types.set(type, found);
    }
    return found;
  };
  return {
    name: "protobuf",
    encode(value: unknown, type?: string): Uint8Array {
      if (value instanceof Uint8Array) return value;
      const messageType = lookup(type);
      const problem = messageType.verify(value as Record<string, unknown>);
      if (problem) throw new TypeError(`Cannot encode ${type}: ${problem}`);
      return messageType.encode(messageType.fromObject(value as Record<string, unknown>)).finish();
    },
    decode<T>(bytes: Uint8Array, type?: string): T {
      const messageType = lookup(type);
      return messageType.toObject(messageType.decode(bytes), {
        longs: Number,
        enums: String,
        defaults: true,
      }) as T;
    },
  } satisfies Codec;
}
