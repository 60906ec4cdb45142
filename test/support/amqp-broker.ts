import { randomUUID } from "node:crypto";
import type { Server, Socket } from "node:net";
import rhea, { type Connection, type Delivery, type EventContext, type Message, type Receiver, type Sender } from "rhea";
import { systemScheduler, type Scheduler } from "../../shared/kernel/scheduler.js";

/**
 * A minimal AMQP 1.0 stand-in for a Service Bus namespace with one queue, enough
 * for the real @azure/service-bus SDK to send, schedule and receive: it answers the
 * claims (`$cbs`) and `<queue>/$management` request/response nodes, stores what is
 * sent to the queue, and drops duplicates by message id like a queue with duplicate
 * detection on.
 *
 * Receivers get the queue in peek-lock mode, as Service Bus serves it: each message
 * goes out under a lock (the delivery tag is the lock token) within the link's
 * credit; a disposition settles it (accepted: complete; modified or released:
 * abandon; rejected: dead-letter), and so does `com.microsoft:update-disposition`
 * on `$management`, which the SDK uses once the receive link is gone. An abandoned
 * message, or one whose lock expires, is delivered again with its delivery count
 * one higher, until maxDeliveryCount sends it to the dead-letter list. Scheduled
 * messages become receivable at their time. Sessions, deferral, peeking and
 * receive-and-delete are not served.
 *
 * The SDK talks plain TCP only when the connection string says
 * `UseDevelopmentEmulator=true` (otherwise TLS on the given port), so
 * `connectionString` carries that flag.
 */

export interface BrokeredMessage {
  messageId: unknown;
  subject?: string;
  /** The decoded body: JSON data sections are parsed, other bodies are kept as sent. */
  body: unknown;
  contentType?: string;
  correlationId?: unknown;
  applicationProperties: Record<string, unknown>;
  messageAnnotations: Record<string, unknown>;
  sequenceNumber: number;
  /**
   * Times a receiver has been handed the message (Service Bus' DeliveryCount, 0 until
   * the first receive). The broker updates it in place.
   */
  deliveryCount: number;
}

export interface DeadLetteredMessage extends BrokeredMessage {
  /** `MaxDeliveryCountExceeded`, or the reason a receiver gave. */
  deadLetterReason: string;
}

/** What became of one delivery, in the order the broker saw it. */
export interface Settlement {
  messageId: unknown;
  outcome: "complete" | "abandon" | "dead-letter" | "lock-lost" | "lock-expired";
  /** A disposition on the receive link, `$management` update-disposition, or the lock's own timer. */
  via: "link" | "management" | "timer";
  /** The message's delivery count when it was settled. */
  deliveryCount: number;
}

export interface AmqpBrokerOptions {
  queueName?: string;
  /**
   * The namespace's other queues, which a test of the one queue does not watch (default: the
   * SLA clocks' `ticket-timers`, the incidents' `ticket-commands`, the `notifications`): they take what is sent and scheduled to them, and deliver nothing.
   */
  otherQueues?: string[];
  port?: number;
  /** Deliveries before a message is dead-lettered, as the queue's maxDeliveryCount (default 10, as infra/). */
  maxDeliveryCount?: number;
  /** How long a delivered message stays locked unless renewed, as the queue's lockDuration (default 60 s, as infra/). */
  lockDurationMs?: number;
  /**
   * The queue's clock: when scheduled messages come due and locks run out (default: the
   * system's). A test that moves its host's clock by hand gives the broker the same one.
   */
  scheduler?: Scheduler;
}

export interface ScheduledMessage extends BrokeredMessage {
  scheduledEnqueueTime: Date;
}

export interface ClaimRequest {
  audience: string;
  tokenType: string;
}

