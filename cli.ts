/**
 * `due` — run gate, node and mesh processes, or all three in one (`due dev`).
 *
 * ```
 * due dev [--app=./game/mod.ts] [flags]                 gate + node + mesh on embedded defaults
 * due [--role=all|gate|node|mesh] --config=due.toml --app=./game/mod.ts [--<key>=<value>…]
 * due client [--tcp=host:port | --ws=url] --route=1 --data='{"message":"hi"}'
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import denoJson from "./deno.json" with { type: "json" };
import { ConfigError } from "./config/config_error.ts";
import { loadConfig } from "./config/load.ts";
import type { DueConfig } from "./config/schema.ts";
import { DueError, errorMessage } from "./core/errors.ts";
import type { Logger } from "./core/logger.ts";
import { appFromModule } from "./runtime/app.ts";
import type { App } from "./runtime/app.ts";
import { loggerFromConfig } from "./runtime/logger_from_config.ts";
import type { ConfiguredLogger } from "./runtime/logger_from_config.ts";
import { checkStandalone, run, StartupConfigError } from "./runtime/run.ts";
import exampleGame from "./examples/game/mod.ts";
import type { RoleName } from "./runtime/run.ts";

/** Exit codes of `due`. */
export const ExitCode = {
  Ok: 0,
  /** A failure while running (a role stopped with an error). */
  Failure: 1,
  /** A bad command line: unknown flag, command or role. */
  Usage: 2,
  /** A bad config: file, key or value. */
  Config: 3,
  /** The app module is missing or broken. */
  App: 4,
  /** A start failure: a port in use, a backend unreachable. */
  Start: 5,
} as const;

const VERSION = denoJson.version;
const ROLES: readonly RoleName[] = ["all", "gate", "node", "mesh"];
/** The example game, built in so that `due dev` works from a bundle or a compiled binary too. */
const EXAMPLE_APP: App = exampleGame;

const HELP = `due ${VERSION} — a distributed game-server framework for Deno

Usage:
  due dev [--app=./game/mod.ts] [--config=due.toml] [--<key>=<value>…]
      Gate, node and mesh in one process on embedded defaults (memory registry,
      locator and event bus). Without --app it runs the example game:
      echo on route 1 and a chat, TCP on :3553, WebSocket on :3554, KCP (UDP) on :3555.
  due [--role=all|gate|node|mesh] [--config=due.toml] [--app=./game/mod.ts] [--<key>=<value>…]
      Run one role (production) or all of them. A gate, node or mesh alone needs
      a real registry and locator (registry.driver, locate.driver).
  due client [--tcp=127.0.0.1:3553 | --ws=ws://127.0.0.1:3554/ | --kcp[=127.0.0.1:3555]] --route=1 [--data='{"message":"hi"}'] [--timeout=3000]
      Send one request to a gate and print the response.

Flags:
  --role=<role>       all (default), gate, node or mesh
  --config=<file>     due.toml, .json, .yaml, or etcd://host:port/key
  --app=<module>      the game module (default export defineApp({ node, mesh }))
  --<key>=<value>     any config key, e.g. --network.tcp.server.addr=:3600
  -h, --help          this help
  -v, --version       the version

Environment: DUE_<KEY> overrides a config key, e.g. DUE_NETWORK_TCP_SERVER_ADDR=:3600.

Exit codes: 0 ok, 1 failure while running, 2 bad command line, 3 bad config,
4 bad app module, 5 start failure (port in use, backend unreachable).`;

class UsageError extends Error {}

interface ParsedArgs {
  command: "run" | "dev" | "client" | "help" | "version";
  role: RoleName;
  config?: string;
  app?: string;
  keys: Record<string, string>;
  client: Record<string, string>;
}

const CLIENT_FLAGS = new Set(["tcp", "ws", "kcp", "route", "data", "timeout"]);

