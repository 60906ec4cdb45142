import type { CosmosClient } from "@azure/cosmos";
import type { SharedKeyAccount } from "../adapters/blob/attachment-blobs.js";
import { once } from "../kernel/once.js";
import { CosmosAgentStore } from "../adapters/cosmos/agent-store.js";
import { bootstrapCosmos, connectCosmos, EMBEDDED_KEY, ticketsContainer } from "../adapters/cosmos/connect.js";
import { cosmosFailure } from "../adapters/cosmos/errors.js";
import { CosmosTicketStore } from "../adapters/cosmos/ticket-store.js";
import { rateLimit } from "../adapters/http/rate-limit.js";
import { remoteKeys, type RemoteKeys } from "../adapters/identity/keys.js";
import { rememberingVerifier, type IssuerTrust } from "../adapters/identity/verify.js";
import { AgentDirectory } from "../agents/directory.js";
import { rememberingAgents } from "../agents/http/handlers.js";
import { channelsFromConfig } from "../escalation/channels/from-config.js";
import { Deliveries } from "../escalation/deliveries.js";
import { Notifier } from "../escalation/notifier.js";
import { escalationEntries } from "../escalation/outbox.js";
import type { Channel } from "../escalation/ports.js";
import type { Principal } from "../kernel/principal.js";
import { Dispatcher } from "../outbox/dispatcher.js";
import type { OutboxEntry, Publisher, QueueMessage } from "../outbox/ports.js";
import { systemRandomness } from "../tickets/ids.js";
import { TicketWriter } from "../tickets/ticket-writer.js";
import { ticketUseCases, type TicketUseCases } from "../tickets/use-cases.js";
import type { Config } from "./config.js";
import { httpRoutes, type HttpRoute } from "./routes.js";
import { CosmosSlaPolicyStore } from "../adapters/cosmos/sla-policy-store.js";
import { slaPolicyUseCases } from "../sla/policy-use-cases.js";
import { cachedPolicy } from "../sla/policy-source.js";
import { handleTimer } from "../sla/timer-handler.js";
import { timerEntries } from "../sla/timer-outbox.js";
import { incidentEntries } from "../incidents/outbox.js";
import { handleTicketCommand } from "../incidents/handler.js";
import type { Outbox } from "../tickets/ports.js";
import type { AttachmentBlobs } from "../attachments/ports.js";
import { requestUpload, type RequestUpload } from "../attachments/request-upload.js";
import { attachmentCheck } from "../attachments/attach.js";
import { sweepUploads } from "../attachments/sweep.js";
import { downloadAttachment, type DownloadAttachment } from "../attachments/download.js";
import type { AttachmentCheck } from "../tickets/ports.js";
import type { MaliciousFile } from "../tickets/domain/commands.js";
import { CosmosAttachmentRecords } from "../adapters/cosmos/attachment-records.js";
import { CosmosPreferenceStore } from "../adapters/cosmos/preference-store.js";
import { CosmosWebhookStore } from "../adapters/cosmos/webhook-store.js";
import { preferenceUseCases } from "../notifications/preferences.js";
import { webhookUseCases } from "../notifications/webhooks.js";
import { keptSubscriptions } from "../notifications/kept-subscriptions.js";
import { notificationEntries } from "../notifications/outbox.js";
import { handleNotification } from "../notifications/handler.js";
import type { EmailSender } from "../notifications/ports.js";
import type { AppEventType } from "../notifications/domain/messages.js";
import { postJson } from "../escalation/channels/http.js";
import { ticketLink } from "../escalation/channels/link.js";
import { RecordThere } from "../tickets/idempotency.js";

/**
 * What a host outside Azure may use where a setting is unset: the embedded Cosmos DB
 * endpoint, the in-process queue, the console channel. Azure gets none
 * (functions/index.ts), so there a missing setting is an error, never a silent
 * stand-in. They live in shared/local/. The token issuer is not among them: see
 * CompositionOptions.devIssuer.
 */
export interface StandIns {
  /** `bootstrapped`: the database whose containers the stand-in made already (a kept store loaded into them). */
  cosmos(): Promise<{ endpoint: string; close(): Promise<void>; bootstrapped?: string }>;
  queue(handler: (message: QueueMessage) => Promise<void>): Publisher;
  channels(): Channel[];
  /**
   * Blob Storage for the attachments where ATTACHMENTS_ACCOUNT_URL is unset: the embedded
   * Azurite, its container made (its data kept where the stand-in says); its development
   * account's key signs the SAS (sharedKeyAttachmentBlobs). Never in Azure.
   */
  blob(options: { container: string; corsOrigins?: readonly string[] }): Promise<SharedKeyAccount & { close(): Promise<void> }>;
  /** Where the requester emails go where EMAIL_ENDPOINT is unset: .eml files, each announced in one log line. */
  mail(): EmailSender;
}