export interface AmqpBroker {
  readonly port: number;
  readonly connectionString: string;
  /** Messages enqueued now, unique by message id, in arrival order. */
  readonly received: BrokeredMessage[];
  /** Messages scheduled for later, unique by message id (shared with `received`); each becomes receivable at its time. */
  readonly scheduled: ScheduledMessage[];
  /**
   * What was sent or scheduled to the namespace's other queues (AmqpBrokerOptions.otherQueues),
   * by queue: kept, never delivered.
   */
  readonly elsewhere: Map<string, Message[]>;
  readonly duplicatesDropped: number;
  /** Transfers on the queue link: a batch of several messages counts once. */
  readonly deliveries: number;
  /** Every put-token request answered, to show the SDK authenticated. */
  readonly claims: ClaimRequest[];
  /** Messages a receiver completed, in order. */
  readonly completed: BrokeredMessage[];
  /** Messages moved to the dead-letter queue, in order. */
  readonly deadLettered: DeadLetteredMessage[];
  /** Every settlement, lost lock and expired lock, in order. */
  readonly settlements: Settlement[];
  /** Lock renewals answered (`com.microsoft:renew-lock`). */
  readonly lockRenewals: number;
  /** Messages waiting for a receiver: enqueued or due, and neither locked nor settled. */
  readonly waiting: number;
  /**
   * Messages out on a receive link under a lock, not yet settled. With `waiting` at 0 too,
   * nothing the broker holds can be delivered again until a scheduled message comes due.
   */
  readonly locked: number;
  /** Receive links attached to the queue now. */
  readonly receivers: number;
  /**
   * The next `count` completions find their lock lost, as when a handler outlives its
   * lock: the completion is refused with `com.microsoft:message-lock-lost` and the
   * message is delivered again.
   */
  loseNextLocks(count?: number): void;
  /**
   * While true, receive links on the queue are detached and refused (the
   * connection stays up): the SDK then settles by lock token over `$management`.
   */
  refuseReceivers: boolean;
  /**
   * While true the broker keeps connections open but answers nothing, settles
   * nothing and delivers nothing: a hung service, as opposed to a refused connection.
   */
  unresponsive: boolean;
  /** Abruptly drops every connection and stops listening, like an outage. Stored messages are kept. */
  stop(): Promise<void>;
  /** Listens again, by default on the same port. */
  start(port?: number): Promise<void>;
}

const CBS = "$cbs";
/** Service Bus' batch envelope: one data section per encoded message. */
const BATCH_FORMAT = 0x80013700;
const SCHEDULE_OPERATION = "com.microsoft:schedule-message";
const RENEW_LOCK_OPERATION = "com.microsoft:renew-lock";
const UPDATE_DISPOSITION_OPERATION = "com.microsoft:update-disposition";
const SCHEDULED_TIME = "x-opt-scheduled-enqueue-time";
const LOCK_LOST = "com.microsoft:message-lock-lost";
/** A retryable detach: the SDK keeps trying to attach again. */
const DETACHED = { condition: "amqp:link:detach-forced", description: "The test broker detached the receiver." };
const AMQP_LONG = 0x81;
const AMQP_TIMESTAMP = 0x83;
/** setTimeout's longest delay; a schedule further out simply never comes due in a test. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Advertised on the queue link: the SDK sizes its batches from it (0 would fit nothing). */
const MAX_MESSAGE_SIZE = 256 * 1024;

export async function startAmqpBroker(options: AmqpBrokerOptions = {}): Promise<AmqpBroker> {
  const broker = new Broker(
    options.queueName ?? "escalations",
    options.maxDeliveryCount ?? 10,
    options.lockDurationMs ?? 60_000,
    options.scheduler ?? systemScheduler,
    options.otherQueues ?? ["ticket-timers", "ticket-commands", "notifications"],
  );
  await broker.start(options.port ?? 0);
  return broker;
}

type Outcome = "complete" | "abandon" | "dead-letter";

/** A message out on a receive link, until it is settled or its lock expires. */
interface Lock {
  /** Hex of the lock token in the byte order `$management` requests carry it. */
  key: string;
  message: BrokeredMessage;
  /** Cancels the lock's timer. */
  cancelTimer?: () => void;
}

