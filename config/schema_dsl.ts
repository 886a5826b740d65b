/**
 * A tiny schema language for configuration: every key has a type, a default and a one-line doc, and the
 * TypeScript type of a loaded config is inferred from the schema with {@linkcode Infer}, so the schema is the one
 * source of truth for types, defaults, validation, env/flag names and the rendered default file.
 *
 * Builders take `(default, doc, options?)`; `enum` and `list` first take what they are made of. Durations are
 * read as due's strings (`"10s"`) or numbers of milliseconds and hold {@linkcode Milliseconds}; sizes are read as
 * `"4M"` or numbers of bytes and hold {@linkcode Bytes}.
 *
 * This file is past 400 lines for one job: the builders share one core (`leaf`) and the inference types.
 *
 * @example A schema and its inferred type
 * ```ts
 * import * as s from "./schema_dsl.ts";
 * const server = s.object({
 *   addr: s.string(":3553", "Listen address"),
 *   heartbeatInterval: s.duration("10s", "Liveness interval"),
 *   mechanism: s.enum(["resp", "tick"], "resp", "Who sends heartbeats"),
 * }, "A server");
 * type Server = s.Infer<typeof server>; // { addr: string; heartbeatInterval: Milliseconds; mechanism: "resp" | "tick" }
 * const config: Server = s.defaults(server);
 * console.assert(config.heartbeatInterval === 10_000);
 * ```
 *
 * @module
 */

import { parseDuration } from "./duration.ts";
import { parseSize } from "./size.ts";

/** A duration in milliseconds (config durations such as `heartbeatInterval = "10s"` hold `10000`). */
export type Milliseconds = number & Record<never, never>;
/** A size in bytes (config sizes such as `frameLimit = "4M"` hold `4194304`). */
export type Bytes = number & Record<never, never>;

/** The kinds of leaf values. */
export type LeafKind =
  | "string"
  | "int"
  | "number"
  | "bool"
  | "duration"
  | "size"
  | "enum"
  | "list"
  | "record";

/** The outcome of parsing one value: the value, or what was wrong and where (`at` is `""` or `"[2]"`). */
export type ParseResult<T> =
  | { ok: true; value: T }
  | { ok: false; at: string; expected: string; value: unknown };

/**
 * A key holding a value of type `T` (written in files as `I`).
 *
 * `text` in {@linkcode LeafSpec.parse} means the value is a string from an env variable or a flag, so numbers,
 * booleans, lists (comma-separated or JSON) and records (`k=v,k2=v2` or JSON) are read from text.
 */
export interface LeafSpec<T, I = T> {
  /** The kind of value. */
  readonly kind: LeafKind;
  /** The default, converted (durations in ms, sizes in bytes). */
  readonly default: T;
  /** The default as written in a config file (`"10s"`, `"4M"`, `5000`). */
  readonly written: I;
  /** One line of documentation. */
  readonly doc: string;
  /** What a valid value looks like, for messages: `a duration like "10s"`. */
  readonly expected: string;
  /** The plural, for lists of this kind: `integers`. */
  readonly plural: string;
  /** Allowed values of an enum, else undefined. */
  readonly values?: readonly (string | number)[];
  /** Parses a raw value. */
  parse(value: unknown, text: boolean): ParseResult<T>;
}

/** A list key; its items are checked with `item`. */
export interface ListSpec<T, I = T> extends LeafSpec<T[], readonly I[]> {
  readonly kind: "list";
  /** The spec of one item. */
  readonly item: LeafSpec<T, I>;
}

/** The fields of an object: key → spec. */
export type Fields = { readonly [key: string]: Spec };

/** A section: a table of keys and sub-sections. */
export interface ObjectSpec<F extends Fields = Fields> {
  readonly kind: "object";
  /** The keys and sub-sections. */
  readonly fields: F;
  /** One line of documentation. */
  readonly doc: string;
}

