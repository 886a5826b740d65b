/**
 * KCP for due: a wire-compatible TypeScript port of skywind3000/kcp (`ikcp.c`), and the gateway server built on
 * it. The core (`kcp.ts`, `segment.ts`, `tunables.ts`) does no I/O and reads no clock; a UDP session wrapper feeds
 * it datagrams (`input`), drives it from a timer (`update` at `check`'s time), and sends what it emits through the
 * `output` callback. `server.ts` is that wrapper for a gate: {@linkcode createKcpServer} (`Deno.listenDatagram`,
 * `--unstable-net`). Clients import the core files directly, so they never load the server.
 *
 * @example Echo over an in-memory link
 * ```ts
 * import { Kcp } from "./mod.ts";
 * let toServer: Uint8Array[] = [];
 * let toClient: Uint8Array[] = [];
 * const client = new Kcp(7, (d) => toServer.push(d.slice()));
 * const server = new Kcp(7, (d) => toClient.push(d.slice()));
 * for (const k of [client, server]) k.setNoDelay(1, 10, 2, 1);
 * client.send(new TextEncoder().encode("ping"));
 * const buf = new Uint8Array(1400);
 * let reply = "";
 * for (let now = 0; now < 200 && reply === ""; now += 10) {
 *   client.update(now);
 *   server.update(now);
 *   for (const d of toServer) server.input(d);
 *   for (const d of toClient) client.input(d);
 *   toServer = [];
 *   toClient = [];
 *   const n = server.recv(buf);
 *   if (n >= 0) server.send(buf.subarray(0, n));
 *   const m = client.recv(buf);
 *   if (m >= 0) reply = new TextDecoder().decode(buf.subarray(0, m));
 * }
 * console.log(reply); // ping
 * ```
 *
 * @module
 */

export * from "./kcp.ts";
export * from "./segment.ts";
export * from "./tunables.ts";
export * from "./datagram.ts";
export * from "./server_types.ts";
export { createKcpServer } from "./server.ts";