class Broker implements AmqpBroker {
  readonly received: BrokeredMessage[] = [];
  readonly scheduled: ScheduledMessage[] = [];
  readonly elsewhere = new Map<string, Message[]>();
  readonly claims: ClaimRequest[] = [];
  readonly completed: BrokeredMessage[] = [];
  readonly deadLettered: DeadLetteredMessage[] = [];
  readonly settlements: Settlement[] = [];
  private dropped = 0;
  private transfers = 0;
  private renewals = 0;
  private lockLosses = 0;
  private readonly seen = new Map<string, number>();
  private nextSequenceNumber = 1;
  /** Receivable now, in sequence order: an abandoned message goes back to its place, as on Service Bus. */
  private readonly ready: BrokeredMessage[] = [];
  private readonly locks = new Map<string, Lock>();
  private readonly lockOf = new WeakMap<Delivery, Lock>();
  private readonly enqueuedAt = new WeakMap<BrokeredMessage, Date>();
  /** The clients' receive links on the queue: our sending ends. */
  private readonly queueLinks = new Set<Sender>();
  private isUnresponsive = false;
  private isRefusingReceivers = false;
  // Deliveries are settled by hand, so that an unresponsive broker can leave them hanging.
  // A modified outcome (the SDK's abandon) is its own event, not also a "released" one.
  private readonly container = rhea.create_container({ id: "test-broker", autoaccept: false, treat_modified_as_released: false });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Replies waiting for the client to grant credit on its reply link. */
  private readonly pending = new WeakMap<Sender, Message[]>();
  private currentPort = 0;

  constructor(
    private readonly queueName: string,
    private readonly maxDeliveryCount: number,
    private readonly lockDurationMs: number,
    private readonly scheduler: Scheduler,
    private readonly otherQueues: string[],
  ) {
    this.container.on("receiver_open", (context: EventContext) => this.onIncomingLink(context.receiver!));
    this.container.on("sender_open", (context: EventContext) => this.onOutgoingLink(context.sender!));
    this.container.on("message", (context: EventContext) => this.onMessage(context));
    this.container.on("sendable", (context: EventContext) => this.onSendable(context.sender!));
    this.container.on("sender_draining", (context: EventContext) => this.onDrain(context.sender!));
    this.container.on("sender_close", (context: EventContext) => this.queueLinks.delete(context.sender!));
    this.container.on("accepted", (context: EventContext) => this.onDisposition(context.delivery!, "complete"));
    this.container.on("modified", (context: EventContext) => this.onDisposition(context.delivery!, "abandon"));
    this.container.on("released", (context: EventContext) => this.onDisposition(context.delivery!, "abandon"));
    this.container.on("rejected", (context: EventContext) => this.onDisposition(context.delivery!, "dead-letter"));
    // Clients vanishing is expected (the outage tests): unhandled, rhea throws on
    // "error" and prints a warning on "disconnected".
    this.container.on("error", () => {});
    this.container.on("disconnected", (context: EventContext) => this.forgetLinksOf(context.connection));
  }

  get port(): number {
    return this.currentPort;
  }

  get connectionString(): string {
    return `Endpoint=sb://127.0.0.1:${this.currentPort}/;SharedAccessKeyName=test;SharedAccessKey=dGVzdA==;UseDevelopmentEmulator=true`;
  }

  get duplicatesDropped(): number {
    return this.dropped;
  }

  get deliveries(): number {
    return this.transfers;
  }

  get lockRenewals(): number {
    return this.renewals;
  }

  get waiting(): number {
    return this.ready.length;
  }

  get locked(): number {
    return this.locks.size;
  }

  get receivers(): number {
    return [...this.queueLinks].filter((link) => link.is_open()).length;
  }

  get unresponsive(): boolean {
    return this.isUnresponsive;
  }

