/**
 * A local HTTP server that records every request and answers with scripted statuses: the stand-in for cloud
 * APIs that cannot be reached from the test machines.
 *
 * @module
 */

/** One recorded request. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: Uint8Array;
}

/** A running receiver. */
export interface RecordingHttpReceiver {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Requests in arrival order. */
  requests: RecordedRequest[];
  /** Statuses for the next requests, consumed in order; 200 once empty. */
  statuses: number[];
  /** Resolves once `n` requests arrived, or rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Starts a {@linkcode RecordingHttpReceiver} on a free loopback port. */
export function recordingHttpReceiver(): RecordingHttpReceiver {
  const requests: RecordedRequest[] = [];
  const statuses: number[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    requests.push({
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: new Uint8Array(await req.arrayBuffer()),
    });
    waiters = waiters.filter((w) => requests.length < w.n || (w.resolve(), false));
    const status = statuses.shift() ?? 200;
    return new Response(status === 200 ? "" : `{"errorCode":"Scripted","errorMessage":"status ${status}"}`, {
      status,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    statuses,
    async waitFor(n, timeoutMs = 5_000) {
      if (requests.length >= n) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          new Promise<void>((resolve) => waiters.push({ n, resolve })),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`Expected ${n} requests, got ${requests.length}`)),
              timeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => server.shutdown(),
  };
}