export interface CompositionOptions {
  standIns?: () => Promise<StandIns>;
  /**
   * The development issuer, trusted when AUTH_* are unset: only the local host turns it
   * on, explicitly (shared/local/host.ts). Without it and without AUTH_*, every token is
   * refused; the Functions entry point never passes it and requires AUTH_* instead.
   */
  devIssuer?: () => Promise<IssuerTrust>;
  /** Told of every outbox entry once stored (the local host dispatches them at once; Azure has the change feed). */
  outboxWritten?: (entries: OutboxEntry[]) => void;
  log?: (line: string) => void;
  /** The clock of every use case and of the notifier (default: the system's); the local host passes its scheduler's. */
  now?: () => Date;
  /**
   * The API's own base URL (…/api), asked when the first alert is built: alerts link to its
   * tickets unless TICKET_URL_TEMPLATE says otherwise. The local host passes the port it got.
   */
  ownUrl?: () => string;
}

/** Where functions/index.ts serves off Azure: `func start`'s default port. (In Azure infra/ sets TICKET_URL_TEMPLATE.) */
const FUNC_START_URL = "http://localhost:7071/api";

interface Stores {
  tickets: CosmosTicketStore;
  agents: CosmosAgentStore;
  slaPolicy: CosmosSlaPolicyStore;
  attachments: CosmosAttachmentRecords;
  preferences: CosmosPreferenceStore;
  webhooks: CosmosWebhookStore;
}

const randomness = systemRandomness;
/** An email's record outlives every redelivery of its message (the queues forget message ids after 7 days). */
const EMAIL_RECORD_TTL_SECONDS = 30 * 24 * 60 * 60;
/** An upload's id, and a copy's: 96 random bits in hex (the id routes and inputs take). */
const newAttachmentId = () => randomness.randomHex().slice(0, 24);

/**
 * The tickets' outbox: the escalation's messages, the SLA's timers, the incidents' commands and
 * the notifications of each change (its events for the apps only where `eventsWanted` says some
 * subscription may want them).
 */
export function ticketOutbox(
  written: (entries: OutboxEntry[]) => void = () => {},
  eventsWanted: (type: AppEventType) => boolean = () => true,
): Outbox {
  return {
    entriesFor: (change, requestId) => [
      ...escalationEntries(change, requestId),
      ...timerEntries(change, requestId),
      ...incidentEntries(change, requestId),
      ...notificationEntries(change, requestId, eventsWanted),
    ],
    written,
  };
}

/**
 * The one composition root: config in, clients and use cases out, each built once per
 * process on first use, so a cold start pays only for what the invoked function needs
 * (openapi.json never touches the store's client; a trigger never builds the token
 * verifier). It only wires.
 */
export class Composition {
  private client?: CosmosClient;
  private embedded?: { close(): Promise<void>; bootstrapped?: string };
  private embeddedBlob?: { close(): Promise<void> };
  private readonly log: (line: string) => void;
  private readonly now: () => Date;

  constructor(
    readonly config: Config,
    private readonly options: CompositionOptions = {},
  ) {
    this.log = options.log ?? ((line) => console.error(line));
    this.now = options.now ?? (() => new Date());
  }

  /** The stand-ins, loaded once; without them (in Azure) the setting that would have named the real thing is missing. */
  private readonly loadedStandIns = once(async () => this.options.standIns!());

  private async standIn(setting: string): Promise<StandIns> {
    if (!this.options.standIns) throw new Error(`${setting} is required in Azure.`);
    return this.loadedStandIns();
  }

  readonly stores = once(async (): Promise<Stores> => {
    try {
      const { cosmos } = this.config;
      let { endpoint, key } = cosmos;
      if (!endpoint) {
        const embedded = await (await this.standIn("COSMOS_ENDPOINT")).cosmos();
        this.embedded = embedded;
        endpoint = embedded.endpoint;
        key = EMBEDDED_KEY; // the embedded endpoint checks no key
      }
      this.client = await connectCosmos({ endpoint, key, managedIdentityClientId: this.config.managedIdentityClientId });
      // In Azure, infra/ owns the database and containers; elsewhere nothing else creates them
      // (but a stand-in that made them already, to load a kept store into them).
      // An embedded endpoint has just started, empty: its containers are made without reading first.
      if (!this.config.insideAzure && this.embedded?.bootstrapped !== cosmos.database)
        await bootstrapCosmos(this.client, cosmos.database, { fresh: this.embedded !== undefined });
      const container = ticketsContainer(this.client, cosmos.database);
      return {
        tickets: new CosmosTicketStore(container),
        agents: new CosmosAgentStore(container),
        slaPolicy: new CosmosSlaPolicyStore(container),
        attachments: new CosmosAttachmentRecords(container),
        preferences: new CosmosPreferenceStore(container),
        webhooks: new CosmosWebhookStore(container),
      };
    } catch (e) {
      // The next request connects afresh: release what this attempt opened.
      this.client?.dispose();
      this.client = undefined;
      await this.embedded?.close();
      this.embedded = undefined;
      throw cosmosFailure(e);
    }
  });

