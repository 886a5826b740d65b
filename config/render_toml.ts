/**
 * Renders the schema as a commented TOML file with every key at its default: the committed `due.toml`.
 * Run `deno run config/render_toml.ts > due.toml` after changing the schema (a test checks they match).
 *
 * @module
 */

import { isObjectSpec, type LeafSpec, type ObjectSpec } from "./schema_dsl.ts";
import { dueSchema } from "./schema.ts";

const HEADER = `# due for Deno: the startup config, every key at its default.
# Generated from config/schema.ts by renderDefaultToml(); after a schema change run
#   deno run config/render_toml.ts > due.toml
# Durations: "10s", "500ms", "1m30s", "2h", "7d" or a number of milliseconds.
# Sizes: "4M", "512K", "1G", "100B" (multiples of 1024) or a number of bytes.
# Any key can be overridden by an env variable DUE_<PATH> (DUE_NETWORK_TCP_SERVER_MAX_CONN_NUM=100)
# or a flag --<dotted.key>=<value> (--network.tcp.server.addr=:3600). See docs/config.md.
`;

const BARE_KEY_REGEXP = /^[A-Za-z0-9_-]+$/;

function tomlKey(key: string): string {
  return BARE_KEY_REGEXP.test(key) ? key : JSON.stringify(key);
}

/** A value as a TOML literal. */
export function tomlValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).map(([key, entry]) => `${tomlKey(key)} = ${tomlValue(entry)}`);
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  }
  throw new TypeError(`Cannot render ${String(value)} as TOML`);
}

function comment(spec: LeafSpec<unknown, unknown>): string {
  const item = spec.kind === "list" ? (spec as unknown as { item: LeafSpec<unknown> }).item : undefined;
  const values = spec.values ?? item?.values;
  if (values === undefined) return `# ${spec.doc}`;
  return `# ${spec.doc} (${spec.kind === "list" ? "each " : ""}${values.map(tomlValue).join(" | ")})`;
}

function renderSection(spec: ObjectSpec, path: string[], out: string[]): void {
  const entries = Object.entries(spec.fields);
  const leafEntries = entries.filter(([, field]) => !isObjectSpec(field));
  if (path.length === 1) {
    const title = `${path[0]}: ${spec.doc} `;
    out.push("", `# ---- ${title}${"-".repeat(Math.max(4, 104 - title.length))}`);
  }
  if (leafEntries.length > 0) {
    out.push("");
    if (path.length > 1) out.push(`# ${spec.doc}`);
    out.push(`[${path.map(tomlKey).join(".")}]`);
    for (const [key, field] of leafEntries) {
      const leaf = field as LeafSpec<unknown, unknown>;
      out.push(comment(leaf), `${tomlKey(key)} = ${tomlValue(leaf.written)}`);
    }
  }
  for (const [key, field] of entries) if (isObjectSpec(field)) renderSection(field, [...path, key], out);
}

/**
 * Renders a schema as commented TOML with every key at its default.
 *
 * @param schema the schema; {@linkcode dueSchema} if omitted
 * @returns the TOML text, ending in a newline
 *
 * @example
 * ```ts
 * import { renderDefaultToml } from "./render_toml.ts";
 * console.assert(renderDefaultToml().includes('[network.tcp.server]\n# Listen address, host:port\naddr = ":3553"'));
 * ```
 */
export function renderDefaultToml(schema: ObjectSpec = dueSchema): string {
  const out: string[] = [HEADER.trimEnd()];
  const entries = Object.entries(schema.fields);
  out.push("");
  for (const [key, field] of entries) {
    if (isObjectSpec(field)) continue;
    const leaf = field as LeafSpec<unknown, unknown>;
    out.push(comment(leaf), `${tomlKey(key)} = ${tomlValue(leaf.written)}`);
  }
  for (const [key, field] of entries) if (isObjectSpec(field)) renderSection(field, [key], out);
  return out.join("\n") + "\n";
}

if (import.meta.main) {
  await Deno.stdout.write(new TextEncoder().encode(renderDefaultToml()));
}