  set unresponsive(value: boolean) {
    this.isUnresponsive = value;
    if (!value) this.deliver(); // messages that came due while it hung
  }

  get refuseReceivers(): boolean {
    return this.isRefusingReceivers;
  }

  set refuseReceivers(value: boolean) {
    this.isRefusingReceivers = value;
    if (!value) return;
    for (const link of this.queueLinks) link.close(DETACHED);
    this.queueLinks.clear();
  }

  loseNextLocks(count = 1): void {
    this.lockLosses += count;
  }

  async start(port = this.currentPort): Promise<void> {
    if (this.server) throw new Error("The broker is already listening.");
    const server = this.container.listen({ port, host: "127.0.0.1" });
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    this.server = server;
    const address = server.address();
    if (address && typeof address === "object") this.currentPort = address.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Destroying the sockets (no AMQP close) looks to the client like the network going away.
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    // rhea hears nothing of a socket destroyed on its own side: its links would still look open.
    this.queueLinks.clear();
    await closed;
  }

  private get managementAddress(): string {
    return `${this.queueName}/$management`;
  }

  /** One of the other queues, or its management node: the queue's name. */
  private otherQueueOf(address: string | undefined): string | undefined {
    return this.otherQueues.find((q) => address === q || address === `${q}/$management`);
  }

  /** The client's sender: our receiving end. */
  private onIncomingLink(link: Receiver): void {
    const address = link.target?.address;
    if (address !== CBS && address !== this.queueName && address !== this.managementAddress && !this.otherQueueOf(address)) {
      link.close({ condition: "amqp:not-found", description: `No entity ${address ?? "(none)"}.` });
      return;
    }
    link.set_target({ address });
    if (link.source) link.set_source(link.source);
    // Every queue's link, as Service Bus does: the SDK sizes a batch from it, and an unsized batch is no batch to it.
    if (address === this.queueName || this.otherQueues.includes(address ?? "")) advertiseMaxMessageSize(link, MAX_MESSAGE_SIZE);
  }

  /** The client's receiver: the reply links of the request/response nodes, and receivers of the queue. */
  private onOutgoingLink(link: Sender): void {
    const address = link.source?.address;
    if (address !== CBS && address !== this.managementAddress && address !== this.queueName && !this.otherQueueOf(address)) {
      link.close({ condition: "amqp:not-found", description: `No entity ${address ?? "(none)"}.` });
      return;
    }
    link.set_source({ address });
    if (link.target) link.set_target(link.target);
    if (address === this.queueName && this.refuseReceivers) {
      link.close(DETACHED);
      return;
    }
    if (address === this.queueName) {
      // Peek-lock: the receiver settles each message, and we settle after it (rcv-settle-mode second).
      setSettleModes(link, { sender: 0, receiver: 1 });
      this.queueLinks.add(link);
    }
  }

  private onSendable(link: Sender): void {
    if (this.queueLinks.has(link)) this.deliver();
    else this.flush(link);
  }

  /** A receiver stopping (the SDK drains on close): send what there is, then give the rest of the credit back. */
  private onDrain(link: Sender): void {
    if (!this.queueLinks.has(link) || this.unresponsive) return;
    this.deliver();
    if (link.has_credit()) link.set_drained(true);
  }

  private onMessage(context: EventContext): void {
    if (this.unresponsive) return;
    const receiver = context.receiver!;
    const address = receiver.target?.address;
    if (address === CBS) this.answerClaim(context.connection, context.message!);
    else if (address === this.managementAddress) this.answerManagement(context.connection, context.message!);
    else if (this.otherQueueOf(address)) this.keepElsewhere(this.otherQueueOf(address)!, address, context);
    else if (address === this.queueName) {
      this.transfers++;
      // A batch arrives undecoded (custom message format): context.message is the raw bytes.
      const payload = context.delivery?.format === BATCH_FORMAT ? unbatch(context.message as unknown as Buffer) : [context.message!];
      for (const message of payload) this.enqueue(message);
    }
    context.delivery?.accept(); // only after storing: an accepted message is on the queue
  }

