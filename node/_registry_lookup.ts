/**
 * Private to the node: an on-demand registry lookup for a peer the node's watch has not shown yet (a polling
 * registry such as Nacos shows a new instance up to a poll late). Callers that need it at the same time share one
 * lookup; after one ends, none starts for `pauseMs`, so a peer the registry does not list either is not asked
 * about on every request.
 *
 * @module
 */

/** One kind of lookup (gates, meshes): a shared run in flight and a pause after each. */
export class RegistryLookup {
  readonly #run: () => Promise<void>;
  readonly #pauseMs: number;
  #inFlight: Promise<void> | undefined;
  #endedAt = -Infinity;

  /**
   * @param run asks the registry and applies the answer; must not reject (it reports its own failures)
   * @param pauseMs how long after a lookup ended no new one starts
   */
  constructor(run: () => Promise<void>, pauseMs: number) {
    this.#run = run;
    this.#pauseMs = pauseMs;
  }

  /** The lookup in flight, a new one, or `undefined` within the pause after the last one (nothing to wait for). */
  start(): Promise<void> | undefined {
    if (this.#inFlight) return this.#inFlight;
    if (performance.now() - this.#endedAt < this.#pauseMs) return undefined;
    return this.#inFlight = this.#run().finally(() => {
      this.#inFlight = undefined;
      this.#endedAt = performance.now();
    });
  }
}
