import assert from "node:assert/strict";
import { renderDefaultToml, tomlValue } from "../../config/render_toml.ts";
import { loadConfig } from "../../config/load.ts";
import { defaults, leaves } from "../../config/schema_dsl.ts";
import { dueSchema } from "../../config/schema.ts";

const DUE_TOML = new URL("../../due.toml", import.meta.url);

Deno.test("the committed due.toml equals renderDefaultToml() (run `deno run config/render_toml.ts > due.toml`)", async () => {
  const committed = await Deno.readTextFile(DUE_TOML);
  assert.equal(committed, renderDefaultToml());
});

Deno.test("the committed due.toml loads to the defaults without warnings", async () => {
  const { config, warnings } = await loadConfig({ path: DUE_TOML.pathname, env: {} });
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, defaults(dueSchema));
});

Deno.test("renderDefaultToml() writes every key with its doc above it", () => {
  const text = renderDefaultToml();
  for (const { segments, spec } of leaves(dueSchema)) {
    const key = segments[segments.length - 1];
    const line = `${key} = ${tomlValue(spec.written)}`;
    const at = text.indexOf(
      `\n${line}\n`,
      segments.length > 1 ? text.indexOf(`[${segments.slice(0, -1).join(".")}]\n`) : 0,
    );
    assert.ok(at >= 0, `${segments.join(".")} missing`);
    const docLine = text.slice(text.lastIndexOf("\n", at - 1) + 1, at);
    assert.ok(docLine.startsWith(`# ${spec.doc}`), `${segments.join(".")} has no doc: ${docLine}`);
  }
  assert.ok(text.includes('[network.tcp.server]\n# Listen address, host:port\naddr = ":3553"\n'));
  assert.ok(text.includes('heartbeatInterval = "10s"'));
  assert.ok(text.includes('frameLimit = "4M"'));
});

Deno.test("tomlValue() writes strings, lists and tables as TOML literals", () => {
  assert.equal(tomlValue('a "b"'), '"a \\"b\\""');
  assert.equal(tomlValue([1, "x"]), '[1, "x"]');
  assert.equal(tomlValue({}), "{}");
  assert.equal(tomlValue({ a: "1", "b c": "2" }), '{ a = "1", "b c" = "2" }');
});
