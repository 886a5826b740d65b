/**
 * {@linkcode ConfigError}: the one error a bad config raises, naming where the value came from (a file, an env
 * variable or a flag), the dotted key and what was expected.
 *
 * @module
 */

/** Details of a {@linkcode ConfigError}. */
export interface ConfigErrorDetails {
  /** Where the value came from: a file path, `env DUE_MODE` or `flag --mode`. */
  file: string;
  /** The dotted key, e.g. `network.tcp.server.addr`; empty when the whole file is wrong. */
  key?: string;
  /** What a valid value looks like, e.g. `a duration like "10s"`. */
  expected?: string;
  /** The value found. */
  value?: unknown;
  /** The line in the file, when a parser gave one. */
  line?: number;
  /** A message other than the standard "must be" one. */
  message?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A config value, file or override that cannot be used.
 *
 * The standard message names the file, the key, the expected type and the value found:
 * `Invalid config in due.toml: 'network.tcp.server.heartbeatInterval' must be a duration like "10s": current value is "ten"`.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./config_error.ts";
 * const err = new ConfigError({ file: "due.toml", key: "mode", expected: 'one of "debug", "test", "release"', value: "prod" });
 * console.assert(err.message === `Invalid config in due.toml: 'mode' must be one of "debug", "test", "release": current value is "prod"`);
 * ```
 */
export class ConfigError extends Error {
  /** Where the value came from: a file path, `env DUE_MODE` or `flag --mode`. */
  readonly file: string;
  /** The dotted key; empty when the whole file is wrong. */
  readonly key: string;
  /** What a valid value looks like. */
  readonly expected: string;
  /** The value found. */
  readonly value: unknown;
  /** The line in the file, when known. */
  readonly line: number | undefined;

  /** @param details where, which key, what was expected and found; `message` replaces the standard message */
  constructor(details: ConfigErrorDetails) {
    const { file, key = "", expected = "", value, line, message, cause } = details;
    super(
      message ??
        `Invalid config in ${file}: '${key}' must be ${expected}: current value is ${describeValue(value)}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = "ConfigError";
    this.file = file;
    this.key = key;
    this.expected = expected;
    this.value = value;
    this.line = line;
  }
}

/** A value as it appears in messages: strings quoted, lists and tables as JSON, at most 80 characters. */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value);
  else if (value === undefined || typeof value === "number" || typeof value === "boolean") {
    text = String(value);
  } else if (typeof value === "bigint") text = `${value}`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