  /** A message to another queue, or a schedule request on its management node: kept, answered, never delivered. */
  private keepElsewhere(queue: string, address: string, context: EventContext): void {
    const kept = this.elsewhere.get(queue) ?? [];
    this.elsewhere.set(queue, kept);
    const message = context.message!;
    if (address === queue) {
      const payload = context.delivery?.format === BATCH_FORMAT ? unbatch(message as unknown as Buffer) : [message];
      kept.push(...payload);
      return;
    }
    if (message.application_properties?.["operation"] !== SCHEDULE_OPERATION)
      return this.reply(context.connection, message, 501, "Not implemented on this queue");
    const entries = (message.body as { messages?: { message: Buffer }[] } | undefined)?.messages ?? [];
    kept.push(...entries.map((entry) => decode(entry.message)));
    const numbers = entries.map(() => this.nextSequenceNumber++);
    this.reply(context.connection, message, 200, "OK", { "sequence-numbers": rhea.types.wrap_array(numbers, AMQP_LONG, undefined) });
  }

  private answerClaim(connection: Connection, request: Message): void {
    const props = request.application_properties ?? {};
    if (props["operation"] !== "put-token") return this.reply(connection, request, 400, "Unknown $cbs operation.");
    this.claims.push({ audience: String(props["name"]), tokenType: String(props["type"]) });
    this.reply(connection, request, 200, "OK");
  }

  private answerManagement(connection: Connection, request: Message): void {
    const operation = request.application_properties?.["operation"];
    if (operation === RENEW_LOCK_OPERATION) return this.renewLocks(connection, request);
    if (operation === UPDATE_DISPOSITION_OPERATION) return this.updateDisposition(connection, request);
    if (operation !== SCHEDULE_OPERATION) return this.reply(connection, request, 501, `Not implemented: ${String(operation)}`);
    const entries = (request.body as { messages?: { message: Buffer }[] } | undefined)?.messages ?? [];
    const sequenceNumbers = entries.map((entry) => this.schedule(decode(entry.message)));
    // The SDK reads body["sequence-numbers"] and accepts plain numbers or 8-byte big-endian buffers:
    // an AMQP array of longs (what Service Bus sends) decodes to numbers here.
    this.reply(connection, request, 200, "OK", { "sequence-numbers": rhea.types.wrap_array(sequenceNumbers, AMQP_LONG, undefined) });
  }

  /** The SDK renews the lock of a message whose handler runs long; it reads body.expirations[0]. */
  private renewLocks(connection: Connection, request: Message): void {
    const locks = lockTokensOf(request).map((token) => this.locks.get(token));
    if (locks.some((lock) => !lock)) return this.reply(connection, request, 410, "The lock is lost.", undefined, LOCK_LOST);
    const expirations = locks.map((lock) => {
      this.renewals++;
      return this.relock(lock!).getTime();
    });
    this.reply(connection, request, 200, "OK", { expirations: rhea.types.wrap_array(expirations, AMQP_TIMESTAMP, undefined) });
  }

  /** Settlement by lock token: what the SDK sends when the link the message came on is gone. */
  private updateDisposition(connection: Connection, request: Message): void {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const status = body["disposition-status"];
    const outcome: Outcome | undefined =
      status === "completed" ? "complete" : status === "abandoned" ? "abandon" : status === "suspended" ? "dead-letter" : undefined;
    if (!outcome) return this.reply(connection, request, 501, `Not implemented: disposition ${String(status)}`);
    const reason = typeof body["deadletter-reason"] === "string" ? body["deadletter-reason"] : undefined;
    const settled = lockTokensOf(request).map((token) => this.settle(token, outcome, "management", reason));
    if (settled.some((ok) => !ok)) return this.reply(connection, request, 410, "The lock is lost.", undefined, LOCK_LOST);
    this.reply(connection, request, 200, "OK");
  }

