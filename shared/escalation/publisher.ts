/** A message to the `escalations` queue (DESIGN.md section 6). */
export interface QueueMessage {
  /** The outbox entry id (or a re-page's id): the queue's duplicate detection keys on it. */
  messageId: string;
  /** The event type, e.g. "escalation.triggered". */
  subject: string;
  /** Versioned JSON body: { version: 1, ... }. */
  body: Record<string, unknown>;
  /** The id of the request that caused it. */
  correlationId?: string;
  /** Deliver no earlier than this (a scheduled message: re-pages). */
  scheduledAt?: Date;
}

export interface Publisher {
  /** Sends (or schedules) the messages; resolves once the queue has accepted them all. Throws otherwise. */
  publish(messages: QueueMessage[]): Promise<void>;
  close(): Promise<void>;
}
