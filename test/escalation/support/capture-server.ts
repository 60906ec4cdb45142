import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP server on 127.0.0.1 standing in for Teams, Slack, PagerDuty or a
 * webhook receiver: it keeps every request's raw bytes (the webhook signature is
 * over those) and answers as the test says.
 */

export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received. */
  raw: Buffer;
  text: string;
  json: unknown;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Hold the answer this long, to test the client's timeout. */
  delayMs?: number;
}

export interface CaptureServer {
  url: string;
  requests: CapturedRequest[];
  /** The only request, failing the test when there is not exactly one. */
  only(): CapturedRequest;
  /** Answers for the next requests, in order; then `fallback`. */
  answer(...answers: Answer[]): void;
  close(): Promise<void>;
}

export async function startCaptureServer(fallback: Answer = { status: 200, body: "ok" }): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const queued: Answer[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const text = raw.toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, raw, text, json });
      const a = queued.shift() ?? fallback;
      const send = () => res.writeHead(a.status, { "content-type": "text/plain", ...a.headers }).end(a.body ?? "");
      if (!a.delayMs) return send();
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, a.delayMs);
      timers.add(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook/T000/B000/secret-path-xyz`,
    requests,
    only() {
      if (requests.length !== 1) throw new Error(`expected exactly 1 request, got ${requests.length}`);
      return requests[0]!;
    },
    answer: (...answers) => void queued.push(...answers),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