  private enqueue(message: Message): void {
    if (message.message_annotations?.[SCHEDULED_TIME] !== undefined) {
      this.schedule(message);
      return;
    }
    const accepted = this.admit(message);
    if (!accepted) return;
    this.received.push(accepted);
    this.makeReady(accepted);
  }

  private schedule(message: Message): number {
    const accepted = this.admit(message);
    if (!accepted) return this.seen.get(String(message.message_id))!;
    const time = message.message_annotations?.[SCHEDULED_TIME];
    const entry: ScheduledMessage = { ...accepted, scheduledEnqueueTime: time instanceof Date ? time : new Date(Number(time)) };
    this.scheduled.push(entry);
    // Enqueued at its time, as Service Bus does; `scheduled` keeps the same object, so its delivery count shows there.
    this.later(entry.scheduledEnqueueTime.getTime() - this.scheduler.now().getTime(), () => this.makeReady(entry));
    return accepted.sequenceNumber;
  }

  private makeReady(message: BrokeredMessage): void {
    if (!this.enqueuedAt.has(message)) this.enqueuedAt.set(message, this.scheduler.now());
    this.ready.push(message);
    this.ready.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    this.deliver();
  }

  /** Hands ready messages to receive links, as far as their credit goes. */
  private deliver(): void {
    if (this.unresponsive) return;
    for (const link of this.queueLinks) {
      while (this.ready.length > 0 && link.is_open() && link.sendable()) this.lockAndSend(link, this.ready.shift()!);
    }
  }

  /**
   * A dropped connection closes no link (no detach comes): forget its links, or
   * deliveries would go into the void. Their messages stay locked until the locks
   * expire, as on Service Bus.
   */
  private forgetLinksOf(connection: Connection): void {
    for (const link of this.queueLinks) if (link.connection === connection) this.queueLinks.delete(link);
  }

  private lockAndSend(link: Sender, message: BrokeredMessage): void {
    message.deliveryCount++;
    // The SDK turns the delivery tag into the lock token, reading its first three groups
    // little-endian (.NET's GUID layout); $management requests carry the token in RFC order.
    const token = Buffer.from(randomUUID().replace(/-/g, ""), "hex");
    const lock: Lock = { key: token.toString("hex"), message };
    this.locks.set(lock.key, lock);
    const lockedUntil = this.relock(lock);
    const delivery = link.send(this.toAmqp(message, token, lockedUntil), guidLayout(token));
    this.lockOf.set(delivery, lock);
  }

  /** A message as Service Bus delivers it: the properties as sent, the broker's annotations, the body as one data section. */
  private toAmqp(message: BrokeredMessage, lockToken: Buffer, lockedUntil: Date): Message {
    return {
      message_id: message.messageId,
      ...(message.subject !== undefined ? { subject: message.subject } : {}),
      ...(message.contentType !== undefined ? { content_type: message.contentType } : {}),
      ...(message.correlationId !== undefined ? { correlation_id: message.correlationId } : {}),
      application_properties: message.applicationProperties,
      // AMQP counts the earlier deliveries; the SDK passes it on as deliveryCount.
      delivery_count: message.deliveryCount - 1,
      message_annotations: {
        ...message.messageAnnotations,
        "x-opt-lock-token": rhea.types.wrap_uuid(lockToken),
        "x-opt-sequence-number": rhea.types.wrap_long(message.sequenceNumber),
        "x-opt-enqueued-time": this.enqueuedAt.get(message) ?? this.scheduler.now(),
        "x-opt-locked-until": lockedUntil,
      },
      body: rhea.message.data_section(Buffer.isBuffer(message.body) ? message.body : Buffer.from(JSON.stringify(message.body) ?? "null")),
    } as Message;
  }