/** Any spec. */
// deno-lint-ignore no-explicit-any
export type Spec = LeafSpec<any, any> | ObjectSpec<Fields>;

/** The type of the values a schema describes: durations and sizes are numbers (ms, bytes). */
export type Infer<S> = S extends ObjectSpec<infer F> ? { -readonly [K in keyof F]: Infer<F[K]> }
  : S extends LeafSpec<infer T, infer _I> ? T
  : never;

/** The type of what may be written for a schema: every key optional, durations and sizes also as strings. */
export type InferInput<S> = S extends ObjectSpec<infer F> ? { -readonly [K in keyof F]?: InferInput<F[K]> }
  : S extends LeafSpec<infer _T, infer I> ? I
  : never;

function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

function leaf<T, I>(
  kind: LeafKind,
  written: I,
  doc: string,
  expected: string,
  plural: string,
  parse: (value: unknown, text: boolean) => ParseResult<T>,
): LeafSpec<T, I> {
  const fail = (value: unknown): ParseResult<T> => ({ ok: false, at: "", expected, value });
  const checked = (value: unknown, text: boolean) => {
    const result = parse(value, text);
    return result.ok || result.at !== "" ? result : fail(value);
  };
  const initial = checked(written, false);
  if (!initial.ok) {
    throw new TypeError(
      `Cannot define ${kind} key as its default must be ${expected}: current value is ${
        JSON.stringify(written)
      }`,
    );
  }
  return { kind, default: initial.value, written, doc, expected, plural, parse: checked };
}

const INVALID = { ok: false, at: "", expected: "", value: undefined } as const;

/**
 * A string.
 *
 * @param defaultValue the default
 * @param doc one line of documentation
 */
export function string(defaultValue = "", doc = ""): LeafSpec<string> {
  return leaf("string", defaultValue, doc, "a string", "strings", (value) => {
    return typeof value === "string" ? ok(value) : INVALID;
  });
}

/** Bounds of {@linkcode int} and {@linkcode number}. */
export interface RangeOptions {
  /** The smallest value allowed. @default 0 */
  min?: number;
  /** The largest value allowed. @default Number.MAX_SAFE_INTEGER */
  max?: number;
}

/** `a non-negative integer`, `an integer >= 1`, `an integer from 1 to 64`. */
function describeRange(noun: "integer" | "number", min: number, max: number): string {
  const article = noun === "integer" ? "an" : "a";
  if (max !== Number.MAX_SAFE_INTEGER) return `${article} ${noun} from ${min} to ${max}`;
  return min === 0 ? `a non-negative ${noun}` : `${article} ${noun} >= ${min}`;
}

const INTEGER_REGEXP = /^-?\d+$/;
const NUMBER_TEXT_REGEXP = /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i;

/**
 * An integer, by default non-negative.
 *
 * @param defaultValue the default
 * @param doc one line of documentation
 * @param options bounds
 */
export function int(defaultValue = 0, doc = "", options: RangeOptions = {}): LeafSpec<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
  const expected = describeRange("integer", min, max);
  return leaf("int", defaultValue, doc, expected, "integers", (value, text) => {
    const n = text && typeof value === "string" && INTEGER_REGEXP.test(value.trim()) ? Number(value) : value;
    return typeof n === "number" && Number.isSafeInteger(n) && n >= min && n <= max ? ok(n) : INVALID;
  });
}

/**
 * A finite number, by default non-negative.
 *
 * @param defaultValue the default
 * @param doc one line of documentation
 * @param options bounds
 */
export function number(defaultValue = 0, doc = "", options: RangeOptions = {}): LeafSpec<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
  const expected = describeRange("number", min, max);
  return leaf("number", defaultValue, doc, expected, "numbers", (value, text) => {
    const n = text && typeof value === "string" && NUMBER_TEXT_REGEXP.test(value.trim())
      ? Number(value)
      : value;
    return typeof n === "number" && Number.isFinite(n) && n >= min && n <= max ? ok(n) : INVALID;
  });
}

