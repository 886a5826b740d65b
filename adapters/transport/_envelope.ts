/**
 * The binary envelope of a mesh call over a message broker (the NATS transport). Private to `adapters/transport/`.
 *
 * The service is the subject (`<prefix>.<service>`), so the request carries the rest of what route 18 of the
 * cluster link carries (PROTOCOL.md §2.6), behind a version byte:
 *
 * ```text
 * request: | version u8 = 1 | method length u8 | method UTF-8 | codec length u8 | codec UTF-8 | args (rest) |
 * reply:   | status u8 = 0 (ok)    | result (rest) |
 *          | status u8 = 1 (error) | code length u8 | due error code (ASCII) | message UTF-8 (rest) |
 * ```
 *
 * Args and result are the bytes of the caller's codec (the argument array, the method's return value), carried
 * as they are. Names are at most 255 UTF-8 bytes. A request with another version byte is answered with the
 * error `invalid_packet`, so a future layout fails loudly instead of being misread.
 *
 * `rank.top(3)` with the JSON codec, the answer `[1,2]`, and an error:
 *
 * ```text
 * 01 03 74 6f 70 04 6a 73 6f 6e 5b 33 5d         v1 | 3 "top" | 4 "json" | "[3]"
 * 00 5b 31 2c 32 5d                              ok | "[1,2]"
 * 01 0f 72 6f 75 74 65 …  6e 6f 20 73 75 63 68 …  error | 15 "route_not_found" | "no such …"
 * ```
 *
 * @module
 */

/** The version byte every request starts with. */
export const ENVELOPE_VERSION: number = 1;
/** Longest method or codec name, and longest error code, in UTF-8 bytes (u8 length). */
export const MAX_NAME_BYTES: number = 0xff;

/** The first byte of a reply. */
export const ReplyStatus = {
  /** The result follows. */
  Ok: 0,
  /** An error code and message follow. */
  Error: 1,
} as const;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function shortName(what: string, value: string): Uint8Array {
  const bytes = utf8.encode(value);
  if (bytes.length > MAX_NAME_BYTES) {
    throw new RangeError(
      `Cannot encode ${what} as it must be at most ${MAX_NAME_BYTES} UTF-8 bytes: current length is ${bytes.length}`,
    );
  }
  return bytes;
}

/**
 * A request: version, method, codec, args.
 *
 * @throws {RangeError} when the method or codec name is longer than 255 UTF-8 bytes
 */
export function encodeRequest(method: string, codec: string, args: Uint8Array): Uint8Array {
  const m = shortName("mesh method name", method);
  const c = shortName("codec name", codec);
  const out = new Uint8Array(3 + m.length + c.length + args.length);
  out[0] = ENVELOPE_VERSION;
  out[1] = m.length;
  out.set(m, 2);
  const at = 2 + m.length;
  out[at] = c.length;
  out.set(c, at + 1);
  out.set(args, at + 1 + c.length);
  return out;
}

/** Offset of the args in a request, or -1 when it is truncated or has another version. */
export function requestArgsOffset(buf: Uint8Array): number {
  if (buf.length < 3 || buf[0] !== ENVELOPE_VERSION) return -1;
  const at = 2 + buf[1];
  if (buf.length < at + 1) return -1;
  const end = at + 1 + buf[at];
  return buf.length < end ? -1 : end;
}

/** The method of a request whose {@linkcode requestArgsOffset} is not -1; `undefined` when not UTF-8. */
export function requestMethod(buf: Uint8Array): string | undefined {
  return text(buf, 2, 2 + buf[1]);
}

/** The codec name of a request whose {@linkcode requestArgsOffset} is not -1; `undefined` when not UTF-8. */
export function requestCodec(buf: Uint8Array): string | undefined {
  const at = 2 + buf[1];
  return text(buf, at + 1, at + 1 + buf[at]);
}

/** A success reply: status 0, then the result. */
export function encodeResult(result: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + result.length);
  out[0] = ReplyStatus.Ok;
  out.set(result, 1);
  return out;
}

/** An error reply: status 1, the code (u8 length), the message (rest). A code over 255 bytes is cut. */
export function encodeError(code: string, message: string): Uint8Array {
  const c = utf8.encode(code).subarray(0, MAX_NAME_BYTES);
  const m = utf8.encode(message);
  const out = new Uint8Array(2 + c.length + m.length);
  out[0] = ReplyStatus.Error;
  out[1] = c.length;
  out.set(c, 2);
  out.set(m, 2 + c.length);
  return out;
}

/** The status of a reply ({@linkcode ReplyStatus}), or -1 when it is empty or unknown. */
export function replyStatus(buf: Uint8Array): number {
  if (buf.length === 0) return -1;
  return buf[0] === ReplyStatus.Ok || buf[0] === ReplyStatus.Error ? buf[0] : -1;
}

/** The code and message of an error reply, or `undefined` when it is truncated or not UTF-8. */
export function decodeError(buf: Uint8Array): { code: string; message: string } | undefined {
  if (buf.length < 2 || buf[0] !== ReplyStatus.Error) return undefined;
  const end = 2 + buf[1];
  if (buf.length < end) return undefined;
  const code = text(buf, 2, end);
  const message = text(buf, end, buf.length);
  return code === undefined || message === undefined ? undefined : { code, message };
}

function text(buf: Uint8Array, start: number, end: number): string | undefined {
  try {
    return strictUtf8.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}
