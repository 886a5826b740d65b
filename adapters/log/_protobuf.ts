/**
 * Private to `adapters/log/`: the few protobuf encodings the SLS and CLS log APIs need (varint, fixed32,
 * length-delimited fields), written to a growing byte buffer. Field numbers come from the callers' schemas.
 *
 * @module
 */

const encoder = new TextEncoder();

/** An append-only protobuf writer. */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Writes an unsigned varint (up to 2^53). */
  varint(value: number): this {
    this.#reserve(10);
    let v = value;
    while (v >= 0x80) {
      this.#buf[this.#len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#len++] = v;
    return this;
  }

  /** Writes a varint field (wire type 0). */
  uint(field: number, value: number): this {
    return this.varint(field << 3).varint(value);
  }

  /** Writes a fixed32 field (wire type 5). */
  fixed32(field: number, value: number): this {
    this.varint((field << 3) | 5);
    this.#reserve(4);
    new DataView(this.#buf.buffer).setUint32(this.#len, value >>> 0, true);
    this.#len += 4;
    return this;
  }

  /** Writes a length-delimited field (wire type 2) of raw bytes. */
  bytes(field: number, value: Uint8Array): this {
    this.varint((field << 3) | 2).varint(value.length);
    this.#reserve(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
    return this;
  }

  /** Writes a string field. */
  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** Writes an embedded message field built by `build`. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