/** Parses the command line. @throws {UsageError} */
export function parseCommandLine(args: string[]): ParsedArgs {
  const { values, positionals, tokens } = parseArgs({
    args,
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: {
      role: { type: "string" },
      config: { type: "string" },
      app: { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
  const [command = "run", ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  if (!["run", "dev", "client", "help", "version"].includes(command)) {
    throw new UsageError(`Unknown command "${command}"`);
  }
  const keys: Record<string, string> = {};
  const client: Record<string, string> = {};
  for (const token of tokens) {
    if (token.kind !== "option" || ["role", "config", "app", "help", "version"].includes(token.name)) {
      continue;
    }
    if (command === "client" && CLIENT_FLAGS.has(token.name)) {
      client[token.name] = token.value ?? "true";
      continue;
    }
    if (!token.name.includes(".")) throw new UsageError(`Unknown flag "${token.rawName}"`);
    if (token.value === undefined) {
      throw new UsageError(`Flag "${token.rawName}" needs a value: ${token.rawName}=<value>`);
    }
    keys[token.name] = token.value;
  }
  if (values.help) return { command: "help", role: "all", keys, client };
  if (values.version) return { command: "version", role: "all", keys, client };
  const role = (values.role ?? "all") as RoleName;
  if (typeof values.role === "boolean" || !ROLES.includes(role)) {
    throw new UsageError(`Flag --role must be one of ${ROLES.join("|")}: current value is "${values.role}"`);
  }
  if (command === "dev" && values.role !== undefined && role !== "all") {
    throw new UsageError(`"due dev" runs every role: drop --role=${role}, or run "due --role=${role}"`);
  }
  for (const name of ["config", "app"] as const) {
    if (typeof values[name] === "boolean") {
      throw new UsageError(`Flag --${name} needs a value: --${name}=<path>`);
    }
  }
  return {
    command: command as ParsedArgs["command"],
    role,
    config: values.config as string | undefined,
    app: values.app as string | undefined,
    keys,
    client,
  };
}

async function loadApp(spec: string): Promise<App> {
  // An absolute file URL: what compiled binaries and bundles need to import a module from disk.
  const url = pathToFileURL(isAbsolute(spec) ? spec : resolve(Deno.cwd(), spec));
  const where = spec;
  let module: Record<string, unknown>;
  try {
    module = await import(url.href);
  } catch (err) {
    const missing = err instanceof TypeError &&
      /Module not found|Cannot find module|No such file/i.test(err.message);
    throw new TypeError(
      missing
        ? `Cannot load app ${where}: module not found`
        : `Cannot load app ${where}: ${errorMessage(err)}`,
    );
  }
  return appFromModule(module, where);
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        for (const [i, s] of signals.entries()) Deno.removeSignalListener(s, handlers[i]);
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}

function fail(code: number, message: string): number {
  console.error(`due: ${message}`);
  return code;
}

async function serve(parsed: ParsedArgs): Promise<number> {
  let config: DueConfig;
  let warnings: string[];
  try {
    ({ config, warnings } = await loadConfig({ path: parsed.config, flags: parsed.keys }));
  } catch (err) {
    if (err instanceof ConfigError) return fail(ExitCode.Config, err.message);
    if (err instanceof SyntaxError || err instanceof TypeError) return fail(ExitCode.Config, err.message);
    return fail(ExitCode.Config, `Cannot load config ${parsed.config}: ${errorMessage(err)}`);
  }
  const role = parsed.command === "dev" ? "all" : parsed.role;
  // `due dev` serves every network unless told which: TCP :3553, WebSocket :3554, KCP :3555.
  const networks = config.cluster.gate.networks;
  if (
    parsed.command === "dev" && networks.length === 2 && networks.includes("tcp") && networks.includes("ws")
  ) {
    config.cluster.gate.networks = ["tcp", "ws", "kcp"];
  }
  let logging: ConfiguredLogger;
  try {
    logging = await loggerFromConfig(config.log);
  } catch (err) {
    return fail(ExitCode.Config, `Cannot set up logging: ${errorMessage(err)}`);
  }
  try {
    return await serveWith(parsed, role, config, warnings, logging.logger);
  } finally {
    await logging.close();
  }
}

async function serveWith(
  parsed: ParsedArgs,
  role: RoleName,
  config: DueConfig,
  warnings: string[],
  log: Logger,
): Promise<number> {
  for (const warning of warnings) log.warn(warning);

  try {
    checkStandalone(role, config);
  } catch (err) {
    return fail(ExitCode.Config, errorMessage(err));
  }
  let app: App | undefined;
  if (role !== "gate") {
    if (parsed.app !== undefined) {
      try {
        app = await loadApp(parsed.app);
      } catch (err) {
        return fail(ExitCode.App, errorMessage(err));
      }
    } else if (parsed.command === "dev") app = EXAMPLE_APP;
    else {return fail(
        ExitCode.Usage,
        `--role=${role} needs the game module: --app=./game/mod.ts (or run "due dev")`,
      );}
  }

  // Listen before starting, so a signal during start-up still stops the process cleanly.
  const signalled = waitForSignal();
  let running;
  try {
    running = await run({ role, config, app, logger: log });
  } catch (err) {
    if (err instanceof StartupConfigError) return fail(ExitCode.Config, err.message);
    if (err instanceof DueError) return fail(ExitCode.Start, err.message);
    return fail(ExitCode.Start, errorMessage(err));
  }
  if (config.pid) await Deno.writeTextFile(config.pid, `${Deno.pid}\n`).catch(() => {});
  log.info("due ready", { roles: role, version: VERSION, ...running.addrs });

  const signal = await signalled;
  log.info("due stopping", { signal, maxWaitMs: config.shutdownMaxWaitTime });
  // A second signal forces the exit, but not the echo of the first: `deno task` and `npx` forward the signal the
  // terminal already sent to the whole process group, so one Ctrl-C arrives twice within milliseconds.
  const firstAt = Date.now();
  const forced = new Promise<void>((resolve) => {
    const again = () => {
      if (Date.now() - firstAt > 1000) resolve();
    };
    Deno.addSignalListener("SIGINT", again);
    Deno.addSignalListener("SIGTERM", again);
  });
  const stopped = running.stop(config.shutdownMaxWaitTime).then(() => true);
  if (!await Promise.race([stopped, forced.then(() => false)])) {
    return fail(ExitCode.Failure, "stopped by a second signal");
  }
  if (config.pid) await Deno.remove(config.pid).catch(() => {});
  log.info("due stopped");
  return ExitCode.Ok;
}

async function client(parsed: ParsedArgs): Promise<number> {
  const { tcp, ws, kcp, route = "1", data, timeout = "3000" } = parsed.client;
  const routeId = Number(route);
  if (!Number.isInteger(routeId)) {
    return fail(ExitCode.Usage, `Flag --route must be an integer: current value is "${route}"`);
  }
  let payload: unknown;
  try {
    payload = data === undefined ? undefined : JSON.parse(data);
  } catch {
    return fail(ExitCode.Usage, `Flag --data must be JSON: current value is ${data}`);
  }
  const { config } = await loadConfig({ path: parsed.config, flags: parsed.keys });
  const sdk = await import("./client/mod.ts");
  const options = { ...config.packet, heartbeatIntervalMs: 0 };
  try {
    const c = ws
      ? await sdk.connectWs({ url: ws, ...options })
      : kcp
      ? await sdk.connectKcp({ addr: kcp === "true" ? config.network.kcp.client.addr : kcp, ...options })
      : await sdk.connectTcp({ addr: tcp ?? config.network.tcp.client.addr, ...options });
    try {
      const reply = await c.request(routeId, payload, { timeoutMs: Number(timeout) });
      console.log(JSON.stringify(reply));
    } finally {
      await c.close();
    }
    return ExitCode.Ok;
  } catch (err) {
    return fail(ExitCode.Failure, errorMessage(err));
  }
}

/** Runs `due` with `args`; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseCommandLine(args);
  } catch (err) {
    if (err instanceof UsageError) return fail(ExitCode.Usage, `${err.message} (see due --help)`);
    throw err;
  }
  switch (parsed.command) {
    case "help":
      console.log(HELP);
      return ExitCode.Ok;
    case "version":
      console.log(`due ${VERSION} (deno ${Deno.version.deno})`);
      return ExitCode.Ok;
    case "client":
      return await client(parsed);
    default:
      return await serve(parsed);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
