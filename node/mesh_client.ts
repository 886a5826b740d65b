/**
 * Typed clients of mesh services: `node.mesh<Rank>("rank").top(10)` calls method `top` of service `rank` on a
 * mesh instance hosting it.
 *
 * @module
 */

/** A mesh service seen from a caller: every method returns a promise of its result. */
export type MeshClient<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/** Performs one call: `service.method(...args)`. */
export type MeshCall = (service: string, method: string, args: unknown[]) => Promise<unknown>;

/**
 * Creates a client of `service`.
 *
 * The one `Proxy` of the code base, on purpose: an RPC stub's method names are the service's, which the caller
 * knows only as a TypeScript type — without it every caller would restate them as strings. Method functions are
 * made once per name and cached; `then` and symbols are not methods, so a client is not mistaken for a promise.
 */
export function createMeshClient<T extends object>(service: string, call: MeshCall): MeshClient<T> {
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy({} as MeshClient<T>, {
    get(_target, property) {
      if (typeof property !== "string" || property === "then") return undefined;
      let method = methods.get(property);
      if (!method) {
        method = (...args: unknown[]) => call(service, property, args);
        methods.set(property, method);
      }
      return method;
    },
  });
}
