/**
 * Config file formats: which format a file name means, parsing text with the file and line in the error, and
 * writing a value back. TOML via `smol-toml`, YAML via `yaml`, XML via `fast-xml-parser`, JSON built in.
 *
 * XML files hold one root element whose children are the keys (`<config><addr>:3553</addr></config>`); the root
 * element's name is not part of the keys.
 *
 * @module
 */

import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";
import { ConfigError } from "./config_error.ts";

/** A config file format. */
export type ConfigFormat = "toml" | "json" | "yaml" | "xml";

const EXTENSIONS: Record<string, ConfigFormat> = {
  toml: "toml",
  json: "json",
  yaml: "yaml",
  yml: "yaml",
  xml: "xml",
};

const FORMAT_NAMES: Record<ConfigFormat, string> = { toml: "TOML", json: "JSON", yaml: "YAML", xml: "XML" };

/** The file name's extension (`"toml"`, lower case, no dot), or `""`. */
export function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot + 1).toLowerCase();
}

/**
 * The format a file name's extension means: `.toml`, `.json`, `.yaml`/`.yml`, `.xml`; undefined for others.
 *
 * @example
 * ```ts
 * import { formatOf } from "./format.ts";
 * console.assert(formatOf("etc/due.yml") === "yaml");
 * console.assert(formatOf("notes.txt") === undefined);
 * ```
 */
export function formatOf(path: string): ConfigFormat | undefined {
  return EXTENSIONS[extensionOf(path)];
}

const JSON_LITERAL_REGEXP = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/** The offset of the first syntax error in JSON text, or -1 when there is none. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const space = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) {
      i++;
    }
  };
  const fail = (): never => {
    throw i;
  };
  const string = () => {
    i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') return void i++;
      if (c < " ") fail();
      i += c === "\\" ? 2 : 1;
    }
    fail();
  };
  const items = (close: string, item: () => void) => {
    i++;
    space();
    if (text[i] === close) return void i++;
    for (;;) {
      item();
      space();
      if (text[i] === ",") i++;
      else if (text[i] === close) return void i++;
      else fail();
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{") {
      return items("}", () => {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ":") fail();
        i++;
        value();
      });
    }
    if (c === "[") return items("]", value);
    if (c === '"') return string();
    JSON_LITERAL_REGEXP.lastIndex = i;
    if (!JSON_LITERAL_REGEXP.test(text)) fail();
    i = JSON_LITERAL_REGEXP.lastIndex;
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return -1;
  } catch (at) {
    return at as number;
  }
}

/** An XML syntax error with the validator's position (the parser itself is lenient). */
class XmlSyntaxError extends SyntaxError {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number) {
    super(message);
    this.line = line;
    this.column = column;
  }
}

interface Located {
  line?: number;
  column?: number;
  reason: string;
}

function locate(err: unknown, format: ConfigFormat, text: string): Located {
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split("\n")[0].trim();
  const e = err as { line?: number; column?: number; linePos?: { line: number; col: number }[] };
  if (format === "xml" && err instanceof XmlSyntaxError) {
    return { line: e.line, column: e.column, reason: firstLine };
  }
  if (format === "toml" && typeof e.line === "number") {
    return { line: e.line, column: e.column, reason: firstLine.replace(/^Invalid TOML document:\s*/, "") };
  }
  if (format === "yaml" && e.linePos?.[0]) {
    return {
      line: e.linePos[0].line,
      column: e.linePos[0].col,
      reason: firstLine.replace(/ at line \d+, column \d+:?$/, ""),
    };
  }
  if (format === "json") {
    // V8 gives a position for some errors only; find it by scanning.
    const reason = /^Unexpected token '[^']*'/.exec(firstLine)?.[0] ??
      firstLine.replace(/ in JSON at position \d+.*$/, "");
    const offset = jsonErrorOffset(text);
    if (offset >= 0) {
      const before = text.slice(0, offset);
      const line = before.split("\n").length;
      return { line, column: offset - before.lastIndexOf("\n"), reason };
    }
    return { reason };
  }
  return { reason: firstLine };
}

const xmlParser = new XMLParser({
  ignoreDeclaration: true,
  ignoreAttributes: true,
  parseTagValue: true,
  trimValues: true,
});

function parseXml(text: string): unknown {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlSyntaxError(valid.err.msg, valid.err.line, valid.err.col);
  const document = xmlParser.parse(text) as Record<string, unknown>;
  const roots = Object.keys(document);
  if (roots.length !== 1) return document;
  const root = document[roots[0]];
  return root === "" ? {} : root;
}

/** smol-toml returns null-prototype tables; callers get ordinary objects. */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value !== "object" || value === null || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    // defineProperty: a "__proto__" key stays a key instead of replacing the prototype.
    Object.defineProperty(out, key, {
      value: toPlain(entry),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Parses config text. An empty document is an empty table.
 *
 * @param text the file's content
 * @param format the format
 * @param file the file's name, for the error
 * @returns the parsed document
 * @throws {ConfigError} naming the file, and the line when the parser gives one
 */
export function parseConfigText(text: string, format: ConfigFormat, file: string): unknown {
  try {
    if (text.trim() === "") return {};
    switch (format) {
      case "toml":
        return toPlain(parseToml(text));
      case "json":
        return JSON.parse(text);
      case "yaml":
        return parseYaml(text) ?? {};
      case "xml":
        return parseXml(text);
    }
  } catch (err) {
    const { line, column, reason } = locate(err, format, text);
    const at = line === undefined
      ? ""
      : ` at line ${line}${column === undefined ? "" : `, column ${column}`}`;
    throw new ConfigError({
      file,
      expected: FORMAT_NAMES[format],
      line,
      message: `Cannot parse ${file} as ${FORMAT_NAMES[format]}${at}: ${reason}`,
      cause: err,
    });
  }
}

const xmlBuilder = new XMLBuilder({ format: true, indentBy: "  " });

/**
 * Writes a table in a format: the inverse of {@linkcode parseConfigText}. XML gets a `<config>` root element.
 *
 * @param value a table
 * @param format the format
 */
export function stringifyConfig(value: unknown, format: ConfigFormat): string {
  switch (format) {
    case "toml":
      return stringifyToml(value as Record<string, unknown>) + "\n";
    case "json":
      return JSON.stringify(value, null, 2) + "\n";
    case "yaml":
      return stringifyYaml(value);
    case "xml":
      return xmlBuilder.build({ config: value });
  }
}
