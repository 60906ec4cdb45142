import {
  allows,
  declaredBy,
  identityOf,
  parentOf,
  permissionsOf,
  ROLE_ASSIGNMENT_TYPE,
  sameIdentity,
  type Deployed,
  type IdentityRef,
  type Deployment,
  type RolePermissions,
  type Setting,
} from "./deployed.js";
import { evaluateString, resolveBinding } from "./evaluate.js";
import { callArguments, calleeName, propertyPath, propertyValue, sameType, stringPrefix, unwrap } from "./model.js";

/**
 * The requester emails (issue "Tell the requester"): the code sends through the Communication
 * Services resource EMAIL_ENDPOINT names, from EMAIL_SENDER, signed in as the identity in
 * AZURE_CLIENT_ID. So EMAIL_ENDPOINT is the https endpoint of a Communication Services resource
 * the deployment creates; EMAIL_SENDER is an address on an email domain the deployment creates;
 * that domain is linked to that resource (Communication Services refuses to send from any other),
 * within the same data location (Azure links nothing across them); and the app's identity holds a
 * role on the resource allowing every action sending takes, and none that lets it read or
 * regenerate its keys or delete it. Local auth off is security.ts's.
 */

export interface EmailRequirement {
  /** The setting the code reads the Communication Services endpoint from. */
  endpointSetting: string;
  /** The setting holding the address the emails come from. */
  senderSetting: string;
  /** The setting holding the client id of the identity the code sends as. */
  clientIdSetting: string;
}

const COMMUNICATION_SERVICE = "Microsoft.Communication/communicationServices";
const EMAIL_SERVICE = "Microsoft.Communication/emailServices";
const EMAIL_DOMAIN = "Microsoft.Communication/emailServices/domains";

/**
 * What sending an email with an Entra ID token takes, on the Communication Services resource
 * (Microsoft's custom role for sending email: there is no email data action).
 */
export const EMAIL_SEND_ACTIONS: readonly string[] = [
  "Microsoft.Communication/CommunicationServices/Read",
  "Microsoft.Communication/CommunicationServices/Write",
  "Microsoft.Communication/EmailServices/write",
];

/** What the app never does with the resource: a role of its allowing one is more than sending needs. */
export const EMAIL_EXCESS_ACTIONS: readonly { action: string; what: string }[] = [
  { action: "Microsoft.Communication/CommunicationServices/ListKeys/action", what: "read its access keys" },
  { action: "Microsoft.Communication/CommunicationServices/RegenerateKey/action", what: "regenerate its access keys" },
  { action: "Microsoft.Communication/CommunicationServices/delete", what: "delete it" },
];

/**
 * Built-in roles that allow sending, by role definition id, with the part of their actions that
 * matters here (Owner and Contributor: everything; Contributor's notActions are all
 * Microsoft.Authorization ones).
 */
export const COMMUNICATION_ROLES: Readonly<Record<string, RolePermissions>> = {
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": { name: "Owner", actions: ["*"], dataActions: [] },
  "b24988ac-6180-42a0-ab88-20f7382dd24c": { name: "Contributor", actions: ["*"], dataActions: [] },
  "09976791-48a7-449e-bb21-39d1a415f350": {
    name: "Communication and Email Service Owner",
    actions: [
      "Microsoft.Communication/CommunicationServices/read",
      "Microsoft.Communication/CommunicationServices/write",
      "Microsoft.Communication/CommunicationServices/delete",
      "Microsoft.Communication/CommunicationServices/ListKeys/action",
      "Microsoft.Communication/CommunicationServices/RegenerateKey/action",
      "Microsoft.Communication/EmailServices/read",
      "Microsoft.Communication/EmailServices/write",
      "Microsoft.Communication/EmailServices/delete",
      "Microsoft.Communication/EmailServices/Domains/*",
    ],
    dataActions: [],
  },
};

export function checkEmail(deployment: Deployment, wanted: EmailRequirement): void {
  // A setting's absence is a missing setting, reported as such.
  const endpoint = deployment.always(wanted.endpointSetting);
  const service = endpoint ? checkEndpoint(deployment, wanted, endpoint) : undefined;
  const domains = service ? checkLinkedDomains(deployment, service) : [];
  const sender = deployment.always(wanted.senderSetting);
  if (sender) checkSender(deployment, wanted, sender, service, domains);
  if (service) checkSendRole(deployment, wanted, service);
}

