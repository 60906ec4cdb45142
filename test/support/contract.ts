import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { EXPOSED_HEADERS } from "../../shared/adapters/http/cors.js";
import { openApiDocument } from "../../shared/adapters/http/openapi.js";
import { ROUTE_SPECS } from "../../shared/app/routes.js";

/**
 * The response contract: every response an end-to-end test receives is checked against
 * what GET /api/openapi.json declares for its operation and status, so the document and
 * the behaviour cannot drift apart. The document is the one the API serves (the same
 * function over the same route table), built once per test file.
 */

interface MediaType {
  schema?: unknown;
}
interface DeclaredHeader {
  required?: boolean;
  schema: { type: string };
}
interface DeclaredResponse {
  description: string;
  headers?: Record<string, DeclaredHeader>;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  responses: Record<string, DeclaredResponse>;
}
interface Document {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
}

export const DOCUMENT = openApiDocument(ROUTE_SPECS, "http://localhost:7071/api") as unknown as Document;
const DOCUMENT_ID = "https://helpdesk.example/openapi.json";
/** The path the operations are under: the server's own (the host and port are each test host's). */
const SERVER_PATH = new URL(DOCUMENT.servers[0]!.url).pathname;

/** The headers the API sets for its clients (cors.ts exposes them to browsers): each must be declared where it is sent. */
const SIGNIFICANT_HEADERS = EXPOSED_HEADERS.split(",").map((h) => h.trim().toLowerCase());

// Strict mode, all of it: zod 4's draft 2020-12 output needs no allowance (its nullable
// scalars, `type: ["string", "null"]`, are the one union strictTypes accepts).
const ajv = new Ajv2020({ strict: true, allErrors: true });
// ajv-formats is CommonJS: under NodeNext its default import is module.exports, whose
// `default` is the plugin (module.exports is the plugin too, at run time).
ajvFormats.default(ajv);
// The whole document is added as one schema resource under its own id, so that a response
// schema is compiled where it sits (a JSON pointer into the document) and its
// `#/components/schemas/...` refs resolve against the document, as an OpenAPI client
// resolves them. The document itself is not a JSON Schema: ajv compiles its root when it
// resolves a pointer into it, and strict mode would reject its top-level fields as unknown
// keywords. They, and only they, are declared as annotation keywords (no validation, and
// ajv does not descend into them); every schema reached from a response is compiled strictly.
ajv.addVocabulary(Object.keys(DOCUMENT));
ajv.addSchema(DOCUMENT, DOCUMENT_ID);

const pointer = (...segments: string[]) => segments.map((s) => "/" + s.replaceAll("~", "~0").replaceAll("/", "~1")).join("");