/**
 * A boolean; from env and flags `true`, `false`, `1` or `0`.
 *
 * @param defaultValue the default
 * @param doc one line of documentation
 */
export function bool(defaultValue = false, doc = ""): LeafSpec<boolean> {
  return leaf("bool", defaultValue, doc, "true or false", "booleans", (value, text) => {
    if (typeof value === "boolean") return ok(value);
    if (text && typeof value === "string") {
      const word = value.trim().toLowerCase();
      if (word === "true" || word === "1") return ok(true);
      if (word === "false" || word === "0") return ok(false);
    }
    return INVALID;
  });
}

/**
 * A duration: `"10s"`, `"500ms"`, `"1m30s"`, `"2h"`, `"7d"` or a number of milliseconds. Holds milliseconds.
 *
 * @param defaultValue the default as written in a file
 * @param doc one line of documentation
 */
export function duration(
  defaultValue: string | number = 0,
  doc = "",
): LeafSpec<Milliseconds, string | number> {
  return leaf("duration", defaultValue, doc, 'a duration like "10s"', "durations", (value) => {
    if (typeof value !== "string" && typeof value !== "number") return INVALID;
    try {
      return ok(parseDuration(value));
    } catch {
      return INVALID;
    }
  });
}

/**
 * A size: `"4M"`, `"512K"`, `"1G"`, `"100B"` (multiples of 1024) or a number of bytes. Holds bytes.
 *
 * @param defaultValue the default as written in a file
 * @param doc one line of documentation
 */
export function size(defaultValue: string | number = 0, doc = ""): LeafSpec<Bytes, string | number> {
  return leaf("size", defaultValue, doc, 'a size like "4M"', "sizes", (value) => {
    if (typeof value !== "string" && typeof value !== "number") return INVALID;
    try {
      return ok(parseSize(value));
    } catch {
      return INVALID;
    }
  });
}

function quote(value: string | number): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * One of a closed set of strings or numbers (exported as `enum`).
 *
 * @param values the allowed values
 * @param defaultValue the default, the first value if omitted
 * @param doc one line of documentation
 */
function enumOf<const V extends readonly (string | number)[]>(
  values: V,
  defaultValue: NoInfer<V[number]> = values[0],
  doc = "",
): LeafSpec<V[number]> {
  const listed = values.map(quote).join(", ");
  const spec = leaf<V[number], V[number]>(
    "enum",
    defaultValue,
    doc,
    `one of ${listed}`,
    `values from ${listed}`,
    (value, text) => {
      const found = values.find((v) =>
        v === value || (text && typeof value === "string" && String(v) === value)
      );
      return found === undefined ? INVALID : ok(found);
    },
  );
  return { ...spec, values };
}
export { enumOf as enum };

/** Constraints of {@linkcode list}. */
export interface ListOptions {
  /** The exact number of items, if fixed. */
  length?: number;
  /** Whether items must be distinct. @default false */
  unique?: boolean;
}

/**
 * A list of values of one kind; from env and flags comma-separated (`tcp,ws`) or JSON (`["tcp","ws"]`).
 *
 * @param item the spec of one item (its default and doc are unused)
 * @param defaultValue the default
 * @param doc one line of documentation
 * @param options length and uniqueness
 */