/** The label problems name a resource by. */
function labelOf(resource: Deployed): string {
  return `'${resource.name ?? resource.resource.symbol}'`;
}

/** The Communication Services resource EMAIL_ENDPOINT is the https endpoint of. */
function checkEndpoint(deployment: Deployment, wanted: EmailRequirement, setting: Setting): Deployed | undefined {
  const found = setting.value ? deployment.behind(setting.value, setting.context, COMMUNICATION_SERVICE) : [];
  const service = found[0];
  if (!service || found.length > 1) {
    deployment.report(
      "email-endpoint",
      deployment.settingAt(setting),
      found.length > 1
        ? `${wanted.endpointSetting} is computed from several Communication Services resources (${deployment.namesOf(found)}); it must be one's endpoint`
        : `${wanted.endpointSetting} does not lead to a Communication Services resource this deployment creates, so nothing says a domain is linked to it or the app may send through it; set it to 'https://\${<resource>.properties.hostName}'`,
    );
    return undefined;
  }
  const value = setting.value ? resolveBinding(setting.value, setting.context).node : undefined;
  const prefix = value ? stringPrefix(value) : undefined;
  if (!prefix?.startsWith("https://")) {
    deployment.report(
      "email-endpoint",
      deployment.settingAt(setting),
      `${wanted.endpointSetting} must be the https endpoint of ${labelOf(service)}, 'https://\${<resource>.properties.hostName}': the code takes a URL, and sends only over HTTPS with a token`,
    );
  }
  return service;
}

/** The email domains of this deployment the Communication Services resource links; none is a resource that sends nothing. */
function checkLinkedDomains(deployment: Deployment, service: Deployed): Deployed[] {
  const linked = propertyPath(service.resource.body, "properties", "linkedDomains");
  const domains = linked ? deployment.behind(linked, service.instance, EMAIL_DOMAIN) : [];
  if (domains.length === 0) {
    deployment.report(
      "email-domain",
      deployment.at(service, linked),
      `the Communication Services resource ${labelOf(service)} links no email domain this deployment creates (properties.linkedDomains): it can send no email; link the email service's domain (linkedDomains: [domain.id])`,
    );
  }
  for (const domain of domains) checkDataLocation(deployment, service, domain);
  return domains;
}

/** A domain is linked only within its email service's data location: the two must be the same. */
function checkDataLocation(deployment: Deployment, service: Deployed, domain: Deployed): void {
  const parent = parentOf(domain);
  const emailService = parent ? deployment.deployedAs(parent) : undefined;
  if (!emailService || !sameType(emailService.resource.type, EMAIL_SERVICE)) return;
  const ours = propertyPath(service.resource.body, "properties", "dataLocation");
  const theirs = propertyPath(emailService.resource.body, "properties", "dataLocation");
  // A missing dataLocation is the schema's to report (it is required).
  if (!ours || !theirs) return;
  const a = resolveBinding(ours, service.instance);
  const b = resolveBinding(theirs, emailService.instance);
  if (a.node.id === b.node.id && a.instance === b.instance) return;
  const left = evaluateString(ours, service.instance);
  const right = evaluateString(theirs, emailService.instance);
  if (left !== undefined && left === right) return;
  const describe = (value: string | undefined) => (value === undefined ? "a value not known before deployment" : `'${value}'`);
  deployment.report(
    "email-data-location",
    deployment.at(service, ours),
    `the Communication Services resource ${labelOf(service)} keeps its data in ${describe(left)} and the email service ${labelOf(emailService)} in ${describe(right)}: a domain links only within its data location; give both the same one`,
  );
}

