import type { Server, Socket } from "node:net";
import rhea, { type Connection, type EventContext, type Message, type Receiver, type Sender } from "rhea";

/**
 * A minimal AMQP 1.0 stand-in for a Service Bus namespace with one queue, enough
 * for the real @azure/service-bus SDK to send and schedule: it answers the claims
 * (`$cbs`) and `<queue>/$management` request/response nodes, stores what is sent
 * to the queue, and drops duplicates by message id like a queue with duplicate
 * detection on. Receiving from the queue is not served (the SDK's peek-lock
 * protocol is more than these tests need); such links are refused.
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
  /** Messages scheduled for later, unique by message id (shared with `received`). */
  readonly scheduled: ScheduledMessage[];
  readonly duplicatesDropped: number;
  /** Transfers on the queue link: a batch of several messages counts once. */
  readonly deliveries: number;
  /** Every put-token request answered, to show the SDK authenticated. */
  readonly claims: ClaimRequest[];
  /**
   * While true the broker keeps connections open but answers nothing and settles
   * nothing: a hung service, as opposed to a refused connection.
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
const SCHEDULED_TIME = "x-opt-scheduled-enqueue-time";
const AMQP_LONG = 0x81;
/** Advertised on the queue link: the SDK sizes its batches from it (0 would fit nothing). */
const MAX_MESSAGE_SIZE = 256 * 1024;

export async function startAmqpBroker(options: { queueName?: string; port?: number } = {}): Promise<AmqpBroker> {
  const broker = new Broker(options.queueName ?? "escalations");
  await broker.start(options.port ?? 0);
  return broker;
}

class Broker implements AmqpBroker {
  readonly received: BrokeredMessage[] = [];
  readonly scheduled: ScheduledMessage[] = [];
  readonly claims: ClaimRequest[] = [];
  private dropped = 0;
  private transfers = 0;
  private readonly seen = new Map<string, number>();
  private nextSequenceNumber = 1;
  // Deliveries are settled by hand, so that an unresponsive broker can leave them hanging.
  private readonly container = rhea.create_container({ id: "test-broker", autoaccept: false });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Replies waiting for the client to grant credit on its reply link. */
  private readonly pending = new WeakMap<Sender, Message[]>();
  private currentPort = 0;
  unresponsive = false;

  constructor(private readonly queueName: string) {
    this.container.on("receiver_open", (context: EventContext) => this.onIncomingLink(context.receiver!));
    this.container.on("sender_open", (context: EventContext) => this.onOutgoingLink(context.sender!));
    this.container.on("message", (context: EventContext) => this.onMessage(context));
    this.container.on("sendable", (context: EventContext) => this.flush(context.sender!));
    // Clients vanishing is expected (the outage tests): unhandled, rhea throws on
    // "error" and prints a warning on "disconnected".
    this.container.on("error", () => {});
    this.container.on("disconnected", () => {});
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
    await closed;
  }

  private get managementAddress(): string {
    return `${this.queueName}/$management`;
  }

  /** The client's sender: our receiving end. */
  private onIncomingLink(link: Receiver): void {
    const address = link.target?.address;
    if (address !== CBS && address !== this.queueName && address !== this.managementAddress) {
      link.close({ condition: "amqp:not-found", description: `No entity ${address ?? "(none)"}.` });
      return;
    }
    link.set_target({ address });
    if (link.source) link.set_source(link.source);
    if (address === this.queueName) advertiseMaxMessageSize(link, MAX_MESSAGE_SIZE);
  }

  /** The client's receiver: only the reply links of the request/response nodes. */
  private onOutgoingLink(link: Sender): void {
    const address = link.source?.address;
    if (address !== CBS && address !== this.managementAddress) {
      link.close({ condition: "amqp:not-implemented", description: `The test broker does not serve receivers on ${address ?? "(none)"}.` });
      return;
    }
    link.set_source({ address });
    if (link.target) link.set_target(link.target);
  }

  private onMessage(context: EventContext): void {
    if (this.unresponsive) return;
    const receiver = context.receiver!;
    const address = receiver.target?.address;
    if (address === CBS) this.answerClaim(context.connection, context.message!);
    else if (address === this.managementAddress) this.answerManagement(context.connection, context.message!);
    else if (address === this.queueName) {
      this.transfers++;
      // A batch arrives undecoded (custom message format): context.message is the raw bytes.
      const payload = context.delivery?.format === BATCH_FORMAT ? unbatch(context.message as unknown as Buffer) : [context.message!];
      for (const message of payload) this.enqueue(message);
    }
    context.delivery?.accept(); // only after storing: an accepted message is on the queue
  }

  private answerClaim(connection: Connection, request: Message): void {
    const props = request.application_properties ?? {};
    if (props["operation"] !== "put-token") return this.reply(connection, request, 400, "Unknown $cbs operation.");
    this.claims.push({ audience: String(props["name"]), tokenType: String(props["type"]) });
    this.reply(connection, request, 200, "OK");
  }

  private answerManagement(connection: Connection, request: Message): void {
    const operation = request.application_properties?.["operation"];
    if (operation !== SCHEDULE_OPERATION) return this.reply(connection, request, 501, `Not implemented: ${String(operation)}`);
    const entries = (request.body as { messages?: { message: Buffer }[] } | undefined)?.messages ?? [];
    const sequenceNumbers = entries.map((entry) => this.schedule(decode(entry.message)));
    // The SDK reads body["sequence-numbers"] and accepts plain numbers or 8-byte big-endian buffers:
    // an AMQP array of longs (what Service Bus sends) decodes to numbers here.
    this.reply(connection, request, 200, "OK", { "sequence-numbers": rhea.types.wrap_array(sequenceNumbers, AMQP_LONG, undefined) });
  }

  private enqueue(message: Message): void {
    if (message.message_annotations?.[SCHEDULED_TIME] !== undefined) {
      this.schedule(message);
      return;
    }
    const accepted = this.admit(message);
    if (accepted) this.received.push(accepted);
  }

  private schedule(message: Message): number {
    const accepted = this.admit(message);
    if (!accepted) return this.seen.get(String(message.message_id))!;
    const time = message.message_annotations?.[SCHEDULED_TIME];
    this.scheduled.push({ ...accepted, scheduledEnqueueTime: time instanceof Date ? time : new Date(Number(time)) });
    return accepted.sequenceNumber;
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

  private reply(connection: Connection, request: Message, status: number, description: string, body?: unknown): void {
    const replyTo = request.reply_to;
    const link = connection.find_sender((s: Sender) => s.name === replyTo || s.target?.address === replyTo);
    if (!link) return; // the client gave up on its reply link: nobody to answer
    const response: Message = {
      correlation_id: request.message_id,
      application_properties: { "status-code": status, "status-description": description },
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
  };
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
  (link as unknown as { local: { attach: { max_message_size?: number } } }).local.attach.max_message_size = bytes;
}
