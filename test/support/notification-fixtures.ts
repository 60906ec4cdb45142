import type { Subscription } from "../../shared/notifications/domain/webhook.js";
import type { OutgoingEmail } from "../../shared/notifications/ports.js";

/** One email as the notifications handler hands it to a sender, with what a test changes. */
export const outgoingEmail = (over: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  to: { name: "Karen Requester", email: "karen@example.com" },
  subject: "[#42] Printer on fire: resolved",
  text: "Jane Agent wrote:\n\nReplaced the fuser.\n\nhttp://localhost:7071/tickets/42",
  key: "t-42:e-7:karen",
  ...over,
});

/** An active subscription to ticket.opened, as POST /api/webhooks stores it. */
export const subscription = (over: Partial<Subscription> = {}): Subscription => ({
  id: "wh_000000000000000000000001",
  url: "https://push.example.com/hook",
  events: ["ticket.opened"],
  secret: "s".repeat(16),
  createdAt: "2026-12-01T10:00:00.000Z",
  createdBy: "ada",
  status: "active",
  failures: 0,
  pausedAt: null,
  lastError: null,
  ...over,
});
