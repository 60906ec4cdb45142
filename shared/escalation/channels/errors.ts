/**
 * Why a delivery failed, in a form the notifier can act on. Every failure throws
 * (the Channel contract: the queue then redelivers); `permanent` says a retry of the
 * same request cannot succeed (the receiver rejected what we sent, or the address is
 * wrong), so the notifier gives that channel up at once instead of burning the
 * queue's delivery count.
 */
export class DeliveryError extends Error {
  override name = "DeliveryError";

  constructor(
    /** The channel's name, so a message read out of context still says where it failed. */
    readonly channel: string,
    message: string,
    /** The HTTP status, or undefined when there was no answer (network error, timeout). */
    readonly status?: number,
    readonly permanent = status !== undefined && isPermanentStatus(status),
  ) {
    super(message);
  }
}

/**
 * 4xx means "this request is wrong" and will be wrong again, except 408 (the
 * receiver timed out), 425 (too early) and 429 (rate limited), which a later
 * retry may get through. 3xx counts as permanent too: a webhook that moved
 * needs its setting changed, and following it would send a signed body (or a
 * secret in the URL) somewhere nobody configured.
 */
export function isPermanentStatus(status: number): boolean {
  if (status >= 300 && status < 400) return true;
  return status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}
