import { execFile } from "node:child_process";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHost, type TestHost } from "../support/local-host.js";

const run = promisify(execFile);

let t: TestHost;
let proxy: Server;
let proxyUrl: string;

/**
 * A proxy that answers every triage as if the priority had only been raised to
 * high: the scenario's step "raises to emergency" gets a response it must reject.
 */
function tamperingProxy(target: URL): Server {
  return createServer((req, res) => {
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("end", () => {
          let body = Buffer.concat(chunks).toString();
          if (req.method === "PATCH") body = body.replace('"priority":"emergency"', '"priority":"high"');
          const headers = { ...up.headers, "content-length": String(Buffer.byteLength(body)) };
          delete headers["transfer-encoding"];
          res.writeHead(up.statusCode ?? 502, headers).end(body);
        });
      },
    );
    req.pipe(upstream);
  });
}

beforeAll(async () => {
  t = await startTestHost();
  proxy = tamperingProxy(new URL(t.url));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api`;
});
afterAll(async () => {
  proxy.close();
  await t.close();
});

const demo = (url: string) =>
  run(process.execPath, ["--import", "tsx", "shared/local/demo.ts", "--url", url], { env: { ...process.env, LOCAL_DIR: t.dir } }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );

describe("npm run demo", () => {
  it("replays the seed scenario end to end and exits 0", async () => {
    const { code, out } = await demo(t.url);
    expect(code).toBe(0);
    expect(out).toContain("The seed scenario replayed end to end.");
    expect(out).toMatch(/Karen Karen \(requester\) sees:\n(.*public.*\n)+/);
    expect(out).not.toContain("✘");
  });

  it("exits non-zero when a step's response is not what the scenario expects", async () => {
    const { code, out } = await demo(proxyUrl);
    expect(code).toBe(1);
    expect(out).toMatch(/✘ +\d+\. Quinn QA: raises .* to emergency/);
    expect(out).toContain('priority is "high", expected "emergency"');
  });
});