  /** The SLA policy a change is judged by, kept a few seconds per instance (shared/sla/policy-source.ts). */
  private readonly slaPolicy = once(async () => cachedPolicy((await this.stores()).slaPolicy, { now: this.now }));

  private readonly writer = once(async () => {
    const subscriptions = await this.subscriptions();
    return new TicketWriter({
      store: (await this.stores()).tickets,
      outbox: ticketOutbox(this.options.outboxWritten, (type) => subscriptions.wanted(type)),
      slaPolicy: await this.slaPolicy(),
    });
  });

  readonly directory = once(async () => new AgentDirectory((await this.stores()).agents, this.now));

  readonly slaPolicies = once(async () => {
    const source = await this.slaPolicy();
    return slaPolicyUseCases((await this.stores()).slaPolicy, (policy) => source.replaced(policy));
  });

  readonly tickets = once(async (): Promise<TicketUseCases> =>
    ticketUseCases({
      store: (await this.stores()).tickets,
      writer: await this.writer(),
      agents: await this.directory(),
      randomness,
      now: this.now,
      slaPolicy: await this.slaPolicy(),
      attachments: this.attachments,
    }),
  );

  private readonly trust = once(async (): Promise<IssuerTrust> => {
    const { auth } = this.config;
    if (auth) {
      const keys = remoteKeys(auth.jwksUri, { now: () => this.now().getTime(), log: this.log });
      return { issuer: auth.issuer, audience: auth.audience, requiredScope: auth.requiredScope, keys };
    }
    // Only where the host turned it on; it refuses inside Azure besides.
    if (this.options.devIssuer) return this.options.devIssuer();
    throw new Error("AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URI are required: this host runs no development issuer.");
  });

  private readonly verifier = once(async () => rememberingVerifier(await this.trust(), () => this.now().getTime()));

  /**
   * Readies what the first request's token check needs, in the background, as a host
   * starts: the issuer's keys fetched (the JWKS) or imported (the development key), so that
   * the first request, once read, does not wait for them. A fetch that fails here is logged
   * and leaves the first request to fetch again, as it would have without this.
   */
  warmUp(): void {
    this.trust().then(
      (trust) => (trust.keys as Partial<RemoteKeys>).prefetch?.(),
      () => {},
    );
  }

  /** Verifies a Bearer token (once until it expires): the caller, or Failure "unauthenticated". */
  readonly authenticate = async (authorization: string | null): Promise<Principal> => (await this.verifier())(authorization);

  /** The `escalations` queue: Service Bus when configured, else the in-process queue. */
  /**
   * A queue's publisher: Service Bus when configured, else the in-process queue, which hands
   * each message to `handle` (in Azure a Service Bus trigger does: functions/index.ts).
   */
  private async queuePublisher(
    queue: string,
    handle: (message: { messageId: string; body: unknown }) => Promise<void>,
  ): Promise<Publisher> {
    const { serviceBus, managedIdentityClientId } = this.config;
    if (serviceBus.namespace || serviceBus.connectionString) {
      const { serviceBusPublisher } = await import("../adapters/servicebus/publisher.js");
      return serviceBusPublisher({ ...serviceBus, managedIdentityClientId }, queue);
    }
    return (await this.standIn("SERVICE_BUS_NAMESPACE")).queue((m) => handle({ messageId: m.messageId, body: m.body }));
  }

  /** The `escalations` queue. */
  readonly publisher = once(() => this.queuePublisher(this.config.escalation.queue, async (m) => (await this.notifier()).handle(m)));

  /** The `ticket-timers` queue: the SLA clocks' timers, scheduled messages. */
  readonly timerPublisher = once(() => this.queuePublisher(this.config.timers.queue, (m) => this.handleTimer(m)));

  /** One message of the `ticket-timers` queue: an SLA warning or breach come due. */
  readonly handleTimer = async (message: { messageId: string; body: unknown }): Promise<void> =>
    handleTimer(
      { tickets: await this.tickets(), publisher: await this.timerPublisher(), now: this.now, log: (line) => console.log(line) },
      message,
    );

