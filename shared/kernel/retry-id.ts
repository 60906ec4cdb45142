/**
 * A queue message's retry, as the handlers that retry with backoff name it (the escalation
 * notifier, the notifications): the first message's id with the attempt, so that the queue's
 * duplicate detection drops a retry published twice, and the first id is read back from any.
 */
export const retryIdOf = (firstId: string, attempt: number): string => `${firstId}.retry-${attempt}`;

/** The first message's id, from it or from any of its retries. */
export const firstIdOf = (messageId: string): string => messageId.replace(/\.retry-\d+$/, "");
