import { HttpRequest } from "@azure/functions";
import { ReadableStream } from "node:stream/web";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { endpoint, MAX_BODY_BYTES, type ApiRequest } from "../../shared/adapters/http/endpoint.js";

/**
 * What the endpoint reads of a streamed body (Azure's HttpRequest with HTTP streaming on):
 * no more than the limit and one chunk, whatever the client sends, and never a body cut
 * at the limit and parsed.
 */
const http = { authenticate: () => Promise.reject(new Error("not used")), corsOrigins: [] };
const handler = endpoint(http, { auth: false }, async (call) => ({
  status: 201,
  body: (await call.body(z.object({ a: z.string() }))).value,
}));

function streamed(chunks: number, chunkBytes: number, first = '{"a":"b"}') {
  let pulled = 0;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === chunks) return controller.close();
      const chunk = sent === 0 ? Buffer.from(first.padEnd(chunkBytes, " ")) : Buffer.alloc(chunkBytes, 0x20);
      sent++;
      pulled += chunk.length;
      controller.enqueue(new Uint8Array(chunk));
    },
  });
  const request: ApiRequest = {
    method: "POST",
    url: "http://localhost/api/x",
    headers: { get: (name) => (name === "content-type" ? "application/json" : null) },
    params: {},
    text: () => Promise.reject(new Error("the endpoint reads the stream")),
    body,
  };
  return { request, pulled: () => pulled };
}

describe("a streamed body", () => {
  it("over the limit is 413 after reading no more than the limit and one chunk, though it starts with a valid body", async () => {
    const { request, pulled } = streamed(1024, 16 * 1024); // 16 MiB on offer
    const res = await handler(request, { error: () => {} });
    expect(res.status).toBe(413);
    expect(pulled()).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * 16 * 1024);
  });

  it("within the limit is read whole and parsed", async () => {
    const { request } = streamed(2, 1024);
    const res = await handler(request, { error: () => {} });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body!)).toEqual({ a: "b" });
  });
});

describe("Azure's own HttpRequest", () => {
  it("is read from its body stream, not as text: over the limit is 413, within it is parsed", async () => {
    const make = (text: string) => {
      const request = new HttpRequest({
        method: "POST",
        url: "http://localhost/api/x",
        headers: { "content-type": "application/json" },
        body: { string: text },
      });
      // The runtime's text() would buffer the whole body first: the endpoint must not call it.
      Object.defineProperty(request, "text", { value: () => Promise.reject(new Error("the endpoint reads the stream")) });
      return request;
    };
    const big = await handler(make(`{"a":"${"b".repeat(4 * 1024 * 1024)}"}`), { error: () => {} });
    expect(big.status).toBe(413);
    const small = await handler(make('{"a":"b"}'), { error: () => {} });
    expect(small.status).toBe(201);
  });
});