  /** The `ticket-commands` queue: what one ticket's change asks of others (shared/incidents/). */
  readonly commandPublisher = once(() => this.queuePublisher(this.config.ticketCommands.queue, (m) => this.handleTicketCommand(m)));

  /** One message of the `ticket-commands` queue. */
  readonly handleTicketCommand = async (message: { messageId: string; body: unknown }): Promise<void> =>
    handleTicketCommand(
      { tickets: await this.tickets(), publisher: await this.commandPublisher(), log: (line) => console.log(line) },
      message,
    );

  /** The `notifications` queue: requester emails and the apps' webhook events (shared/notifications/). */
  readonly notificationPublisher = once(() => this.queuePublisher(this.config.notifications.queue, (m) => this.handleNotification(m)));

  /** Where the requester emails go: Communication Services when EMAIL_ENDPOINT is set, else the local host's .eml files. */
  private readonly emailSender = once(async (): Promise<EmailSender> => {
    const { notifications, managedIdentityClientId } = this.config;
    if (!notifications.email) return (await this.standIn("EMAIL_ENDPOINT")).mail();
    const { communicationEmailSender } = await import("../adapters/email/communication-email.js");
    return communicationEmailSender({ ...notifications.email, managedIdentityClientId });
  });

  /** One message of the `notifications` queue. */
  readonly handleNotification = async (message: { messageId: string; body: unknown }): Promise<void> => {
    const [stores, tickets] = await Promise.all([this.stores(), this.tickets()]);
    const { notifications, escalation } = this.config;
    const template = escalation.ticketUrlTemplate ?? `${this.options.ownUrl?.() ?? FUNC_START_URL}/tickets/{id}`;
    return handleNotification(
      {
        emails: await this.emailSender(),
        records: {
          done: async (ticketId, recordId) => (await stores.tickets.record(ticketId, recordId, RecordThere)) !== null,
          sent: (ticketId, recordId) => stores.tickets.putRecord(ticketId, { id: recordId, type: "email", ttl: EMAIL_RECORD_TTL_SECONDS }),
          refused: (ticketId, refused, recordId, requestId) => tickets.emailRefused(ticketId, refused, recordId, requestId),
        },
        preferences: stores.preferences,
        webhooks: await this.subscriptions(),
        post: (request) => postJson({ channel: "app webhook", ...request }),
        publisher: await this.notificationPublisher(),
        ticketUrl: (ticket) => ticketLink(template, ticket),
        settings: { retrySeconds: notifications.retrySeconds, maxRetries: notifications.maxRetries },
        now: this.now,
        log: (line) => console.log(line),
      },
      message,
    );
  };

  async dispatcher(): Promise<Dispatcher> {
    return new Dispatcher((await this.stores()).tickets, {
      escalations: await this.publisher(),
      "ticket-timers": await this.timerPublisher(),
      "ticket-commands": await this.commandPublisher(),
      notifications: await this.notificationPublisher(),
    });
  }

  readonly notifier = once(async (): Promise<Notifier> => {
    const { channels, skipped } = channelsFromConfig(this.config.alertChannels);
    for (const why of skipped) this.log(`alert channel off: ${why}`);
    if (this.options.standIns) channels.unshift(...(await this.loadedStandIns()).channels());
    // In Azure an escalation must reach someone: with no channel, fail, so messages dead-letter and alert.
    if (channels.length === 0) {
      throw new Error(
        "No alert channel is usable (ALERT_WEBHOOK_URL with ALERT_WEBHOOK_SECRET, TEAMS_WEBHOOK_URL, SLACK_WEBHOOK_URL or PAGERDUTY_ROUTING_KEY).",
      );
    }
    const stores = await this.stores();
    const { escalation } = this.config;
    return new Notifier({
      tickets: stores.tickets,
      deliveries: new Deliveries({ store: stores.tickets, timeline: await this.tickets(), hash: randomness.hash }),
      channels,
      publisher: await this.publisher(),
      settings: {
        ...escalation,
        ticketUrlTemplate: escalation.ticketUrlTemplate ?? `${this.options.ownUrl?.() ?? FUNC_START_URL}/tickets/{id}`,
      },
      now: this.now,
      log: (line) => console.log(line),
    });
  });

