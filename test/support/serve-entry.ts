import { pathToFileURL } from "node:url";
import { referencesOf } from "./docs-page.js";
import { installFunctionsCoreStandIn } from "./functions-core-standin.js";

/**
 * Loads a Functions entry point (argv[2]) as the worker would, in the environment it
 * is given, then calls its functions as the worker would: GET /api/health, GET /api/docs
 * and every file the page names, and the Service Bus notifier with one escalation message. Prints, as JSON, the names it
 * registered and what each call did: run in a child process so each entry loads fresh.
 */
const registered = installFunctionsCoreStandIn();
let loadError: string | null = null;
try {
  await import(pathToFileURL(process.argv[2]!).href);
} catch (e) {
  loadError = e instanceof Error ? e.message : String(e);
}

// A CommonJS package: its classes come through a dynamic import's interop.
const { HttpRequest, InvocationContext } = await import("@azure/functions");
const byName = (name: string) => registered.find((r) => r.metadata.name === name);

async function health() {
  const fn = byName("health");
  if (!fn) return null;
  const res = (await fn.handler(new HttpRequest({ method: "GET", url: "http://localhost/api/health" }), new InvocationContext())) as {
    status: number;
    body: string;
  };
  return { status: res.status, body: JSON.parse(res.body) as unknown };
}

type Answer = { status: number; headers: Record<string, string>; body: string };

/** The docs page, and each file it names: what its status and content type are, and how big. */
async function docs() {
  const page = byName("docsPage");
  const asset = byName("docsAsset");
  if (!page || !asset) return null;
  const url = "http://localhost/api/docs";
  const res = (await page.handler(new HttpRequest({ method: "GET", url }), new InvocationContext())) as Answer;
  const files = [];
  for (const ref of referencesOf(res.body, url).filter((r) => r.protocol !== "data:")) {
    const request = new HttpRequest({ method: "GET", url: ref.href, params: { file: ref.pathname.split("/").pop()! } });
    const file = (await asset.handler(request, new InvocationContext())) as Answer;
    files.push({ path: ref.pathname, status: file.status, contentType: file.headers["content-type"], bytes: file.body.length });
  }
  return { status: res.status, contentType: res.headers["content-type"], files };
}

async function notify() {
  const fn = byName("notifyOps");
  if (!fn) return null;
  try {
    await fn.handler({ version: 1 }, new InvocationContext({ triggerMetadata: { messageId: "m-1" } }));
    return "handled";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

process.stdout.write(
  JSON.stringify({
    loadError,
    names: registered.map((r) => r.metadata.name),
    health: await health(),
    docs: await docs(),
    notify: await notify(),
  }),
);