  /** Starts or extends a lock; when it runs out the message is delivered again. */
  private relock(lock: Lock): Date {
    lock.cancelTimer?.();
    lock.cancelTimer = this.later(this.lockDurationMs, () => {
      if (this.locks.get(lock.key) !== lock) return;
      this.locks.delete(lock.key);
      this.record(lock.message, "lock-expired", "timer");
      this.redeliverOrDeadLetter(lock.message);
    });
    return new Date(this.scheduler.now().getTime() + this.lockDurationMs);
  }

  private onDisposition(delivery: Delivery, outcome: Outcome): void {
    const lock = this.lockOf.get(delivery);
    if (!lock || this.unresponsive) return; // not a queue delivery (a reply), or a hung service
    const error = delivery.remote_state?.["error"] as { info?: Record<string, unknown> } | undefined;
    const reason = error?.info?.["DeadLetterReason"];
    const settled = this.settle(lock.key, outcome, "link", typeof reason === "string" ? reason : undefined);
    // The receiver settles second (peek-lock): our settled disposition is its answer.
    delivery.update(
      true,
      settled
        ? outcomeState(outcome === "complete" ? "accepted" : outcome === "abandon" ? "modified" : "rejected")
        : outcomeState("rejected", { error: { condition: LOCK_LOST, description: "The lock is lost." } }),
    );
  }

  /** Applies a receiver's outcome to a locked message; false when the lock is not held (expired, or settled before). */
  private settle(key: string, outcome: Outcome, via: "link" | "management", reason?: string): boolean {
    const lock = this.locks.get(key);
    if (!lock) return false;
    this.locks.delete(key);
    lock.cancelTimer?.();
    const message = lock.message;
    if (outcome === "complete" && this.lockLosses > 0) {
      this.lockLosses--;
      this.record(message, "lock-lost", via);
      this.redeliverOrDeadLetter(message);
      return false;
    }
    this.record(message, outcome, via);
    if (outcome === "complete") this.completed.push(message);
    else if (outcome === "dead-letter") this.deadLettered.push({ ...message, deadLetterReason: reason ?? "DeadLetteredByReceiver" });
    else this.redeliverOrDeadLetter(message);
    return true;
  }

  private redeliverOrDeadLetter(message: BrokeredMessage): void {
    if (message.deliveryCount >= this.maxDeliveryCount)
      this.deadLettered.push({ ...message, deadLetterReason: "MaxDeliveryCountExceeded" });
    else this.makeReady(message);
  }

  private record(message: BrokeredMessage, outcome: Settlement["outcome"], via: Settlement["via"]): void {
    this.settlements.push({ messageId: message.messageId, outcome, via, deliveryCount: message.deliveryCount });
  }

  /**
   * Timers run on while the broker is stopped (the queue's clock does not stop in an outage).
   * On the system's clock they are unref'd, so no test waits for them.
   */
  private later(ms: number, run: () => void): () => void {
    // systemScheduler's timers are unref'd: on the system's clock no test waits for them.
    return this.scheduler.after(Math.min(Math.max(0, ms), MAX_TIMER_MS), run);
  }

  /** Duplicate detection: a message id seen before is accepted but not stored again. */
  private admit(message: Message): BrokeredMessage | undefined {
    const key = String(message.message_id);
    if (message.message_id !== undefined && this.seen.has(key)) {
      this.dropped++;
      return undefined;
    }
    const sequenceNumber = this.nextSequenceNumber++;
    if (message.message_id !== undefined) this.seen.set(key, sequenceNumber);
    return toBrokered(message, sequenceNumber);
  }

  /** `condition` becomes the SDK's error code (e.g. MessageLockLost) on a failed request. */
  private reply(connection: Connection, request: Message, status: number, description: string, body?: unknown, condition?: string): void {
    const replyTo = request.reply_to;
    const link = connection.find_sender((s: Sender) => s.name === replyTo || s.target?.address === replyTo);
    if (!link) return; // the client gave up on its reply link: nobody to answer
    const response: Message = {
      correlation_id: request.message_id,
      application_properties: {
        "status-code": status,
        "status-description": description,
        ...(condition ? { "error-condition": condition } : {}),
      },
      body,
    };
    const queue = this.pending.get(link) ?? [];
    queue.push(response);
    this.pending.set(link, queue);
    this.flush(link);
  }