  /** The attachments' Blob Storage: the account ATTACHMENTS_ACCOUNT_URL names (managed identity), else the embedded Azurite. */
  private readonly attachmentBlobs = once(async (): Promise<AttachmentBlobs> => {
    const { attachments, managedIdentityClientId, cors } = this.config;
    const blob = await import("../adapters/blob/attachment-blobs.js");
    if (attachments.accountUrl)
      return blob.azureAttachmentBlobs({
        accountUrl: attachments.accountUrl,
        container: attachments.container,
        managedIdentityClientId,
        now: this.now,
      });
    const account = await (
      await this.standIn("ATTACHMENTS_ACCOUNT_URL")
    ).blob({ container: attachments.container, corsOrigins: cors.allowedOrigins });
    this.embeddedBlob = account;
    return blob.sharedKeyAttachmentBlobs({ ...account, container: attachments.container, now: this.now });
  });

  /** POST /api/tickets/{id}/attachments. */
  readonly upload = once(async () => {
    const stores = await this.stores();
    const deps = {
      tickets: stores.tickets,
      records: stores.attachments,
      blobs: await this.attachmentBlobs(),
      maxBytes: this.config.attachments.maxBytes,
      newId: newAttachmentId,
      now: this.now,
      hash: randomness.hash,
    };
    const upload: RequestUpload = (caller, ticketId, input) => requestUpload(deps, caller, ticketId, input);
    return upload;
  });

  /** The files a comment or an opening names, checked: the blob store is reached (and the embedded one started) only when one does. */
  private readonly attachments: AttachmentCheck = {
    prepare: async (caller, ticketId, ids, from) => (await this.attachCheck()).prepare(caller, ticketId, ids, from),
  };

  private readonly attachCheck = once(async () =>
    attachmentCheck({
      records: (await this.stores()).attachments,
      blobs: await this.attachmentBlobs(),
      maxBytes: this.config.attachments.maxBytes,
      newId: newAttachmentId,
      now: this.now,
      log: this.log,
      hash: randomness.hash,
    }),
  );

  /** GET and PUT /api/me/notifications. */
  readonly preferences = once(async () => preferenceUseCases((await this.stores()).preferences));

  /** The apps' subscriptions, kept a few seconds by this instance (every event reads them). */
  private readonly subscriptions = once(async () => keptSubscriptions((await this.stores()).webhooks, this.now));

  /** POST, GET and DELETE /api/webhooks. */
  readonly webhooks = once(async () =>
    webhookUseCases({ store: await this.subscriptions(), now: this.now, allowHttp: !this.config.insideAzure }),
  );

  /** GET /api/tickets/{id}/attachments/{attachmentId}. */
  readonly download = once(async () => {
    const [stores, tickets, writer] = await Promise.all([this.stores(), this.tickets(), this.writer()]);
    const deps = {
      ticket: (id: string) => writer.known(id),
      records: stores.attachments,
      blobs: await this.attachmentBlobs(),
      scanner: this.config.attachments.scanner,
      log: this.log,
      markMalicious: (ticketId: string, file: MaliciousFile, requestId: string) => tickets.markMalicious(ticketId, file, requestId),
      now: this.now,
    };
    const download: DownloadAttachment = (caller, ticketId, attachmentId, requestId) =>
      downloadAttachment(deps, caller, ticketId, attachmentId, requestId);
    return download;
  });

  /**
   * Uploads never attached, deleted after a day (shared/attachments/sweep.ts), where the blob
   * store is in use already: what the lifecycle rule does in Azure, for the local host.
   */
  async sweepUploads(): Promise<number> {
    const made = this.attachmentBlobs.made();
    return made ? sweepUploads(await made, this.now()) : 0;
  }

  routes(): HttpRoute[] {
    const { callerPoints, anonymousPoints, windowSeconds } = this.config.rateLimit;
    const http = {
      authenticate: rememberingAgents(this.authenticate, this.directory),
      corsOrigins: this.config.cors.allowedOrigins,
      limits: {
        caller: rateLimit({ name: "caller", points: callerPoints, windowSeconds }),
        anonymous: rateLimit({ name: "anonymous", points: anonymousPoints, windowSeconds }),
      },
    };
    return httpRoutes({
      http,
      tickets: this.tickets,
      directory: this.directory,
      slaPolicies: this.slaPolicies,
      upload: this.upload,
      download: this.download,
      preferences: this.preferences,
      webhooks: this.webhooks,
      pingStore: async () => (await this.stores()).tickets.ping(),
      now: this.now,
    });
  }

  async close(): Promise<void> {
    for (const publisher of [this.publisher, this.timerPublisher, this.commandPublisher, this.notificationPublisher])
      await (await publisher.made()?.catch(() => null))?.close();
    this.client?.dispose();
    await this.embedded?.close();
    await this.embeddedBlob?.close();
  }
}
