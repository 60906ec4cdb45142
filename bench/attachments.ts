import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { descendants, freePort, printed } from "../test/support/processes.js";
import { benchHostEnv, drainOutput, stopChild } from "./host-process.js";
import { percentile } from "./stats.js";

/**
 * A 25 MiB attachment's whole path through the bundled local host (`node
 * dist/shared/local/main.js` in a child process, its embedded Azurite in the same process,
 * started at the first upload request), RUNS times (default 5), each on a fresh ticket:
 *   1. POST /api/tickets (the requester opens a ticket);
 *   2. POST /api/tickets/{id}/attachments { fileName, contentType, size } → 201 with an upload
 *      URL, then the bytes straight to that URL with plain fetch: Put Block (4 MiB blocks),
 *      then Put Block List;
 *   3. POST /api/tickets/{id}/comments { body, attachments: [uploadId] } → 201 (the API copies
 *      the blob inside storage and checks its size and first bytes);
 *   4. GET /api/tickets/{id}/attachments/{uploadId} (an agent) → 302, then the Location read
 *      whole and compared with what was uploaded.
 * Printed: each API call's p50 and max with its ratio to 50 ms (the transfers to and from
 * Azurite beside them: not API calls), and the host process's resident memory (VmRSS) after
 * a warm-up flow with a small file (Azurite loaded) and after each 25 MiB flow, its growth in
 * MiB and as a ratio of the file's size, then after a full GC (what stays). Beside each
 * transfer, the host's CPU time and the longest its event loop was held (Azurite shares the
 * API's). The whole run is made once per LOCAL_STORE in STORES (default "memory,file"), a
 * fresh host each, LOCAL_DIR a new directory under the repository's `.local/`, and says where
 * Azurite kept the bytes: on disk if LOCAL_DIR holds them, else in memory, where a stored file
 * is the host process's memory (Azurite's, not the API's). LOCAL_STORE=file (what `npm start`
 * runs) keeps Azurite's data on disk, in LOCAL_DIR/blobs; memory (the tests' and the demo's)
 * keeps it in the process. Run through `npm run bench:attachments` (bundles first).
 */
const RUNS = Number(process.env.RUNS ?? 5);
const STORES = (process.env.STORES ?? "memory,file")
  .split(",")
  .map((s) => s.trim())
  .filter((s): s is "memory" | "file" => s === "memory" || s === "file");
/** Just under the limit (ATTACHMENTS_MAX_BYTES, 25 MiB). */
const FILE_BYTES = 25 * 1024 * 1024 - 1;
const WARM_UP_BYTES = 64 * 1024;
const BLOCK_BYTES = 4 * 1024 * 1024;
const GOAL_MS = 50;
const MiB = 1024 * 1024;
/** Clock ticks a second in /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

// Loaded into the host before its entry point, answering on the IPC channel: "memory" with
// process.memoryUsage(), "gc" the same after a full collection (the host runs with --expose-gc),
// "loop" with the longest its event loop was held since the last "loop" (Azurite shares it with the API).
const PROBE = [
  `import { monitorEventLoopDelay } from "node:perf_hooks";`,
  `const delay = monitorEventLoopDelay({ resolution: 5 }); delay.enable();`,
  `process.on("message", (m) => {`,
  `  if (m === "gc") globalThis.gc();`,
  `  if (m === "memory" || m === "gc") process.send({ memory: process.memoryUsage() });`,
  `  if (m === "loop") { process.send({ loop: delay.max / 1e6 }); delay.reset(); }`,
  `});`,
].join("\n");

/**
 * A PNG as file-type reads one: the signature, an IHDR chunk (1024×768, RGBA) and one IDAT
 * chunk holding the rest, random (what the API sniffs is the first bytes; the chunks' CRCs are right).
 */