/** EMAIL_SENDER is `<username>@` a domain of this deployment, linked to the resource the app sends through. */
function checkSender(
  deployment: Deployment,
  wanted: EmailRequirement,
  setting: Setting,
  service: Deployed | undefined,
  linked: Deployed[],
): void {
  const found = setting.value ? deployment.behind(setting.value, setting.context, EMAIL_DOMAIN) : [];
  const domain = found[0];
  if (!domain || found.length > 1) {
    deployment.report(
      "email-sender",
      deployment.settingAt(setting),
      found.length > 1
        ? `${wanted.senderSetting} is computed from several email domains (${deployment.namesOf(found)}); it must be an address on one`
        : `${wanted.senderSetting} does not lead to an email domain this deployment creates, so nothing says the app may send from it; set it to 'DoNotReply@\${<domain>.properties.mailFromSenderDomain}'`,
    );
    return;
  }
  if (service && !linked.some((d) => d.resource === domain.resource && d.instance === domain.instance)) {
    deployment.report(
      "email-sender",
      deployment.settingAt(setting),
      `${wanted.senderSetting} is an address on the domain ${labelOf(domain)}, which the Communication Services resource ${labelOf(service)} does not link: every email from it is refused`,
    );
  }
  const value = setting.value ? resolveBinding(setting.value, setting.context).node : undefined;
  const prefix = value ? stringPrefix(value) : undefined;
  if (!prefix || !/^[^@\s]+@$/.test(prefix)) {
    deployment.report(
      "email-sender",
      deployment.settingAt(setting),
      `${wanted.senderSetting} must be an address, '<username>@\${<domain>.properties.mailFromSenderDomain}' (an Azure-managed domain comes with DoNotReply)`,
    );
  }
}

/** Where an assignment is made relative to the resource: on it, on its resource group (no scope, `resourceGroup()`), or elsewhere. */
function scopeOf(deployment: Deployment, assignment: Deployed, resource: Deployed): "resource" | "resource group" | "elsewhere" {
  const scope = propertyValue(assignment.resource.body, "scope");
  if (!scope) return "resource group";
  const expr = unwrap(scope);
  if (expr.type === "call_expression" && calleeName(expr) === "resourceGroup" && callArguments(expr).length === 0) return "resource group";
  const target = declaredBy(expr, assignment.instance);
  return target !== undefined && deployment.deployedAs(target)?.resource === resource.resource ? "resource" : "elsewhere";
}

/** Whether the assignment is for `identity` (any principal, when the app's identity cannot be followed). */
function isFor(assignment: Deployed, identity: IdentityRef | undefined): boolean {
  if (!identity) return true;
  const principal = propertyPath(assignment.resource.body, "properties", "principalId");
  const other = principal ? identityOf(principal, assignment.instance, "principalId") : undefined;
  return other !== undefined && sameIdentity(other, identity);
}

/** The app's identity may take every action sending takes on the resource, and none of EMAIL_EXCESS_ACTIONS. */
function checkSendRole(deployment: Deployment, wanted: EmailRequirement, service: Deployed): void {
  const clientId = deployment.always(wanted.clientIdSetting);
  const identity = clientId?.value ? identityOf(clientId.value, clientId.context, "clientId") : undefined;
  const covering = deployment
    .ofType(ROLE_ASSIGNMENT_TYPE)
    .filter((a) => !a.resource.conditional)
    .map((assignment) => ({
      assignment,
      scope: scopeOf(deployment, assignment, service),
      permissions: permissionsOf(assignment, COMMUNICATION_ROLES),
    }))
    .filter((c) => c.scope !== "elsewhere");
  const grants = (permissions: RolePermissions[], action: string) => permissions.some((p) => allows(p.actions, action));
  const ours = covering.filter((c) => isFor(c.assignment, identity));
  const missing = EMAIL_SEND_ACTIONS.filter((action) => !ours.some((c) => grants(c.permissions, action)));
  if (missing.length > 0) {
    const others = covering.filter((c) => !ours.includes(c) && missing.some((action) => grants(c.permissions, action)));
    deployment.report(
      "email-role",
      deployment.at(service),
      `the app cannot send email through ${labelOf(service)}: no role assignment made unconditionally to the identity in ${wanted.clientIdSetting} grants ${missing.join(", ")} on it or the resource group` +
        (others.length > 0
          ? ` (${others.map((c) => c.assignment.resource.symbol).join(", ")} ${others.length === 1 ? "grants" : "grant"} it to another principal)`
          : ""),
    );
  }
  // Only what is assigned on the resource itself: a role on the whole resource group is not this module's doing.
  for (const { assignment, permissions } of ours.filter((c) => c.scope === "resource")) {
    const excess = EMAIL_EXCESS_ACTIONS.filter((e) => grants(permissions, e.action));
    if (excess.length === 0) continue;
    deployment.report(
      "email-role",
      deployment.at(assignment),
      `${assignment.resource.symbol}: ${[...new Set(permissions.map((p) => p.name))].join(", ")} also lets the app ${excess.map((e) => e.what).join(", ")} (${labelOf(service)}); sending needs only ${EMAIL_SEND_ACTIONS.join(", ")}: a custom role with them`,
    );
  }
}
