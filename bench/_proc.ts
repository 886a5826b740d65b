/**
 * Process helpers of the benchmarks: spawn a server and wait for its ready line, and read a process's CPU time.
 *
 * @module
 */

/** CPU time (user + system, all threads) of process `pid` in µs, from /proc/<pid>/task/<tid>/schedstat. */
export async function cpuMicros(pid: number): Promise<number> {
  let total = 0;
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/schedstat`);
      total += Number(stat.split(" ")[0]) / 1000;
    } catch {
      // the thread ended meanwhile
    }
  }
  return total;
}

/** A spawned server. */
export interface Server {
  readonly pid: number;
  /** Every process whose CPU counts as the server's (a gate and a node). @default [pid] */
  readonly pids?: readonly number[];
  readonly output: string[];
  stop(): Promise<void>;
}

/** Spawns `deno run -A <args>` and waits until a line matches `ready`. */
export async function spawnServer(args: string[], ready: RegExp, timeoutMs = 20_000): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const output: string[] = [];
  let resolveReady: () => void;
  const isReady = new Promise<void>((resolve) => resolveReady = resolve);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      for (const line of chunk.split("\n")) {
        if (!line) continue;
        output.push(line);
        if (ready.test(line)) resolveReady();
      }
    }
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    isReady.then(() => true),
    child.status.then(() => false),
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
  ]);
  clearTimeout(timer);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // gone
    }
    await child.status;
    await pumping;
  };
  if (!ok) {
    await stop();
    throw new Error(`server did not become ready: deno run -A ${args.join(" ")}\n${output.join("\n")}`);
  }
  return { pid: child.pid, output, stop };
}

/** CPU time of several processes, summed. */
export async function cpuMicrosOf(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await cpuMicros(pid);
  return total;
}

/** Whether something accepts TCP connections at `host:port`. */
export async function reachable(addr: string): Promise<boolean> {
  const [hostname, port] = [
    addr.slice(0, addr.lastIndexOf(":")),
    Number(addr.slice(addr.lastIndexOf(":") + 1)),
  ];
  try {
    (await Deno.connect({ hostname, port })).close();
    return true;
  } catch {
    return false;
  }
}

/** A port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