function pngOf(size: number): Buffer<ArrayBuffer> {
  const file = Buffer.alloc(size);
  Buffer.from("89504e470d0a1a0a", "hex").copy(file, 0);
  const ihdr = Buffer.from("0000000d" + "49484452" + "00000400" + "00000300" + "0806000000", "hex");
  ihdr.copy(file, 8);
  file.writeUInt32BE(crc32(ihdr.subarray(4)), 8 + ihdr.length);
  const idat = 8 + ihdr.length + 4;
  const dataLength = size - idat - 12;
  file.writeUInt32BE(dataLength, idat);
  file.write("IDAT", idat + 4, "latin1");
  randomBytes(dataLength).copy(file, idat + 8);
  file.writeUInt32BE(crc32(file.subarray(idat + 4, idat + 8 + dataLength)), size - 4);
  return file;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0));
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const signed = (bytes: number) => `${bytes >= 0 ? "+" : "−"}${mib(Math.abs(bytes))}`;

/** The files under `dir`, with their sizes (paths relative to it). */
async function filesUnder(dir: string): Promise<{ path: string; bytes: number }[]> {
  const found: { path: string; bytes: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.push({ path: relative(dir, path), bytes: (await stat(path)).size });
  }
  return found.sort((a, b) => b.bytes - a.bytes);
}

interface Flow {
  /** The API calls, in ms. */
  open: number;
  request: number;
  attach: number;
  redirect: number;
  /** The transfers, client ↔ Azurite (not API calls), in ms, and the host's CPU time (user + system) for each. */
  upload: number;
  uploadCpu: number;
  blocks: number;
  download: number;
  downloadCpu: number;
  /** The longest the host's event loop was held during the upload, the comment-attach and the download. */
  held: { upload: number; attach: number; download: number };
}

