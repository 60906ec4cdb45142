import { z } from "zod";
import { preflight } from "../adapters/http/cors.js";
import { docsHandlers } from "../adapters/http/docs-page.js";
import { endpoint, requestIdOf, type HttpContext, type HttpHandler } from "../adapters/http/endpoint.js";
import { Health, healthHandler } from "../adapters/http/health.js";
import { openApiDocument, OpenApiJson, type DocumentedRoute, type RouteDoc } from "../adapters/http/openapi.js";
import type { AgentDirectory } from "../agents/directory.js";
import { agentHandlers, AgentList } from "../agents/http/handlers.js";
import { ticketHandlers } from "../tickets/http/handlers.js";
import {
  AssignBody,
  CommentBody,
  EscalateBody,
  ListTicketsQuery,
  MoveBody,
  OpenTicketBody,
  TicketJson,
  TicketPage,
  TimelineEntryJson,
  TimelinePage,
  TimelineQuery,
  TriageBody,
} from "../tickets/http/schemas.js";
import type { TicketUseCases } from "../tickets/use-cases.js";

/**
 * The HTTP routes, one table for Azure (functions/) and the local host alike:
 * function name, route under /api, methods, handler, and the documentation that
 * becomes GET /api/openapi.json.
 */
export interface HttpRoute extends DocumentedRoute {
  handler: HttpHandler;
}

type Spec = Omit<DocumentedRoute, "doc"> & { doc: RouteDoc };

const WRITE_ERRORS = [409, 412, 413, 415];

