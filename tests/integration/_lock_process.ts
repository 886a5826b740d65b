/**
 * Runs lock contender child processes for the lock integration tests (see `_lock_contender.ts`).
 *
 * @module
 */
import type { LockMaker } from "../../adapters/lock/types.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

const contender = new URL("./_lock_contender.ts", import.meta.url).pathname;

/** Spawns one contender with its JSON argument. */
export function spawnContender(args: Record<string, unknown>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", contender, JSON.stringify(args)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Runs `processes` contenders of `iterations` each, all starting together, and returns the shared counter.
 * With the lock it must equal processes × iterations; without (`useLock: false`) it shows increments get lost.
 */
export async function runContenders(
  base: Record<string, unknown>,
  processes: number,
  iterations: number,
  readCounter: () => Promise<number>,
): Promise<number> {
  const startAt = Date.now() + 3_000; // time for every child to start and connect
  const children = Array.from(
    { length: processes },
    () => spawnContender({ ...base, mode: "count", iterations, startAt }),
  );
  const results = await Promise.all(children.map((c) => c.output()));
  for (const r of results) {
    assert(r.success, `a contender failed: ${new TextDecoder().decode(r.stderr)}`);
    assertEquals(new TextDecoder().decode(r.stdout).trim(), "done");
  }
  return await readCounter();
}

/** Reads lines of a child's stdout until `line` appears. */
async function waitForLine(child: Deno.ChildProcess, line: string): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.split("\n").includes(line)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the child exited before printing "${line}"`);
      text += value;
    }
  } finally {
    await reader.cancel();
  }
}

/**
 * A child takes the lock and is SIGKILLed while holding it; `maker` must not get it at once, then must get it
 * within the expiration (plus `slackMs`).
 */
export async function checkCrashedHolderExpires(
  base: Record<string, unknown>,
  maker: LockMaker,
  name: string,
  expirationMs: number,
  slackMs: number,
): Promise<void> {
  const child = spawnContender({ ...base, mode: "hold" });
  let killed = false;
  try {
    await waitForLine(child, "acquired");
    const lock = maker.make(name);
    // The holder renews: the lock stays taken well past one expiration.
    await new Promise((r) => setTimeout(r, expirationMs * 1.5));
    assertEquals(await lock.tryAcquire(), false, "the lock was free while its holder lived");
    child.kill("SIGKILL");
    killed = true;
    await child.status;
    const killedAt = Date.now();
    assertEquals(await lock.tryAcquire(), false, "the lock was freed at once by the kill");
    await lock.acquire();
    const waited = Date.now() - killedAt;
    assert(waited <= expirationMs + slackMs, `took ${waited} ms to free a crashed holder's lock`);
    assertEquals(await lock.release(), true);
  } finally {
    if (!killed) {
      child.kill("SIGKILL");
      await child.status;
    }
    await child.stderr.cancel().catch(() => {});
  }
}
