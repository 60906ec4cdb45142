import type { JWTPayload } from "jose";
import type { Principal, Role } from "../../kernel/principal.js";

/** App roles as defined on the Entra ID app registration. */
export const AGENT_ROLE = "Tickets.Agent";
export const ADMIN_ROLE = "Tickets.Admin";

function rolesOf(claims: JWTPayload): string[] {
  return Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === "string") : [];
}

/** Whether the token carries one of the API's app roles (an app-only token must). */
export function hasApiRole(claims: JWTPayload): boolean {
  const roles = rolesOf(claims);
  return roles.includes(AGENT_ROLE) || roles.includes(ADMIN_ROLE);
}

/** DESIGN.md section 3: id = oid, else sub; roles from `roles`; no role = requester. */
export function principalFromClaims(claims: JWTPayload): Principal | null {
  const id = str(claims.oid) ?? str(claims.sub);
  if (!id) return null;
  const roles = rolesOf(claims);
  const role: Role = roles.includes(ADMIN_ROLE) ? "admin" : roles.includes(AGENT_ROLE) ? "agent" : "requester";
  const email = str(claims.email) ?? str(claims.preferred_username) ?? null;
  return { id, name: str(claims.name) ?? email ?? id, email, role };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
}
