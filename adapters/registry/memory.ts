/**
 * The in-memory registry: the embedded default of `--role=all`, and the registry of tests. Instances registered
 * here are visible only inside this process.
 *
 * @module
 */

import type { KindName, ServiceInstance } from "../../core/cluster.ts";
import { createLatestChannel } from "../../core/latest.ts";
import type { LatestChannel } from "../../core/latest.ts";
import type { Registry, WatchOptions } from "./types.ts";

/**
 * Creates an in-memory registry.
 *
 * @example
 * ```ts
 * import { createMemoryRegistry } from "./memory.ts";
 * const registry = createMemoryRegistry();
 * console.assert((await registry.services("node")).length === 0);
 * await registry.close();
 * ```
 */
export function createMemoryRegistry(): Registry {
  const byName = new Map<KindName, Map<string, ServiceInstance>>();
  const watchers = new Map<KindName, Set<LatestChannel<ServiceInstance[]>>>();

  const list = (name: KindName): ServiceInstance[] =>
    [...(byName.get(name)?.values() ?? [])].map((i) => structuredClone(i));
  const notify = (name: KindName) => {
    for (const ch of watchers.get(name) ?? []) ch.push(list(name));
  };

  return {
    name: "memory",
    register(instance: ServiceInstance): Promise<void> {
      let instances = byName.get(instance.name);
      if (!instances) byName.set(instance.name, instances = new Map());
      instances.set(instance.id, structuredClone(instance));
      notify(instance.name);
      return Promise.resolve();
    },
    deregister(instance: ServiceInstance): Promise<void> {
      if (byName.get(instance.name)?.delete(instance.id)) notify(instance.name);
      return Promise.resolve();
    },
    services(name: KindName): Promise<ServiceInstance[]> {
      return Promise.resolve(list(name));
    },
    watch(name: KindName, options: WatchOptions = {}): AsyncIterable<ServiceInstance[]> {
      const ch = createLatestChannel<ServiceInstance[]>(options.signal);
      let set = watchers.get(name);
      if (!set) watchers.set(name, set = new Set());
      set.add(ch);
      ch.push(list(name));
      const iterator = ch[Symbol.asyncIterator]();
      return {
        [Symbol.asyncIterator]: () => ({
          next: () =>
            iterator.next().then((r) => {
              if (r.done) set.delete(ch);
              return r;
            }),
          return: () => {
            set.delete(ch);
            return iterator.return!();
          },
        }),
      };
    },
    close(): Promise<void> {
      for (const set of watchers.values()) for (const ch of set) ch.close();
      watchers.clear();
      return Promise.resolve();
    },
  } satisfies Registry;
}
