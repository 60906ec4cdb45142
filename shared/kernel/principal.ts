/** The signed-in caller, as the identity adapter resolved it from the token (DESIGN.md section 3). */
export const ROLES = ["requester", "agent", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  id: string;
  name: string;
  email: string | null;
  role: Role;
}

/** Admin includes agent. */
export const isAgent = (p: { role: string }): boolean => p.role === "agent" || p.role === "admin";
