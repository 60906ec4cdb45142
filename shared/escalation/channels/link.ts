/**
 * The ticket's address in alerts, from TICKET_URL_TEMPLATE: `{id}` and
 * `{number}` are replaced (every occurrence) by the ticket's id and number,
 * URL-encoded so an id can never change the link's path or query.
 */
export function ticketLink(template: string, ticket: { id: string; number: string }): string {
  return template.replaceAll("{id}", encodeURIComponent(ticket.id)).replaceAll("{number}", encodeURIComponent(ticket.number));
}
