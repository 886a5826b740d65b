/**
 * A child process for the etcd registry tests: registers one instance, prints "registered", then keeps its lease
 * alive until it is killed. Argument: JSON `{ addrs, namespace, retryIntervalMs, id }`.
 *
 * @module
 */
import { createEtcdRegistry } from "../../adapters/registry/etcd.ts";
import { silentLogger } from "../../core/logger.ts";
import { sampleInstance } from "./registry_conformance.ts";

const { addrs, namespace, retryIntervalMs, id } = JSON.parse(Deno.args[0]);
const registry = await createEtcdRegistry({ addrs, namespace, retryIntervalMs, logger: silentLogger });
await registry.register(sampleInstance(id));
console.log("registered");
setInterval(() => {}, 60_000);
