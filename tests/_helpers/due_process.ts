/**
 * Runs the real `due` CLI as a child process for end-to-end tests, on free ports, and reads its log to learn its
 * addresses.
 *
 * @module
 */

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** A running `due` child process. */
export interface DueProcess {
  /** Bound addresses from the "due ready" line, e.g. `{ tcp: "127.0.0.1:40211", ws: "127.0.0.1:40212" }`. */
  addrs: Record<string, string>;
  /** Every line the process printed so far (stdout and stderr). */
  lines: string[];
  /** The child. */
  child: Deno.ChildProcess;
  /** Sends `signal` (SIGTERM) and resolves with the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  /** Resolves when a line matching `pattern` has been printed. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Options of {@linkcode startDue}. */
export interface StartDueOptions {
  /** Arguments after `cli.ts`. @default ["dev"] */
  args?: string[];
  /** Extra env variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Run this script instead of cli.ts (e.g. a bundle). */
  script?: string;
  /** Wait for "due ready". @default true */
  waitReady?: boolean;
}

/** Flags that put every gate network on a free loopback port. */
export const FREE_PORTS = [
  "--network.tcp.server.addr=127.0.0.1:0",
  "--network.ws.server.addr=127.0.0.1:0",
  "--network.kcp.server.addr=127.0.0.1:0",
];

/** Starts `due` and waits for its "due ready" line. */
export async function startDue(options: StartDueOptions = {}): Promise<DueProcess> {
  const { args = ["dev", ...FREE_PORTS], env = {}, cwd, script = CLI, waitReady = true } = options;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", script, ...args],
    env: { NO_COLOR: "1", ...env },
    cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines: string[] = [];
  const watchers: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        for (const w of [...watchers]) {
          if (w.pattern.test(line)) {
            watchers.splice(watchers.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
    if (rest) lines.push(rest);
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000) => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      new Promise<string>((resolve) => watchers.push({ pattern, resolve })),
      new Promise<string>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${lines.join("\n")}`),
            ),
          timeoutMs,
        );
      }),
      child.status.then(async (status) => {
        await pumping;
        const line = lines.find((l) => pattern.test(l));
        if (line) return line;
        throw new Error(
          `due exited with code ${status.code} before printing ${pattern}; output:\n${lines.join("\n")}`,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  };
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch {
      // already exited
    }
    const status = await child.status;
    await pumping;
    return status.code;
  };
  const addrs: Record<string, string> = {};
  if (waitReady) {
    try {
      const ready = await waitForLine(/due ready/);
      for (const match of ready.matchAll(/\b(tcp|ws|kcp)=(\S+)/g)) addrs[match[1]] = match[2];
    } catch (err) {
      await stop("SIGKILL");
      throw err;
    }
  }
  return { addrs, lines, child, stop, waitForLine };
}

/** Runs `due` to completion and returns its exit code and output. */
export async function runDue(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", CLI, ...args],
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}
