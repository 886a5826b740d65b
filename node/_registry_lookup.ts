/**
 * Private to the node: an on-demand registry lookup for a peer the node's watch has not shown yet (a polling
 * registry such as Nacos shows a new instance up to a poll late). Callers that need one at the same time share
 * it; a peer the lookup did not find either is not asked about again for `pauseMs`, so an unknown peer does not
 * cost a registry request per message, while another new peer still gets its lookup.
 *
 * @module
 */

/** One kind of lookup (gates, meshes): a shared run in flight, and a pause per peer it did not find. */
export class RegistryLookup {
  readonly #run: () => Promise<ReadonlySet<string>>;
  readonly #pauseMs: number;
  #inFlight: Promise<void> | undefined;
  /** Peers asked about during the run in flight. */
  #asked = new Set<string>();
  /** When a lookup last failed to find a peer, by peer. */
  readonly #missedAt = new Map<string, number>();

  /**
   * Starts no lookup yet.
   *
   * @param run asks the registry, applies the answer and resolves with the peers it found; must not reject (it
   *   reports its own failures and resolves with none)
   * @param pauseMs how long a peer a lookup did not find is not looked up again
   */
  constructor(run: () => Promise<ReadonlySet<string>>, pauseMs: number) {
    this.#run = run;
    this.#pauseMs = pauseMs;
  }

  /**
   * The lookup to wait for before using `peer`: the one in flight, a new one, or `undefined` when a lookup did not
   * find `peer` less than `pauseMs` ago (nothing new to learn).
   */
  start(peer: string): Promise<void> | undefined {
    if (!this.#inFlight) {
      const missedAt = this.#missedAt.get(peer);
      if (missedAt !== undefined && performance.now() - missedAt < this.#pauseMs) return undefined;
      this.#inFlight = this.#run().then((found) => {
        const now = performance.now();
        for (const asked of this.#asked) {
          if (found.has(asked)) this.#missedAt.delete(asked);
          else this.#missedAt.set(asked, now);
        }
        this.#asked = new Set();
        this.#inFlight = undefined;
      });
    }
    this.#asked.add(peer);
    return this.#inFlight;
  }
}