const compiled = new Map<string, ValidateFunction>();
function validatorFor(ref: string): ValidateFunction {
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${ref}` });
    compiled.set(ref, validate);
  }
  return validate;
}
/** A $ref (`#/components/...`) as the node it names, and that node's JSON pointer; any other node as it is. */
function resolved<T>(node: T | { $ref: string }, at: string): { node: T; at: string } {
  if (typeof node !== "object" || node === null || !("$ref" in node)) return { node, at };
  const target = node.$ref.replace(/^#/, "");
  const found = target
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce<unknown>((n, key) => (n as Record<string, unknown> | undefined)?.[key], DOCUMENT);
  if (found === undefined) throw new ContractViolation(`the document's ${node.$ref} names nothing`);
  return { node: found as T, at: target };
}

/** An operation's declared answer for a status, followed through components.responses. */
const responseOf = (template: string, method: string, status: string) => {
  const declared = DOCUMENT.paths[template]?.[method]?.responses[status];
  return declared && resolved<DeclaredResponse>(declared, pointer("paths", template, method, "responses", status));
};

/** Each header an answer declares: its spec, and where its schema is, followed through components.headers. */
const headersOf = (response: { node: DeclaredResponse; at: string }) =>
  Object.entries(response.node.headers ?? {}).map(([name, header]) => {
    const { node, at } = resolved<DeclaredHeader>(header, `${response.at}${pointer("headers", name)}`);
    return { name, spec: node, schemaAt: `${at}/schema` };
  });

/**
 * Compiles every declared response schema, headers' included (strictly), naming the
 * operation of one ajv cannot compile. Validators are otherwise compiled on first use, so
 * an e2e file pays only for the responses it meets; test/contract/response-contract.test.ts calls this.
 */
export function compileEveryResponseSchema(): number {
  let count = 0;
  for (const [template, operations] of Object.entries(DOCUMENT.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const status of Object.keys(operation.responses)) {
        const response = responseOf(template, method, status)!;
        const schemas = [
          ...headersOf(response).map((h) => ({ what: `header ${h.name}`, at: h.schemaAt })),
          ...Object.entries(response.node.content ?? {}).flatMap(([media, { schema }]) =>
            schema === undefined ? [] : [{ what: media, at: `${response.at}${pointer("content", media, "schema")}` }],
          ),
        ];
        for (const { what, at } of schemas) {
          try {
            validatorFor(at);
            count++;
          } catch (e) {
            throw new Error(`${operation.operationId} ${status} ${what}: ajv cannot compile the schema: ${String(e)}`, { cause: e });
          }
        }
      }
    }
  }
  return count;
}

// A path template's {param} is one segment; as in OpenAPI, a concrete path wins over a
// templated one that also matches (none overlap today). A trailing slash is the same route,
// as on the hosts.
const templates = Object.keys(DOCUMENT.paths)
  .map((template) => ({
    template,
    params: template.split("{").length - 1,
    pattern: new RegExp(`^${template.replace(/[.]/g, "\\.").replace(/\{\w+\}/g, "[^/]+")}/?$`),
  }))
  .sort((a, b) => a.params - b.params);

export class ContractViolation extends Error {
  override name = "ContractViolation";
}

/** The media type of a Content-Type header, without parameters, or null when there is none. */
const mediaTypeOf = (contentType: string | null | undefined) => contentType?.split(";")[0]?.trim().toLowerCase() || null;

const hasBody = (body: unknown) => body !== undefined && body !== null && body !== "";

/** Response headers as fetch (Headers) or node:http (IncomingHttpHeaders, a test's Record) give them. */
export type AnyHeaders = Headers | Record<string, string | string[] | undefined>;

function headerMap(headers: AnyHeaders): Map<string, string> {
  const entries: [string, string | string[] | undefined][] = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return new Map(entries.flatMap(([name, value]) => (value === undefined ? [] : [[name.toLowerCase(), String(value)]])));
}

/**
 * Throws a ContractViolation unless the response is one the document declares:
 * the operation (path and method) must declare the status, the body must match
 * the schema declared for its content type, every header declared required must be
 * there and match its schema, and every significant header sent must be declared.
 */
export function validateResponse(
  method: string,
  url: string | URL,
  status: number,
  contentType: string | null,
  body: unknown,
  headers: AnyHeaders,
): void {
  const { pathname } = new URL(url, "http://localhost");
  const verb = method.toUpperCase();
  const request = `${verb} ${pathname} → ${status}`;
  // The CORS preflight answers OPTIONS on every path and is left out of the document
  // (hidden in the route table): there is no operation to check it against.
  if (verb === "OPTIONS") return;
  const media = mediaTypeOf(contentType);
  if (!pathname.startsWith(`${SERVER_PATH}/`)) throw new ContractViolation(`${request}: not under the server URL ${SERVER_PATH}`);
  const path = pathname.slice(SERVER_PATH.length);
  const template = templates.find((t) => t.pattern.test(path))?.template;
  const operation = template ? DOCUMENT.paths[template]![verb.toLowerCase()] : undefined;
  if (!template || !operation) {
    // No operation has this path and method: the host itself answers (404, as the
    // Functions host does), in the API's problem+json, so hold it to the Problem schema.
    if (status !== 404 || media !== "application/problem+json")
      throw new ContractViolation(`${request}: no operation has this path and method, yet the answer is ${status} ${media ?? "(no body)"}`);
    check(`${request}: the host's own 404`, "/components/schemas/Problem", body);
    return;
  }
  const name = `${operation.operationId} (${verb} ${template})`;
  const response = responseOf(template, verb.toLowerCase(), String(status));
  if (!response) {
    throw new ContractViolation(
      `${request}: ${name} does not declare status ${status} (it declares ${Object.keys(operation.responses).join(", ")})`,
    );
  }
  checkBody(request, name, status, response, media, body);
  checkHeaders(request, `${name} ${status}`, response, headerMap(headers));
}

function checkBody(
  request: string,
  name: string,
  status: number,
  response: { node: DeclaredResponse; at: string },
  media: string | null,
  body: unknown,
): void {
  const declared = response.node;
  if (!declared.content) {
    if (hasBody(body) || media)
      throw new ContractViolation(`${request}: ${name} declares no content for ${status}, yet the answer has ${media ?? "a body"}`);
    return;
  }
  const mediaType = media ? declared.content[media] : undefined;
  if (!media || !mediaType) {
    throw new ContractViolation(
      `${request}: ${name} declares ${Object.keys(declared.content).join(", ")} for ${status}, the answer is ${media ?? "without a content type"}`,
    );
  }
  if (mediaType.schema === undefined) return;
  check(`${request}: ${name} ${media}`, `${response.at}${pointer("content", media, "schema")}`, body);
}

function checkHeaders(request: string, name: string, response: { node: DeclaredResponse; at: string }, sent: Map<string, string>): void {
  const declared = headersOf(response);
  for (const { name: header, spec, schemaAt } of declared) {
    const value = sent.get(header.toLowerCase());
    if (value === undefined) {
      if (spec.required) throw new ContractViolation(`${request}: ${name} declares the header ${header} required, and the answer has none`);
      continue;
    }
    // A header is a string on the wire; an integer one (Retry-After) is held to its schema as the number it spells.
    const typed = spec.schema.type === "integer" && /^-?\d+$/.test(value) ? Number(value) : value;
    check(`${request}: ${name} header ${header}`, schemaAt, typed, "value");
  }
  const names = new Set(declared.map((h) => h.name.toLowerCase()));
  for (const header of SIGNIFICANT_HEADERS) {
    if (sent.has(header) && !names.has(header))
      throw new ContractViolation(
        `${request}: the answer has the header ${header}, which ${name} does not declare (it declares ${declared.map((h) => h.name).join(", ") || "none"})`,
      );
  }
}

function check(what: string, ref: string, body: unknown, subject: "body" | "value" = "body"): void {
  const validate = validatorFor(ref);
  if (validate(body)) return;
  const errors = (validate.errors ?? [])
    .map((e) => `  ${e.instancePath || "(body)"} ${e.message ?? ""} ${JSON.stringify(e.params)}`)
    .join("\n");
  throw new ContractViolation(`${what}: the ${subject} does not match the declared schema\n${errors}\n${subject}: ${JSON.stringify(body)}`);
}

/** The body of a fetch Response as a test reads it: JSON when it parses, else the text (null when empty). */
export function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * fetch, with the response checked against the document. For the tests that call the API
 * without TestHost.call: the returned Response's body is still readable.
 */
export async function checkedFetch(input: string | URL, init: RequestInit = {}): Promise<globalThis.Response> {
  const res = await fetch(input, init);
  const text = await res.clone().text();
  validateResponse(
    init.method ?? "GET",
    res.url || String(input),
    res.status,
    res.headers.get("content-type"),
    parseBody(text),
    res.headers,
  );
  return res;
}