const workRoot = fileURLToPath(new URL("../.local/", import.meta.url));
await mkdir(workRoot, { recursive: true });
const dirs: string[] = [];
let child: ChildProcess | undefined;
let cleaned: Promise<void> | undefined;
const cleanUp = () =>
  (cleaned ??= (async () => {
    if (child) await stopChild(child, 30_000);
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  })());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the host and removing ${dirs.join(", ")}`);
    void cleanUp().then(() => process.exit(130));
  });
}

console.log(
  `attachments: a ${mib(FILE_BYTES)} PNG (${FILE_BYTES.toLocaleString("en")} bytes) through the bundled local host, ` +
    `${RUNS} flows a host, one host for each LOCAL_STORE of ${STORES.join(", ")}; ` +
    `upload in ${Math.ceil(FILE_BYTES / BLOCK_BYTES)} blocks of ${mib(BLOCK_BYTES)}`,
);
const summary: string[] = [];
try {
  for (const store of STORES) {
    const dir = await mkdtemp(join(workRoot, `bench-attachments-${store}-`));
    dirs.push(dir);
    // The dev issuer's key is made in LOCAL_DIR here, before the host starts; the host trusts the same key.
    const requester = await signDevToken(dir, { name: "Karen Karen", email: "karen@example.com" });
    const agent = await signDevToken(dir, { name: "Jane Doe", email: "jane@example.com", role: "agent" });
    const port = await freePort();
    const startedAt = performance.now();
    child = spawn(
      process.execPath,
      ["--expose-gc", "--import", `data:text/javascript,${encodeURIComponent(PROBE)}`, "dist/shared/local/main.js"],
      { env: { ...benchHostEnv(port, dir), LOCAL_STORE: store }, stdio: ["ignore", "pipe", "pipe", "ipc"] },
    );
    const host = child;
    const tail = drainOutput(host);
    const banner = await printed(host, "stdout", /^ {2}files: +(.*)$/m);
    const api = /Help desk API on (\S+)/.exec(banner)![1]!;
    const filesLine = /^ {2}files: +(.*)$/m.exec(banner)![1]!;
    let stopping = false;
    host.once("exit", (code, signal) => {
      if (!stopping && !cleaned) console.error(`the host exited (${code ?? signal}) during the run; its last output:\n${tail()}`);
    });
    console.log(`\n== LOCAL_STORE=${store} ==`);
    console.log(
      `host pid ${host.pid} on ${api}, ready in ${(performance.now() - startedAt).toFixed(0)} ms; LOCAL_DIR ${relative(process.cwd(), dir)}`,
    );
    console.log(`its banner: files: ${filesLine}`);

    const call = async (token: string, method: string, path: string, body?: unknown, expected = 201) => {
      const t0 = performance.now();
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: "manual",
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status}, not ${expected}: ${text.slice(0, 500)}`);
      return { ms, json: text ? JSON.parse(text) : null, headers: res.headers };
    };
    const sent = async (what: string, url: string, init: RequestInit, expected: number) => {
      const res = await fetch(url, init);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status !== expected) throw new Error(`${what}: ${res.status}, not ${expected}: ${bytes.toString("utf8").slice(0, 500)}`);
      return { bytes, headers: res.headers };
    };
    const cpuMs = async () => {
      const fields = (await readFile(`/proc/${host.pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    };

    /** The probe's answer to `message` (see PROBE). */
    const ask = <T>(message: "memory" | "gc" | "loop", key: "memory" | "loop") =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`the host's probe gave no answer to "${message}" in 30 s`)), 30_000);
        const done = (answer: { value: T } | Error) => {
          clearTimeout(timer);
          host.off("message", onMessage);
          if (answer instanceof Error) reject(answer);
          else resolve(answer.value);
        };
        const onMessage = (m: unknown) => {
          if (m && typeof m === "object" && key in m) done({ value: (m as Record<string, T>)[key]! });
        };
        host.on("message", onMessage);
        host.send(message);
      });
    /** The longest the host's event loop was held since the last call (ms, to its 5 ms sampling). */
    const loopHeld = () => ask<number>("loop", "loop");
    let peak = 0;
    const memory = async (message: "memory" | "gc" = "memory") => {
      const usage = await ask<NodeJS.MemoryUsage>(message, "memory");
      const status = await readFile(`/proc/${host.pid}/status`, "utf8");
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
      const rss = kb("VmRSS");
      // VmHWM, the kernel's high-water mark, lags a little behind VmRSS: the larger of the two.
      peak = Math.max(peak, rss, kb("VmHWM"));
      return { rss, usage };
    };

    const flow = async (size: number): Promise<Flow> => {
      const file = pngOf(size);
      const opened = await call(requester, "POST", "/tickets", {
        subject: "The invoice screen shows an error",
        description: "A screenshot of it is attached.",
      });
      const ticket = opened.json.id as string;
      const granted = await call(requester, "POST", `/tickets/${ticket}/attachments`, {
        fileName: "big.png",
        contentType: "image/png",
        size,
      });
      const { id: uploadId, uploadUrl, maxBytes } = granted.json as { id: string; uploadUrl: string; maxBytes: number };
      if (size > maxBytes) throw new Error(`the file (${size} bytes) is over maxBytes (${maxBytes})`);

      await loopHeld();
      const cpuBeforeUpload = await cpuMs();
      const uploadStarted = performance.now();
      // No Content-MD5, as a browser sends them: Azurite then computes each block's CRC-64 itself.
      const ids: string[] = [];
      for (let at = 0; at < size; at += BLOCK_BYTES) {
        const id = Buffer.from(`block-${String(ids.length).padStart(6, "0")}`).toString("base64");
        ids.push(id);
        await sent(
          `Put Block ${ids.length}`,
          `${uploadUrl}&comp=block&blockid=${encodeURIComponent(id)}`,
          { method: "PUT", body: new Uint8Array(file.buffer, file.byteOffset + at, Math.min(BLOCK_BYTES, size - at)) },
          201,
        );
      }
      const list = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join("")}</BlockList>`;
      await sent(
        "Put Block List",
        `${uploadUrl}&comp=blocklist`,
        { method: "PUT", headers: { "x-ms-blob-content-type": "image/png" }, body: list },
        201,
      );
      const upload = performance.now() - uploadStarted;
      const uploadCpu = (await cpuMs()) - cpuBeforeUpload;
      const uploadHeld = await loopHeld();

      const commented = await call(requester, "POST", `/tickets/${ticket}/comments`, {
        body: "Here is the screenshot.",
        attachments: [uploadId],
      });
      const attached = commented.json.data?.attachments?.[0];
      if (attached?.size !== size || attached?.contentType !== "image/png")
        throw new Error(`the comment's attachment is ${JSON.stringify(attached)}, not ${size} bytes of image/png`);
      const attachHeld = await loopHeld();

      const redirected = await call(agent, "GET", `/tickets/${ticket}/attachments/${uploadId}`, undefined, 302);
      const location = redirected.headers.get("location");
      if (!location) throw new Error("the 302 has no Location");
      await loopHeld();
      const cpuBeforeDownload = await cpuMs();
      const downloadStarted = performance.now();
      const got = await sent("the download", location, {}, 200);
      const download = performance.now() - downloadStarted;
      const downloadCpu = (await cpuMs()) - cpuBeforeDownload;
      const downloadHeld = await loopHeld();
      if (!got.bytes.equals(file))
        throw new Error(`the download (${got.bytes.length} bytes, sha256 ${sha256(got.bytes)}) is not the upload`);
      return {
        open: opened.ms,
        request: granted.ms,
        attach: commented.ms,
        redirect: redirected.ms,
        upload,
        uploadCpu,
        blocks: ids.length,
        download,
        downloadCpu,
        held: { upload: uploadHeld, attach: attachHeld, download: downloadHeld },
      };
    };

    const inside = (m: Awaited<ReturnType<typeof memory>>) =>
      `heapUsed ${mib(m.usage.heapUsed)}, external ${mib(m.usage.external)} (arrayBuffers ${mib(m.usage.arrayBuffers)})`;

    const warm = await flow(WARM_UP_BYTES);
    console.log(
      `warm-up flow, ${WARM_UP_BYTES / 1024} KiB file (Azurite starts at its upload request): open ${fmt(warm.open)} ms, ` +
        `upload request ${fmt(warm.request)} ms, upload ${fmt(warm.upload)} ms, comment-attach ${fmt(warm.attach)} ms, ` +
        `download redirect ${fmt(warm.redirect)} ms, download ${fmt(warm.download)} ms`,
    );
    const before = await memory();
    console.log(`host memory before the first ${mib(FILE_BYTES)} flow: RSS ${mib(before.rss)} (VmRSS), ${inside(before)}`);

    const flows: Flow[] = [];
    let previous = before;
    for (let i = 1; i <= RUNS; i++) {
      const f = await flow(FILE_BYTES);
      flows.push(f);
      const m = await memory();
      const growth = m.rss - before.rss;
      console.log(
        `flow ${i}: open ${fmt(f.open)} ms, upload request ${fmt(f.request)} ms, ` +
          `upload ${fmt(f.upload)} ms (${f.blocks} Put Block + Put Block List, ${(FILE_BYTES / MiB / (f.upload / 1000)).toFixed(0)} MiB/s, host CPU ${f.uploadCpu.toFixed(0)} ms), ` +
          `comment-attach ${fmt(f.attach)} ms, download redirect ${fmt(f.redirect)} ms, ` +
          `download ${fmt(f.download)} ms (${(FILE_BYTES / MiB / (f.download / 1000)).toFixed(0)} MiB/s, host CPU ${f.downloadCpu.toFixed(0)} ms), bytes equal`,
      );
      console.log(
        `        host event loop held at most ${f.held.upload.toFixed(0)} ms during the upload, ` +
          `${f.held.attach.toFixed(0)} ms during the comment-attach, ${f.held.download.toFixed(0)} ms during the download`,
      );
      console.log(
        `        RSS ${mib(m.rss)}: ${signed(growth)} since before the first flow = ${(growth / FILE_BYTES).toFixed(2)}× the file ` +
          `(${signed(m.rss - previous.rss)} this flow = ${((m.rss - previous.rss) / FILE_BYTES).toFixed(2)}×); ${inside(m)}`,
      );
      previous = m;
    }
    const after = await memory("gc");
    const kept = after.rss - before.rss;

    const row = (label: string, xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const p50 = percentile(sorted, 50);
      const max = sorted[sorted.length - 1]!;
      return [label, String(xs.length), fmt(p50), fmt(max), (p50 / GOAL_MS).toFixed(2), (max / GOAL_MS).toFixed(2)];
    };
    const rows = [
      row(
        "POST /tickets (open)",
        flows.map((f) => f.open),
      ),
      row(
        "POST /tickets/{id}/attachments (upload request)",
        flows.map((f) => f.request),
      ),
      row(
        "POST /tickets/{id}/comments (comment-attach)",
        flows.map((f) => f.attach),
      ),
      row(
        "GET /tickets/{id}/attachments/{id} (302)",
        flows.map((f) => f.redirect),
      ),
      row(
        "  not the API: upload, client → Azurite",
        flows.map((f) => f.upload),
      ),
      row(
        "  not the API: download, Azurite → client",
        flows.map((f) => f.download),
      ),
    ];
    const header = ["call", "n", "p50 ms", "max ms", `p50/${GOAL_MS}ms`, `max/${GOAL_MS}ms`];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join("  ")
        .trimEnd();
    console.log();
    console.log(line(header));
    for (const r of rows) console.log(line(r));

    const growth = previous.rss - before.rss;
    console.log(
      `\nhost memory (VmRSS): ${mib(before.rss)} before the first flow → ${mib(previous.rss)} after ${RUNS}: ${signed(growth)} ` +
        `= ${(growth / FILE_BYTES).toFixed(2)}× the file, ${(growth / RUNS / FILE_BYTES).toFixed(2)}× a flow; peak (VmHWM) ${mib(peak)}`,
    );
    console.log(
      `after a full GC: RSS ${mib(after.rss)}, ${signed(kept)} on before = ${(kept / FILE_BYTES).toFixed(2)}× the file ` +
        `(${(kept / RUNS / FILE_BYTES).toFixed(2)}× a flow); ${inside(after)}`,
    );
    const processes = 1 + (await descendants(host.pid!)).length;
    const onDisk = await filesUnder(dir);
    const diskBytes = onDisk.reduce((n, f) => n + f.bytes, 0);
    const persistence = diskBytes >= FILE_BYTES ? "disk" : "memory";
    console.log(
      `Azurite's persistence: ${persistence.toUpperCase()} — LOCAL_DIR holds ${mib(diskBytes)} in ${onDisk.length} files ` +
        `(${onDisk
          .slice(0, 4)
          .map((f) => `${f.path} ${f.bytes.toLocaleString("en")} B`)
          .join(", ")}${onDisk.length > 4 ? ", …" : ""}) after ${RUNS} attached files of ${mib(FILE_BYTES)}; ` +
        `the host is ${processes} process${processes === 1 ? "" : "es"} (Azurite inside it)`,
    );
    if (persistence === "memory")
      console.log(
        `  so the attached files live in the host process's memory: the RSS growth above is Azurite's store (arrayBuffers), not the API's`,
      );
    const worst = Math.max(...flows.flatMap((f) => [f.open, f.request, f.attach, f.redirect]));
    summary.push(
      `LOCAL_STORE=${store}: Azurite on ${persistence}; API calls p50 open ${rows[0]![2]} / upload request ${rows[1]![2]} / ` +
        `comment-attach ${rows[2]![2]} / redirect ${rows[3]![2]} ms, the slowest ${fmt(worst)} ms = ${(worst / GOAL_MS).toFixed(2)}× ${GOAL_MS} ms; ` +
        `RSS ${signed(growth)} over ${RUNS} flows (${(growth / RUNS / FILE_BYTES).toFixed(2)}× the file a flow), ` +
        `${signed(kept)} after a GC (${(kept / RUNS / FILE_BYTES).toFixed(2)}× a flow)`,
    );
    stopping = true;
    await stopChild(host, 30_000);
    child = undefined;
  }
  console.log(`\n== summary ==`);
  for (const s of summary) console.log(s);
} finally {
  await cleanUp();
}