  private flush(link: Sender): void {
    const queue = this.pending.get(link);
    while (queue?.length && link.sendable()) link.send(queue.shift()!);
  }
}

/** Splits Service Bus' batch envelope into the messages it carries. */
function unbatch(raw: Buffer): Message[] {
  const envelope = decode(raw);
  const section = envelope.body as { content: Buffer | Buffer[]; multiple?: boolean } | undefined;
  if (!section) return [];
  const parts = section.multiple ? (section.content as Buffer[]) : [section.content as Buffer];
  return parts.map(decode);
}

/** rhea types its decoder's result apart from the Message its events carry; they are the same object. */
function decode(bytes: Buffer): Message {
  return rhea.message.decode(bytes) as unknown as Message;
}

function toBrokered(message: Message, sequenceNumber: number): BrokeredMessage {
  return {
    messageId: message.message_id,
    ...(message.subject !== undefined ? { subject: message.subject } : {}),
    body: decodeBody(message.body),
    ...(message.content_type !== undefined ? { contentType: message.content_type } : {}),
    ...(message.correlation_id !== undefined ? { correlationId: message.correlation_id } : {}),
    applicationProperties: { ...(message.application_properties ?? {}) },
    messageAnnotations: { ...(message.message_annotations ?? {}) },
    sequenceNumber,
    deliveryCount: 0,
  };
}

/** The lock tokens of a `$management` request: an AMQP array of uuids, decoded as 16-byte buffers. */
function lockTokensOf(request: Message): string[] {
  const tokens = (request.body as Record<string, unknown> | undefined)?.["lock-tokens"];
  return (Array.isArray(tokens) ? tokens : []).map((token) => (Buffer.isBuffer(token) ? token.toString("hex") : String(token)));
}

/** A GUID's bytes as .NET lays them out: the first three groups reversed. The SDK reverses them back. */
function guidLayout(rfc: Buffer): Buffer {
  const bytes = Buffer.from(rfc);
  bytes.subarray(0, 4).reverse();
  bytes.subarray(4, 6).reverse();
  bytes.subarray(6, 8).reverse();
  return bytes;
}

/** rhea builds outcomes (accepted, modified, rejected) but does not type their constructors. */
function outcomeState(name: "accepted" | "modified" | "rejected", fields?: object): unknown {
  const create = (rhea.message as unknown as Record<string, (fields?: object) => { described(): unknown }>)[name]!;
  return create(fields).described();
}

/** The SDK sends objects as one data section of UTF-8 JSON; anything else is returned as decoded by rhea. */
function decodeBody(body: unknown): unknown {
  const content = isDataSection(body) ? body.content : body;
  if (!Buffer.isBuffer(content)) return content;
  try {
    return JSON.parse(content.toString("utf8"));
  } catch {
    return content;
  }
}

function isDataSection(body: unknown): body is { typecode: number; content: unknown } {
  return typeof body === "object" && body !== null && (body as { typecode?: unknown }).typecode === 0x75;
}

/**
 * rhea echoes no max-message-size on links the peer opens, and exposes no setter
 * for it; the attach frame it is about to send is reachable, though untyped.
 */
function advertiseMaxMessageSize(link: Receiver, bytes: number): void {
  localAttach(link).max_message_size = bytes;
}

/** The same for the settle modes: echo what the receiver asked for. */
function setSettleModes(link: Sender, modes: { sender: number; receiver: number }): void {
  localAttach(link).snd_settle_mode = modes.sender;
  localAttach(link).rcv_settle_mode = modes.receiver;
}

function localAttach(link: Sender | Receiver): Record<string, unknown> {
  return (link as unknown as { local: { attach: Record<string, unknown> } }).local.attach;
}
