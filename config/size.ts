/**
 * Sizes in config: due's strings (`"4M"`, `"512K"`, `"1G"`, `"100B"`; multiples of 1024) or a number of bytes.
 * Everything inside the framework holds bytes.
 *
 * @module
 */

const UNIT_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const SIZE_REGEXP = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * Parses a size into bytes: a number followed by an optional unit (`B`, `K`/`KB`/`KiB`, `M`/`MB`/`MiB`,
 * `G`/`GB`/`GiB`, `T`/`TB`/`TiB`, any case; every multiple is 1024) or a non-negative integer of bytes.
 * Fractions are rounded down to whole bytes.
 *
 * @param input the size as written in a config file, env variable or flag
 * @returns the size in bytes
 * @throws {SyntaxError} if `input` is not a size
 *
 * @example
 * ```ts
 * import { parseSize } from "./size.ts";
 * console.assert(parseSize("4M") === 4 * 1024 * 1024);
 * console.assert(parseSize(100) === 100);
 * ```
 */
export function parseSize(input: string | number): number {
  if (typeof input === "number") {
    if (Number.isSafeInteger(input) && input >= 0) return input;
    throw new SyntaxError(
      `Cannot parse size as it must be a non-negative integer: current value is ${input}`,
    );
  }
  const match = SIZE_REGEXP.exec(input.trim());
  const unit = match ? UNIT_BYTES[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new SyntaxError(
      `Cannot parse size as it must be like "4M", "512K", "1G" or "100B": current value is ${
        JSON.stringify(input)
      }`,
    );
  }
  return Math.floor(Number(match[1]) * unit);
}

/**
 * Formats bytes as the shortest exact size string {@linkcode parseSize} reads back (`4194304` → `"4M"`).
 *
 * @example
 * ```ts
 * import { formatSize } from "./size.ts";
 * console.assert(formatSize(4 * 1024 * 1024) === "4M");
 * console.assert(formatSize(1000) === "1000B");
 * ```
 */
export function formatSize(bytes: number): string {
  for (const unit of ["T", "G", "M", "K"]) {
    const size = UNIT_BYTES[unit.toLowerCase()];
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