export const ROUTE_SPECS: Spec[] = [
  {
    name: "openTicket",
    route: "tickets",
    methods: ["POST"],
    doc: {
      summary: "Open a ticket",
      auth: true,
      body: OpenTicketBody,
      ok: { status: 201, schema: TicketJson, description: "Opened (Location, ETag)" },
      errors: [409, 413, 415, 422],
      headers: ["Idempotency-Key"],
    },
  },
  {
    name: "listTickets",
    route: "tickets",
    methods: ["GET"],
    doc: {
      summary: "The queue: filter, sort, page",
      auth: true,
      query: ListTicketsQuery,
      ok: {
        status: 200,
        schema: TicketPage,
        description: "A page of tickets in the order of `sort` (by default emergency first, then oldest first)",
      },
    },
  },
  {
    name: "getTicket",
    route: "tickets/{id}",
    methods: ["GET"],
    doc: {
      summary: "One ticket",
      auth: true,
      ok: { status: 200, schema: TicketJson, description: "The ticket (ETag)" },
      also: [{ status: 304, description: "Not modified: the caller's ETag is still the one sent in If-None-Match" }],
      headers: ["If-None-Match"],
    },
  },
  {
    name: "triageTicket",
    route: "tickets/{id}",
    methods: ["PATCH"],
    doc: {
      summary: "Triage: priority, severity, category, subject",
      auth: true,
      body: TriageBody,
      ok: { status: 200, schema: TicketJson, description: "The ticket (ETag)" },
      errors: WRITE_ERRORS,
      headers: ["If-Match"],
    },
  },
  {
    name: "assignTicket",
    route: "tickets/{id}/assignee",
    methods: ["PUT"],
    doc: {
      summary: "Assign to an agent",
      auth: true,
      body: AssignBody,
      ok: { status: 200, schema: TicketJson, description: "The ticket (ETag)" },
      errors: WRITE_ERRORS,
      headers: ["If-Match"],
    },
  },
  {
    name: "unassignTicket",
    route: "tickets/{id}/assignee",
    methods: ["DELETE"],
    doc: {
      summary: "Unassign",
      auth: true,
      ok: { status: 200, schema: TicketJson, description: "The ticket (ETag)" },
      errors: [412],
      headers: ["If-Match"],
    },
  },
  {
    name: "commentOnTicket",
    route: "tickets/{id}/comments",
    methods: ["POST"],
    doc: {
      summary: "Public reply or internal note",
      auth: true,
      body: CommentBody,
      ok: { status: 201, schema: TimelineEntryJson, description: "The comment's timeline entry (ETag of the ticket)" },
      errors: [...WRITE_ERRORS, 422],
      headers: ["If-Match", "Idempotency-Key"],
    },
  },
  {
    name: "moveTicket",
    route: "tickets/{id}/status",
    methods: ["POST"],
    doc: {
      summary: "Move through the lifecycle",
      auth: true,
      body: MoveBody,
      ok: { status: 200, schema: TicketJson, description: "The ticket (ETag)" },
      errors: WRITE_ERRORS,
      headers: ["If-Match"],
    },
  },
  {
    name: "escalateTicket",
    route: "tickets/{id}/escalation",
    methods: ["POST"],
    doc: {
      summary: "Page ops by hand (agents), with a reason",
      auth: true,
      body: EscalateBody,
      ok: { status: 200, schema: TicketJson, description: "The ticket, its escalation triggered (ETag)" },
      errors: WRITE_ERRORS,
      headers: ["If-Match"],
    },
  },
  {
    name: "acknowledgeEscalation",
    route: "tickets/{id}/escalation/acknowledge",
    methods: ["POST"],
    doc: {
      summary: "Acknowledge the escalation: re-pages stop",
      auth: true,
      ok: { status: 200, schema: TicketJson, description: "The ticket (ETag)" },
      errors: [409, 412],
      headers: ["If-Match"],
    },
  },
  {
    name: "ticketTimeline",
    route: "tickets/{id}/timeline",
    methods: ["GET"],
    doc: {
      summary: "History, oldest first",
      auth: true,
      query: TimelineQuery,
      ok: { status: 200, schema: TimelinePage, description: "A page of entries (requesters: public ones only), with an ETag" },
      also: [{ status: 304, description: "Not modified: no entry the caller can see was added since that ETag" }],
      headers: ["If-None-Match"],
    },
  },
  {
    name: "listAgents",
    route: "agents",
    methods: ["GET"],
    doc: { summary: "Agents known to the help desk", auth: true, ok: { status: 200, schema: AgentList, description: "Agents" } },
  },
  {
    name: "openApi",
    route: "openapi.json",
    methods: ["GET"],
    doc: { summary: "This document", auth: false, ok: { status: 200, schema: OpenApiJson, description: "OpenAPI 3.1" } },
  },
  {
    name: "docsPage",
    route: "docs",
    methods: ["GET"],
    doc: {
      summary: "This reference, interactive (Swagger UI): paste a bearer token, try the calls",
      auth: false,
      ok: { status: 200, schema: z.string(), contentType: "text/html", description: "The page" },
    },
  },
  // The page's script and style: Swagger UI's files and its configuration (not part of the API).
  {
    name: "docsAsset",
    route: "docs/{file}",
    methods: ["GET"],
    doc: { summary: "A file of the docs page", auth: false, hidden: true, ok: { status: 200, description: "The file" } },
  },
  // Every route's preflight: browsers send OPTIONS before a cross-origin write.
  {
    name: "corsPreflight",
    route: "{*path}",
    methods: ["OPTIONS"],
    doc: {
      summary: "CORS preflight",
      auth: false,
      hidden: true,
      ok: { status: 204, description: "Allowed methods and headers for an allowed origin" },
    },
  },
  {
    name: "health",
    route: "health",
    methods: ["GET"],
    doc: {
      summary: "Liveness, and whether the store answers",
      auth: false,
      ok: { status: 200, schema: Health, description: "Up, and the store answers" },
      also: [{ status: 503, schema: Health, description: "Degraded: the store does not answer (Retry-After)" }],
    },
  },
];

/** What the handlers need: each feature's use cases (built on first use), and the store's health. */
export interface RouteDeps {
  http: HttpContext;
  tickets: () => Promise<TicketUseCases>;
  directory: () => Promise<AgentDirectory>;
  /** Resolves when the store answers (and its container is there). */
  pingStore: () => Promise<void>;
  /** The clock health's probe cache runs on. */
  now: () => Date;
}

export function httpRoutes(deps: RouteDeps): HttpRoute[] {
  let document: ReturnType<typeof openApiDocument> | undefined;
  const { http } = deps;
  const handlers: Record<string, HttpHandler> = {
    ...ticketHandlers(http, deps.tickets),
    ...agentHandlers(http, deps.directory),
    // Built once, on the first request for it: it depends only on the route table.
    openApi: endpoint(http, { auth: false }, async () => ({ status: 200, body: (document ??= openApiDocument(ROUTE_SPECS)) })),
    ...docsHandlers(http),
    corsPreflight: async (request) =>
      preflight(request.headers.get("origin"), http.corsOrigins, requestIdOf(request.headers.get("x-request-id"))),
    health: healthHandler(http, deps.pingStore, () => deps.now().getTime()),
  };
  return ROUTE_SPECS.map((spec) => {
    const handler = handlers[spec.name];
    if (!handler) throw new Error(`No handler for ${spec.name}`);
    return { ...spec, handler };
  });
}
