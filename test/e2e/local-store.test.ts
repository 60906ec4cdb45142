import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signDevToken, type DevUser } from "../../shared/local/dev-issuer.js";
import { readStoreFile, STORE_FILE_NAME } from "../../shared/local/store-file.js";
import { startLocalProcess, type LocalProcess } from "../support/local-process.js";
import { PEOPLE } from "../support/local-host.js";

/**
 * `npm start` keeps its embedded store in LOCAL_DIR/store.json: across a SIGTERM and a
 * restart, through a kill -9 (losing at most the last seconds, never the file), not at all
 * with LOCAL_STORE=memory, and never over a file it cannot read.
 */
let dir: string;
const running: LocalProcess[] = [];

const start = (env: Record<string, string> = {}) => {
  const p = startLocalProcess({ LOCAL_DIR: dir, LOCAL_STORE: "file", ...env });
  running.push(p);
  return p;
};

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop("SIGKILL")));
  await rm(dir, { recursive: true, force: true });
});

async function freshDir() {
  dir = await mkdtemp(join(tmpdir(), "helpdesk-store-"));
}

async function call(url: string, user: DevUser, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const token = await signDevToken(dir, user);
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

const storeFile = () => join(dir, STORE_FILE_NAME);
const fileHolds = async (text: string) => existsSync(storeFile()) && (await readFile(storeFile(), "utf8")).includes(text);

describe("the local host's kept store", () => {
  it("keeps tickets, timelines, receipts and the agent directory across a restart; SIGTERM saves the last change", async () => {
    await freshDir();
    const first = start();
    const url = await first.url();
    expect(first.output()).toContain(`data kept in ${storeFile()}: new, empty`);
    const opened = await call(url, PEOPLE.karen, "POST", "/tickets", { subject: "Printer on fire", description: "3rd floor" });
    expect(opened.status).toBe(201);
    const id = opened.body.id as string;
    const keyed = { "idempotency-key": "kept-across-restart" };
    const comment = { body: "Looking at it.", visibility: "internal" };
    expect((await call(url, PEOPLE.jane, "POST", `/tickets/${id}/comments`, comment, keyed)).status).toBe(201);
    const before = await call(url, PEOPLE.jane, "GET", `/tickets/${id}`);
    // The last change, then at once SIGTERM: a save waits a few seconds after a change, so
    // what the file holds of it after the exit, SIGTERM wrote.
    const last = await call(url, PEOPLE.karen, "POST", "/tickets", { subject: "Opened just before the stop", description: "b" });
    expect(await fileHolds(last.body.id)).toBe(false);
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(await fileHolds(last.body.id)).toBe(true);

    const second = start();
    const again = await second.url();
    expect(second.output()).toMatch(/data kept in .*store\.json: \d+ documents loaded/);
    const after = await call(again, PEOPLE.jane, "GET", `/tickets/${id}`);
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    // The app's ETags are its own revisions: a client's If-Match still holds after the restart.
    expect(after.headers.get("etag")).toBe(before.headers.get("etag"));
    expect((await call(again, PEOPLE.karen, "GET", `/tickets/${last.body.id}`)).body.subject).toBe("Opened just before the stop");
    const timeline = await call(again, PEOPLE.jane, "GET", `/tickets/${id}/timeline`);
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toEqual(["opened", "comment"]);
    // The comment's receipt (a document with a ttl) came back: the retry replays, adding nothing.
    const retry = await call(again, PEOPLE.jane, "POST", `/tickets/${id}/comments`, comment, keyed);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    // The agent directory (its reserved partition `_agents`) came back too.
    const agents = await call(again, PEOPLE.jane, "GET", "/agents");
    expect(agents.body.items.map((a: { name: string }) => a.name)).toEqual(["Jane Doe"]);
    expect(await second.stop("SIGTERM")).toBe(0);
  });

  it("with LOCAL_STORE=memory keeps nothing, and neither reads nor writes the store file", async () => {
    await freshDir();
    // Not a store file: a host that read it would refuse to start; one that wrote would replace it.
    await writeFile(storeFile(), "not a store file");
    const first = start({ LOCAL_STORE: "memory" });
    const url = await first.url();
    expect(first.output()).toContain("in memory, nothing kept (LOCAL_STORE=memory)");
    const opened = await call(url, PEOPLE.karen, "POST", "/tickets", { subject: "Gone after restart", description: "memory only" });
    expect(opened.status).toBe(201);
    expect(await first.stop("SIGTERM")).toBe(0);

    const second = start({ LOCAL_STORE: "memory" });
    expect((await call(await second.url(), PEOPLE.karen, "GET", `/tickets/${opened.body.id}`)).status).toBe(404);
    expect(await second.stop("SIGTERM")).toBe(0);
    expect(await readFile(storeFile(), "utf8")).toBe("not a store file");
  });

  it("saves a few seconds after a change, so a kill -9 loses at most those seconds and never the file", async () => {
    await freshDir();
    const first = start();
    const url = await first.url();
    const saved = await call(url, PEOPLE.karen, "POST", "/tickets", { subject: "Saved before the crash", description: "a" });
    await vi.waitFor(async () => expect(await fileHolds(saved.body.id)).toBe(true), { timeout: 10_000, interval: 100 });
    // A change and at once a crash: it may be lost, the file may not.
    await call(url, PEOPLE.karen, "POST", "/tickets", { subject: "Made just before the crash", description: "b" });
    expect(await first.stop("SIGKILL")).toBe(null);
    expect(await readStoreFile(storeFile())).not.toBeNull(); // whole and readable

    const second = start();
    const found = await call(await second.url(), PEOPLE.karen, "GET", `/tickets/${saved.body.id}`);
    expect(found.status).toBe(200);
    expect(found.body.subject).toBe("Saved before the crash");
    expect(await second.stop("SIGTERM")).toBe(0);
  });

  it("refuses to start over a store file it cannot read, naming the file, and leaves it as it was", async () => {
    await freshDir();
    const truncated = '{"format":"helpdesk-local-store","version":1,"takenAt":"2026-01-01T00:00:00.000Z","containers":[\n{"id":"tick';
    await writeFile(storeFile(), truncated);
    const p = start();
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(`Cannot start: The local store file ${storeFile()} cannot be loaded (not JSON`);
    expect(p.output()).toMatch(/move the file aside \(or delete it\) to start with an empty store, or set LOCAL_STORE=memory/);
    expect(await readFile(storeFile(), "utf8")).toBe(truncated);
  });
});
