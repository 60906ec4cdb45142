import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP server standing in for an alert channel (webhook, PagerDuty...):
 * records every request, and answers 2xx, or the failures it is told to give.
 */
export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  status: number;
  at: number;
}

export interface AlertReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests answered 2xx: the deliveries that counted. */
  delivered(): ReceivedRequest[];
  /** The next requests matching `which` get these statuses, in order. */
  failNext(which: (r: { body: string }) => boolean, ...statuses: number[]): void;
  /** Waits until `count` deliveries (those matching `which`, if given) have arrived. */
  waitFor(count: number, which?: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startAlertReceiver(okStatus = 200): Promise<AlertReceiver> {
  const requests: ReceivedRequest[] = [];
  const failures: { which: (r: { body: string }) => boolean; status: number }[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const failure = failures.findIndex((f) => f.which({ body }));
      const status = failure >= 0 ? failures.splice(failure, 1)[0]!.status : okStatus;
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // keep the text
      }
      requests.push({ headers: req.headers, body, json, status, at: performance.now() });
      res.writeHead(status, { "content-type": "application/json" }).end(status < 300 ? '{"status":"success"}' : '{"error":"boom"}');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const delivered = () => requests.filter((r) => r.status < 300);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    delivered,
    failNext: (which, ...statuses) => failures.push(...statuses.map((status) => ({ which, status }))),
    async waitFor(count, which = () => true, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      const matching = () => delivered().filter(which);
      while (matching().length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} deliveries, got ${matching().length} (${requests.length} requests in all)`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, Math.min(left, 50));
        });
      }
      return matching();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
