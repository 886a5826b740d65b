/**
 * Helpers for tests that run a throw-away server process (to restart it) or child test processes.
 *
 * @module
 */

/** Whether `command` can be run (it exists on PATH). */
export async function hasCommand(command: string, args: string[] = ["--version"]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
    return success;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Waits until something accepts connections on `port`, or throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`Nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** Sends `signal` to a child and waits for it to exit. */
export async function stopChild(child: Deno.ChildProcess, signal: Deno.Signal = "SIGTERM"): Promise<void> {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
  await child.status;
}

/** Starts a throw-away `nats-server` on 127.0.0.1:`port` (tests that restart a server); its output is dropped. */
export function spawnNatsServer(port: number): Deno.ChildProcess {
  return new Deno.Command("nats-server", {
    args: ["-a", "127.0.0.1", "-p", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
}
