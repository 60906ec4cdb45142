import { execFile } from "node:child_process";
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBody, validateResponse } from "../support/contract.js";
import { startTestHost, type TestHost } from "../support/local-host.js";
import { freePort } from "../support/processes.js";

const run = promisify(execFile);

let t: TestHost;
let tampering: Server;
let tamperingUrl: string;
let checking: Server;
let checkingUrl: string;
/** What the checking proxy found: responses the OpenAPI document does not declare. */
const violations: string[] = [];
let checked = 0;

/** A proxy to the host that hands every response to `edit`, and passes on the body it returns. */
function proxy(target: URL, edit: (req: IncomingMessage, status: number, headers: IncomingHttpHeaders, body: string) => string): Server {
  return createServer((req, res) => {
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("end", () => {
          const body = edit(req, up.statusCode ?? 502, up.headers, Buffer.concat(chunks).toString());
          const headers = { ...up.headers, "content-length": String(Buffer.byteLength(body)) };
          delete headers["transfer-encoding"];
          res.writeHead(up.statusCode ?? 502, headers).end(body);
        });
      },
    );
    req.pipe(upstream);
  });
}

/**
 * Answers every triage as if the priority had only been raised to high: the scenario's
 * step "raises to emergency" gets a response it must reject.
 */
const tamper = (req: IncomingMessage, _status: number, _headers: IncomingHttpHeaders, body: string) =>
  req.method === "PATCH" ? body.replace('"priority":"emergency"', '"priority":"high"') : body;

/** The demo talks to the API in a process of its own: its responses are held to the document here, on the way. */
const check = (req: IncomingMessage, status: number, headers: IncomingHttpHeaders, body: string) => {
  try {
    checked++;
    validateResponse(req.method ?? "GET", req.url ?? "/", status, headers["content-type"] ?? null, parseBody(body), headers);
  } catch (e) {
    violations.push(String(e));
  }
  return body;
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
}

beforeAll(async () => {
  t = await startTestHost();
  tampering = proxy(new URL(t.url), tamper);
  tamperingUrl = await listen(tampering);
  checking = proxy(new URL(t.url), check);
  checkingUrl = await listen(checking);
});
afterAll(async () => {
  tampering.close();
  checking.close();
  await t.close();
});

const demo = (url: string, dir = t.dir) =>
  run(process.execPath, ["--import", "tsx", "shared/local/demo.ts", "--url", url], { env: { ...process.env, LOCAL_DIR: dir } }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

describe("npm run demo", () => {
  it("replays the seed scenario end to end and exits 0", async () => {
    const { code, out } = await demo(checkingUrl);
    expect(code).toBe(0);
    expect(violations).toEqual([]);
    expect(checked).toBeGreaterThan(10);
    expect(out).toContain("The seed scenario replayed end to end.");
    expect(out).toMatch(/Karen Karen \(requester\) sees:\n(.*public.*\n)+/);
    // The major incident: one page for 21 reports, one update and one close reaching them all.
    expect(out).toMatch(/Ops was paged once for the outage: #\d+, page 1 \(console\); the 20 reports paged nothing/);
    expect(out).toContain("All 21 requesters got the update once and see their ticket closed");
    expect(out).toMatch(/Customer 20 \(requester\) sees:\n.*opened.*\n.*incident_linked.*\n.*comment.*\n.*status_changed/);
    // Each seed ticket's SLA figures: the emergency's targets both achieved when Jane closed it.
    expect(out).toMatch(/SLA figures.*\n {2}#\d+ banking +emergency +policy v\d+\n +first response: achieved .*\n +resolution: +achieved /);
    expect(out).toMatch(/#\d+ vpn +normal +policy v\d+\n +first response: running /);
    expect(out).not.toContain("✘");
  });

  it("exits non-zero when a step's response is not what the scenario expects", async () => {
    const { code, out } = await demo(tamperingUrl);
    expect(code).toBe(1);
    expect(out).toMatch(/✘ +\d+\. Quinn QA: raises .* to emergency/);
    expect(out).toContain('priority is "high", expected "emergency"');
  });

  it("takes the host's address as --url, with or without /api", async () => {
    // A host of its own: the tampered run above left its emergency open on the shared one.
    const own = await startTestHost();
    try {
      const { code, out } = await demo(`${new URL(own.url).origin}/`, own.dir);
      expect(code).toBe(0);
      expect(out).toContain(`(using the host at ${own.url})`);
      expect(out).toContain("The seed scenario replayed end to end.");
    } finally {
      await own.close();
    }
  });

  it("says in one line that nothing answers at a --url where nothing listens, and exits 1", async () => {
    const port = await freePort();
    const { code, out, err } = await demo(`http://127.0.0.1:${port}`);
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err.trim().split("\n")).toEqual([
      `Nothing answers at http://127.0.0.1:${port}/api (ECONNREFUSED). Start the host there (npm start), or leave out --url: the demo starts its own.`,
    ]);
  });
});