export function list<T, I = T>(
  item: LeafSpec<T, I>,
  defaultValue: readonly NoInfer<I>[] = [],
  doc = "",
  options: ListOptions = {},
): ListSpec<T, I> {
  const { length, unique = false } = options;
  const expected = `a list of ${length === undefined ? "" : `${length} `}${item.plural}${
    unique ? ", each once" : ""
  }`;
  const spec = leaf<T[], readonly I[]>("list", defaultValue, doc, expected, "lists", (value, text) => {
    let items = value;
    if (text && typeof value === "string") {
      const trimmed = value.trim();
      if (trimmed.startsWith("[")) {
        try {
          items = JSON.parse(trimmed);
        } catch {
          return INVALID;
        }
      } else {
        items = trimmed === "" ? [] : trimmed.split(",").map((part) => part.trim());
      }
    }
    if (!Array.isArray(items)) return INVALID;
    if (length !== undefined && items.length !== length) return INVALID;
    const out: T[] = [];
    for (let i = 0; i < items.length; i++) {
      const parsed = item.parse(items[i], text && typeof items[i] === "string");
      if (!parsed.ok) return { ok: false, at: `[${i}]`, expected: item.expected, value: items[i] };
      if (unique && out.includes(parsed.value)) return INVALID;
      out.push(parsed.value);
    }
    return ok(out);
  });
  return { ...spec, kind: "list", item };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A table of string values (`metadata = { region = "eu" }`); from env and flags `k=v,k2=v2` or JSON.
 *
 * @param defaultValue the default
 * @param doc one line of documentation
 */
export function record(
  defaultValue: Readonly<Record<string, string>> = {},
  doc = "",
): LeafSpec<Record<string, string>> {
  return leaf<Record<string, string>, Record<string, string>>(
    "record",
    defaultValue,
    doc,
    "a table of strings",
    "tables",
    (value, text) => {
      let table = value;
      if (text && typeof value === "string") {
        const trimmed = value.trim();
        if (trimmed.startsWith("{")) {
          try {
            table = JSON.parse(trimmed);
          } catch {
            return INVALID;
          }
        } else {
          table = {};
          for (const pair of trimmed === "" ? [] : trimmed.split(",")) {
            const eq = pair.indexOf("=");
            if (eq <= 0) return INVALID;
            (table as Record<string, string>)[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
          }
        }
      }
      if (!isPlainObject(table)) return INVALID;
      const out: Record<string, string> = {};
      for (const [key, entry] of Object.entries(table)) {
        if (typeof entry !== "string") {
          return { ok: false, at: `.${key}`, expected: "a string", value: entry };
        }
        out[key] = entry;
      }
      return ok(out);
    },
  );
}

/**
 * A section of keys and sub-sections.
 *
 * @param fields the keys and sub-sections
 * @param doc one line of documentation
 */
export function object<const F extends Fields>(fields: F, doc = ""): ObjectSpec<F> {
  return { kind: "object", fields, doc };
}

/** Whether `spec` is a section. */
export function isObjectSpec(spec: Spec): spec is ObjectSpec<Fields> {
  return spec.kind === "object";
}

/** A fresh copy of the defaults of a schema. */
export function defaults<S extends Spec>(spec: S): Infer<S> {
  if (isObjectSpec(spec)) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(spec.fields)) out[key] = defaults(field);
    return out as Infer<S>;
  }
  return structuredClone(spec.default);
}

/** One key of a schema with its dotted path. */
export interface LeafEntry {
  /** Dotted path, e.g. `network.tcp.server.addr`. */
  path: string;
  /** Path segments. */
  segments: string[];
  /** The spec. */
  spec: LeafSpec<unknown, unknown>;
}

/** Every key of a schema, in schema order. */
export function leaves(spec: ObjectSpec, prefix: string[] = []): LeafEntry[] {
  const out: LeafEntry[] = [];
  for (const [key, field] of Object.entries(spec.fields)) {
    const segments = [...prefix, key];
    if (isObjectSpec(field)) out.push(...leaves(field, segments));
    else out.push({ path: segments.join("."), segments, spec: field });
  }
  return out;
}

/** Every section of a schema (dotted paths), in schema order. */
export function sections(spec: ObjectSpec, prefix: string[] = []): string[] {
  const out: string[] = [];
  for (const [key, field] of Object.entries(spec.fields)) {
    if (!isObjectSpec(field)) continue;
    const segments = [...prefix, key];
    out.push(segments.join("."), ...sections(field, segments));
  }
  return out;
}
