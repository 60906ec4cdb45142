import * as z from "zod";
import { preflight } from "../adapters/http/cors.js";
import { docsHandlers } from "../adapters/http/docs-page.js";
import { endpoint, requestIdOf, type HttpContext, type HttpHandler } from "../adapters/http/endpoint.js";
import { Health, healthHandler } from "../adapters/http/health.js";
import { openApiDocument, OpenApiJson, servedAt, serverUrlOf, type DocumentedRoute, type RouteDoc } from "../adapters/http/openapi.js";
import type { AgentDirectory } from "../agents/directory.js";
import { agentHandlers, AgentList } from "../agents/http/handlers.js";
import { AttachmentIdParam, attachmentHandlers, FileLocationJson, UploadBody, UploadGrantedJson } from "../attachments/http/handlers.js";
import type { DownloadAttachment } from "../attachments/download.js";
import type { RequestUpload } from "../attachments/request-upload.js";
import {
  notificationHandlers,
  PreferencesJson,
  WebhookBody,
  webhookHandlers,
  WebhookIdParam,
  WebhookJson,
  WebhookList,
} from "../notifications/http/handlers.js";
import type { PreferenceUseCases } from "../notifications/preferences.js";
import type { WebhookUseCases } from "../notifications/webhooks.js";
import { SlaPolicyBody } from "../sla/domain/policy.js";
import { SlaPolicyJson, slaPolicyHandlers } from "../sla/http/handlers.js";
import type { SlaPolicyUseCases } from "../sla/policy-use-cases.js";
import { ticketHandlers } from "../tickets/http/handlers.js";
import {
  AssignBody,
  BroadcastBody,
  BroadcastIdParam,
  BroadcastJson,
  ChildrenQuery,
  CommentBody,
  EscalateBody,
  ListTicketsQuery,
  MoveBody,
  OpenTicketBody,
  ParentBody,
  TicketIdParam,
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

/** Every ticket route's {id}. */
const TICKET = { id: TicketIdParam };

export const ROUTE_SPECS: Spec[] = [
  {
    name: "openTicket",
    route: "tickets",
    methods: ["POST"],
    doc: {
      summary: "Open a ticket",
      description:
        "Any signed-in user opens a ticket for themselves; an agent may open one for someone else (`requester`) and at any priority or severity.",
      tag: "Tickets",
      auth: true,
      body: OpenTicketBody,
      ok: { status: 201, schema: TicketJson, description: "Opened", headers: ["ETag", "Location"], sometimes: ["Idempotent-Replayed"] },
      errors: [403],
      headers: ["Idempotency-Key"],
    },
  },
  {
    name: "listTickets",
    route: "tickets",
    methods: ["GET"],
    doc: {
      summary: "The queue: filter, sort, page",
      description:
        "Agents see every ticket; requesters their own, as they see them (the priority they opened with; no severity, assignee or SLA filter, no sort by due time). Pages never skip or repeat a ticket.",
      tag: "Tickets",
      auth: true,
      query: ListTicketsQuery,
      ok: {
        status: 200,
        schema: TicketPage,
        description: "A page of tickets in the order of `sort` (by default emergency first, then oldest first)",
      },
      errors: [403],
    },
  },
  {
    name: "getTicket",
    route: "tickets/{id}",
    methods: ["GET"],
    doc: {
      summary: "One ticket",
      description: "Its requester and agents only: another requester's ticket is 404, as if it did not exist.",
      tag: "Tickets",
      auth: true,
      params: TICKET,
      ok: { status: 200, schema: TicketJson, description: "The ticket", headers: ["ETag"] },
      headers: ["If-None-Match"],
    },
  },
  {
    name: "triageTicket",
    route: "tickets/{id}",
    methods: ["PATCH"],
    doc: {
      summary: "Triage: priority, severity, category, subject",
      description: "Agents only. Raising a ticket to emergency or SEV-A pages ops; lowering it resolves the escalation.",
      tag: "Tickets",
      auth: true,
      params: TICKET,
      body: TriageBody,
      ok: { status: 200, schema: TicketJson, description: "The ticket as triaged", headers: ["ETag"] },
      errors: [403],
      headers: ["If-Match"],
    },
  },
  {
    name: "assignTicket",
    route: "tickets/{id}/assignee",
    methods: ["PUT"],
    doc: {
      summary: "Assign to an agent",
      description: "Agents only; the agent must have used the help desk (GET /api/agents).",
      tag: "Tickets",
      auth: true,
      params: TICKET,
      body: AssignBody,
      ok: { status: 200, schema: TicketJson, description: "The ticket, assigned", headers: ["ETag"] },
      errors: [403],
      headers: ["If-Match"],
    },
  },
  {
    name: "unassignTicket",
    route: "tickets/{id}/assignee",
    methods: ["DELETE"],
    doc: {
      summary: "Unassign",
      description: "Agents only.",
      tag: "Tickets",
      auth: true,
      params: TICKET,
      ok: { status: 200, schema: TicketJson, description: "The ticket, unassigned", headers: ["ETag"] },
      errors: [403],
      headers: ["If-Match"],
    },
  },
  {
    name: "linkParent",
    route: "tickets/{id}/parent",
    methods: ["PUT"],
    doc: {
      summary: "Link a report to its incident",
      description:
        "Agents only: this ticket becomes a report of the incident `ticketId`. It no longer pages ops on its own (an open escalation of it is resolved); the incident's alerts count it. Its requester sees only a public entry saying it is part of an incident being worked on. 409 if the ticket would be its own parent, if the incident is itself a report, if this ticket has reports of its own, or if the incident is closed; 400 if there is no such ticket.",
      tag: "Incidents",
      auth: true,
      params: TICKET,
      body: ParentBody,
      ok: { status: 200, schema: TicketJson, description: "The ticket, linked", headers: ["ETag"] },
      errors: [403, 409],
      headers: ["If-Match"],
    },
  },
  {
    name: "unlinkParent",
    route: "tickets/{id}/parent",
    methods: ["DELETE"],
    doc: {
      summary: "Unlink a report from its incident",
      description: "Agents only: the ticket is one of its own again, with its own escalation policy (business-impacting, it pages ops).",
      tag: "Incidents",
      auth: true,
      params: TICKET,
      ok: { status: 200, schema: TicketJson, description: "The ticket, unlinked", headers: ["ETag"] },
      errors: [403],
      headers: ["If-Match"],
    },
  },
  {
    name: "ticketChildren",
    route: "tickets/{id}/children",
    methods: ["GET"],
    doc: {
      summary: "An incident's reports",
      description: "Agents only: the tickets linked to this one as their incident, in pages, with the queue's filters and orders.",
      tag: "Incidents",
      auth: true,
      params: TICKET,
      query: ChildrenQuery,
      ok: { status: 200, schema: TicketPage, description: "A page of its reports" },
      errors: [403],
    },
  },
  {
    name: "broadcastToReports",
    route: "tickets/{id}/broadcast",
    methods: ["POST"],
    doc: {
      summary: "Update every reporter of an incident",
      description:
        "Agents only, on an incident (a ticket that is no report): the public reply is posted on the incident and, through a queue, on each report linked to it, once each whatever the retries. 202 with how far it is; Location is where to follow it. 409 on a report or a closed ticket. With an Idempotency-Key, a retry replays it and posts nothing again.",
      tag: "Incidents",
      auth: true,
      params: TICKET,
      body: BroadcastBody,
      ok: {
        status: 202,
        schema: BroadcastJson,
        description: "Started (or, replayed, where it stands): how far it is",
        headers: ["Location", "ETag"],
        sometimes: ["Idempotent-Replayed"],
      },
      errors: [403, 409],
      headers: ["If-Match", "Idempotency-Key"],
    },
  },
  {
    name: "broadcastStatus",
    route: "tickets/{id}/broadcasts/{broadcastId}",
    methods: ["GET"],
    doc: {
      summary: "How far a broadcast is",
      description:
        "Agents only: of a broadcast, or of a cascading move (its Location): how many reports it went to, how many have their change, and which were skipped and why.",
      tag: "Incidents",
      auth: true,
      params: { ...TICKET, broadcastId: BroadcastIdParam },
      ok: { status: 200, schema: BroadcastJson, description: "How far it is" },
      errors: [403],
    },
  },
  {
    name: "commentOnTicket",
    route: "tickets/{id}/comments",
    methods: ["POST"],
    doc: {
      summary: "Public reply or internal note",
      description:
        "The requester writes public replies (one takes an on-hold ticket back to work and reopens a resolved one); agents write both. 409 on a closed ticket: reopen it first.",
      tag: "Timeline",
      auth: true,
      params: TICKET,
      body: CommentBody,
      ok: {
        status: 201,
        schema: TimelineEntryJson,
        description: "The comment's timeline entry; the ETag is the ticket's",
        headers: ["ETag", "Location"],
        sometimes: ["Idempotent-Replayed"],
      },
      errors: [403, 409],
      headers: ["If-Match", "Idempotency-Key"],
    },
  },
  {
    name: "requestOpeningUpload",
    route: "attachments",
    methods: ["POST"],
    doc: {
      summary: "Upload a file for a new ticket",
      description:
        "Any signed-in user, before opening a ticket: a URL that creates exactly this one blob in Blob Storage, for 10 minutes. Send the bytes there, then name the upload's id in the opening's `attachments`; until then it is the caller's alone, and unused it is deleted after a day. 400 if it is larger than maxBytes.",
      tag: "Attachments",
      auth: true,
      body: UploadBody,
      ok: { status: 201, schema: UploadGrantedJson, description: "Where to upload, and until when" },
    },
  },
  {
    name: "requestUpload",
    route: "tickets/{id}/attachments",
    methods: ["POST"],
    doc: {
      summary: "Upload a file",
      description:
        "The ticket's requester or an agent: a URL that creates exactly this one blob in Blob Storage, for 10 minutes. Send the bytes there, never to the API; then name the upload's id on a comment to attach it. 400 if it is larger than maxBytes; 409 on a closed ticket.",
      tag: "Attachments",
      auth: true,
      params: TICKET,
      body: UploadBody,
      ok: { status: 201, schema: UploadGrantedJson, description: "Where to upload, and until when" },
      errors: [409],
    },
  },
  {
    name: "downloadAttachment",
    route: "tickets/{id}/attachments/{attachmentId}",
    methods: ["GET"],
    doc: {
      summary: "Download a file",
      description:
        "Whoever may see the entry that attached it (a requester never sees an internal note's): 302 to a URL that reads the file for 5 minutes, answered as a download (`Content-Disposition: attachment`) with the type checked from its bytes; with `Accept: application/json`, 200 with that URL. Where uploads are scanned for malware, 409 with Retry-After while the scan runs, and 410 once it found the file malicious or could not scan it. 404 for a file the caller may not see, exactly as for one that is not there.",
      tag: "Attachments",
      auth: true,
      params: { ...TICKET, attachmentId: AttachmentIdParam },
      ok: {
        status: 200,
        schema: FileLocationJson,
        description: "With Accept: application/json: where the file is, a read-only URL for 5 minutes",
        headers: ["Cache-Control"],
      },
      also: [
        { status: 302, description: "The file is at Location: a read-only URL for 5 minutes", headers: ["Location", "Cache-Control"] },
      ],
      errors: [409, 410],
      headers: ["Accept"],
    },
  },
  {
    name: "moveTicket",
    route: "tickets/{id}/status",
    methods: ["POST"],
    doc: {
      summary: "Move through the lifecycle",
      description:
        "Agents make every move of the lifecycle; the requester only closes and reopens. A move nobody may make is 409; one only agents may make is 403 for a requester. With `cascade: true` on an incident (agents only), each report linked to it makes the same move, with the incident's resolution, through a queue (a report whose status does not allow it is skipped); 409 on a report.",
      tag: "Tickets",
      auth: true,
      params: TICKET,
      body: MoveBody,
      ok: {
        status: 200,
        schema: TicketJson,
        description: "The ticket in its new status; with cascade, Location is where to follow the same move on its reports",
        headers: ["ETag"],
        sometimes: ["Location"],
      },
      errors: [403, 409],
      headers: ["If-Match"],
    },
  },
  {
    name: "escalateTicket",
    route: "tickets/{id}/escalation",
    methods: ["POST"],
    doc: {
      summary: "Page ops by hand (agents), with a reason",
      description: "Agents only. 409 while an escalation is triggered or acknowledged, or once the ticket is resolved or closed.",
      tag: "Escalation",
      auth: true,
      params: TICKET,
      body: EscalateBody,
      ok: { status: 200, schema: TicketJson, description: "The ticket, its escalation triggered", headers: ["ETag"] },
      errors: [403, 409],
      headers: ["If-Match"],
    },
  },
  {
    name: "acknowledgeEscalation",
    route: "tickets/{id}/escalation/acknowledge",
    methods: ["POST"],
    doc: {
      summary: "Acknowledge the escalation: re-pages stop",
      description: "Agents only. 409 when no escalation is waiting for acknowledgement.",
      tag: "Escalation",
      auth: true,
      params: TICKET,
      ok: { status: 200, schema: TicketJson, description: "The ticket, its escalation acknowledged", headers: ["ETag"] },
      errors: [403, 409],
      headers: ["If-Match"],
    },
  },
  {
    name: "ticketTimeline",
    route: "tickets/{id}/timeline",
    methods: ["GET"],
    doc: {
      summary: "History, oldest first",
      description: "Agents see every entry; the requester the public ones (opened, public replies, status changes).",
      tag: "Timeline",
      auth: true,
      params: TICKET,
      query: TimelineQuery,
      ok: { status: 200, schema: TimelinePage, description: "A page of entries (requesters: public ones only)", headers: ["ETag"] },
      headers: ["If-None-Match"],
    },
  },
  {
    name: "listAgents",
    route: "agents",
    methods: ["GET"],
    doc: {
      summary: "Agents known to the help desk",
      description: "Agents only. An agent is known from their first call to the API.",
      tag: "Agents",
      auth: true,
      ok: { status: 200, schema: AgentList, description: "Agents" },
      errors: [403],
    },
  },
  {
    name: "getNotificationPreferences",
    route: "me/notifications",
    methods: ["GET"],
    doc: {
      summary: "Your notification preferences",
      description: "Anyone signed in, of their own: whether they get emails about their tickets (on unless they turned it off).",
      tag: "Notifications",
      auth: true,
      ok: { status: 200, schema: PreferencesJson, description: "Your preferences" },
    },
  },
  {
    name: "putNotificationPreferences",
    route: "me/notifications",
    methods: ["PUT"],
    doc: {
      summary: "Set your notification preferences",
      description: 'Anyone signed in, of their own: `{ "email": false }` turns off the emails about their tickets.',
      tag: "Notifications",
      auth: true,
      body: PreferencesJson,
      ok: { status: 200, schema: PreferencesJson, description: "Your preferences, as kept" },
    },
  },
  {
    name: "createWebhook",
    route: "webhooks",
    methods: ["POST"],
    doc: {
      summary: "Subscribe an app's backend to the ticket events",
      description:
        'Admins only. Each event is POSTed as JSON, thin and public (`{ version, delivery, id, event, ticket: { id, number }, at }`: fetch the rest with the API), signed as the alerts are: `X-Helpdesk-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Helpdesk-Timestamp>.<body>")>`, with `X-Helpdesk-Event` and `X-Helpdesk-Delivery` (the same on every retry: drop repeats). An event never says anything internal. Retried with backoff; a subscription whose events keep failing is paused. The url is https (http only off Azure). 409 past 50 subscriptions.',
      tag: "Notifications",
      auth: true,
      body: WebhookBody,
      ok: { status: 201, schema: WebhookJson, description: "Subscribed; the secret is not shown again" },
      errors: [403, 409],
    },
  },
  {
    name: "listWebhooks",
    route: "webhooks",
    methods: ["GET"],
    doc: {
      summary: "The apps' subscriptions to the ticket events",
      description: "Admins only: each subscription, whether it is active or paused (and why), never its secret.",
      tag: "Notifications",
      auth: true,
      ok: { status: 200, schema: WebhookList, description: "Every subscription, oldest first" },
      errors: [403],
    },
  },
  {
    name: "deleteWebhook",
    route: "webhooks/{id}",
    methods: ["DELETE"],
    doc: {
      summary: "Unsubscribe",
      description: "Admins only: no more events are sent to it, retries included.",
      tag: "Notifications",
      auth: true,
      params: { id: WebhookIdParam },
      ok: { status: 200, schema: WebhookJson, description: "Deleted: the subscription as it was" },
      errors: [403],
    },
  },
  {
    name: "getSlaPolicy",
    route: "sla/policy",
    methods: ["GET"],
    doc: {
      summary: "The SLA policy",
      description: "Agents only. Version 0 is the defaults, in force until an admin replaces them.",
      tag: "SLA",
      auth: true,
      ok: { status: 200, schema: SlaPolicyJson, description: "The policy in force", headers: ["ETag"] },
      errors: [403],
    },
  },
  {
    name: "replaceSlaPolicy",
    route: "sla/policy",
    methods: ["PUT"],
    doc: {
      summary: "Replace the SLA policy",
      description:
        "Admins only, the whole policy at once: the next version. Send the ETag you read in If-Match: 412 once another replacement came first. Open tickets follow it from their next change.",
      tag: "SLA",
      auth: true,
      body: SlaPolicyBody,
      ok: { status: 200, schema: SlaPolicyJson, description: "The new version", headers: ["ETag"] },
      errors: [403],
      headers: ["If-Match"],
    },
  },
  {
    name: "openApi",
    route: "openapi.json",
    methods: ["GET"],
    doc: {
      summary: "This document",
      description: "OpenAPI 3.1, generated from the zod schemas that validate requests; `servers` is the origin the request came to.",
      tag: "Service",
      auth: false,
      ok: { status: 200, schema: OpenApiJson, description: "OpenAPI 3.1" },
    },
  },
  {
    name: "docsPage",
    route: "docs",
    methods: ["GET"],
    doc: {
      summary: "This reference, interactive (Swagger UI): paste a bearer token, try the calls",
      description:
        "Anyone. The page, Swagger UI's files and this document all come from this origin; the page fetches nothing from anywhere else.",
      tag: "Service",
      auth: false,
      ok: { status: 200, schema: z.string(), contentType: "text/html", description: "The page" },
    },
  },
  // The page's script and style: Swagger UI's files and its configuration (not part of the API).
  {
    name: "docsAsset",
    route: "docs/{file}",
    methods: ["GET"],
    doc: {
      summary: "A file of the docs page",
      description: "Swagger UI's script and style, and the page's configuration.",
      tag: "Service",
      auth: false,
      hidden: true,
      ok: { status: 200, description: "The file" },
    },
  },
  // Every route's preflight: browsers send OPTIONS before a cross-origin write.
  {
    name: "corsPreflight",
    route: "{*path}",
    methods: ["OPTIONS"],
    doc: {
      summary: "CORS preflight",
      description: "Allowed methods and headers for an allowed origin.",
      tag: "Service",
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
      description: "Anyone; one probe of the store answers for 5 seconds.",
      tag: "Service",
      auth: false,
      ok: { status: 200, schema: Health, description: "Up, and the store answers" },
      also: [{ status: 503, schema: Health, description: "Degraded: the store does not answer", headers: ["Retry-After"] }],
    },
  },
];

/** What the handlers need: each feature's use cases (built on first use), and the store's health. */
export interface RouteDeps {
  http: HttpContext;
  tickets: () => Promise<TicketUseCases>;
  directory: () => Promise<AgentDirectory>;
  slaPolicies: () => Promise<SlaPolicyUseCases>;
  upload: () => Promise<RequestUpload>;
  download: () => Promise<DownloadAttachment>;
  preferences: () => Promise<PreferenceUseCases>;
  webhooks: () => Promise<WebhookUseCases>;
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
    ...slaPolicyHandlers(http, deps.slaPolicies),
    ...attachmentHandlers(http, deps.upload, deps.download),
    ...notificationHandlers(http, deps.preferences),
    ...webhookHandlers(http, deps.webhooks),
    // Built once, on the first request for it (it depends only on the route table); each
    // answer names the server the request came to (serverUrlOf says why not a setting).
    openApi: endpoint(http, { auth: false }, async (call) => {
      const server = serverUrlOf(call.url, call.request.headers.get("x-forwarded-proto"), "openapi.json");
      return { status: 200, body: servedAt((document ??= openApiDocument(ROUTE_SPECS, server)), server) };
    }),
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
