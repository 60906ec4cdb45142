/**
 * The layering of shared/ and functions/ (README, Architecture), checked by
 * dependency-cruiser in `npm test`. Dependencies point one way:
 *
 *   domain  ←  use cases  ←  adapters and HTTP  ←  composition (shared/app)  ←  functions/, shared/local/
 *
 * Features: tickets, agents, escalation, sla, attachments, incidents, notifications, outbox. A feature may use another feature's
 * domain and ports, never its use cases, adapters or handlers; and the features form
 * a chain (escalation → tickets → outbox, sla → tickets, attachments → tickets, incidents → tickets,
 * notifications → tickets, agents alone), so no two import
 * each other. The tickets' domain is made partly of the SLA's (its clocks), as a domain may.
 * shared/kernel holds what every layer shares (the Failure type, the caller, the clock).
 */
const FEATURES = "(tickets|agents|escalation|sla|attachments|incidents|notifications|outbox)";

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "No module imports itself, however indirectly.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "kernel-is-a-leaf",
      comment: "shared/kernel is what everything shares: it imports nothing of the project's.",
      severity: "error",
      from: { path: "^shared/kernel/" },
      to: { path: "^(shared|functions)/", pathNot: "^shared/kernel/" },
    },
    {
      name: "domain-is-pure",
      comment:
        "A domain imports only domains, the kernel, zod, luxon (time zones and calendars) and file-type (a file's type from its first bytes): pure computation, as zod is; no SDK, no I/O, no node: module.",
      severity: "error",
      from: { path: "^shared/[^/]+/domain/" },
      to: {
        pathNot: ["^shared/[^/]+/domain/", "^shared/kernel/", "^node_modules/zod/", "^node_modules/luxon/", "^node_modules/file-type/"],
      },
    },
    {
      name: "use-cases-use-ports",
      comment: "A feature's use cases reach the world through its ports: never an adapter, the composition root or the local host.",
      severity: "error",
      from: { path: `^shared/${FEATURES}/`, pathNot: `^shared/${FEATURES}/http/` },
      to: { path: "^shared/(adapters|app|local)/" },
    },
    {
      name: "use-cases-know-no-handler",
      comment: "HTTP handlers call the use cases; never the other way round.",
      severity: "error",
      from: { path: `^shared/${FEATURES}/`, pathNot: `^shared/${FEATURES}/http/` },
      to: { path: `^shared/${FEATURES}/http/` },
    },
    {
      name: "functions-register-only",
      comment:
        "functions/ registers what the composition root builds: it imports the root, the settings and the resource names, nothing else of shared/.",
      severity: "error",
      from: { path: "^functions/" },
      to: {
        path: "^shared/",
        pathNot: [
          "^shared/app/(composition|config)\\.ts$",
          "^shared/adapters/[^/]+/names\\.ts$",
          "^shared/local/(stand-ins|local-config)\\.ts$",
        ],
      },
    },
    {
      name: "handlers-use-http-plumbing-only",
      comment: "A feature's HTTP handlers use the HTTP adapter (endpoint, problem+json), nothing else of adapters/.",
      severity: "error",
      from: { path: `^shared/${FEATURES}/http/` },
      to: { path: "^shared/(adapters/(?!http/)|app/|local/)" },
    },
    {
      name: "features-use-each-others-domain-and-ports-only",
      comment: "Across features: domain/ and ports.ts only (DESIGN.md section 4).",
      severity: "error",
      from: { path: `^shared/${FEATURES}/` },
      to: {
        path: `^shared/${FEATURES}/`,
        pathNot: ["^shared/$1/", `^shared/${FEATURES}/(domain/|ports\\.ts$)`],
      },
    },
    {
      name: "outbox-and-agents-stand-alone",
      comment: "The outbox and the agent directory serve the other features and import none of them.",
      severity: "error",
      from: { path: "^shared/(outbox|agents)/" },
      to: { path: "^shared/(tickets|escalation|sla|attachments|incidents|notifications)/" },
    },
    {
      name: "tickets-know-no-other-feature-but-the-outbox",
      comment:
        "Escalation, attachments and incidents react to tickets (their events, their ports); tickets never know them, nor the directory behind their AgentLookup port, nor the SLA's use cases (only its domain: the clocks a ticket keeps).",
      severity: "error",
      from: { path: "^shared/tickets/" },
      to: { path: ["^shared/(escalation|agents|attachments|incidents|notifications)/", "^shared/sla/(?!domain/)"] },
    },
    {
      name: "adapters-below-the-composition",
      comment: "Adapters implement ports: they never reach up to the composition root, the local host, handlers or use cases.",
      severity: "error",
      from: { path: "^shared/adapters/" },
      to: { path: ["^shared/(app|local)/", `^shared/${FEATURES}/(?!domain/|ports\\.ts$)`] },
    },
    {
      name: "composition-knows-no-local-stand-in",
      comment: "shared/app serves Azure: the local host's stand-ins are handed to it, never imported.",
      severity: "error",
      from: { path: "^shared/app/" },
      to: { path: "^shared/local/" },
    },
    {
      name: "dev-issuer-only-in-the-local-host",
      comment:
        "The development issuer is turned on by the local host alone (and used by `npm run token` and the demo): never by the Functions entry point or the stand-ins it may load.",
      severity: "error",
      from: { path: "^(shared|functions)/", pathNot: "^shared/local/(host|token|demo|dev-issuer)\\.ts$" },
      to: { path: "^shared/local/dev-issuer\\.ts$" },
    },
    {
      name: "nothing-imports-the-entry-points",
      severity: "error",
      from: { path: "^shared/" },
      to: { path: "^(functions|test|bench|infra)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".js", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
