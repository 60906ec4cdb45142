import { createHash, randomBytes, randomInt } from "node:crypto";
import type { CosmosClient } from "@azure/cosmos";
import { isInsideAzure, type Settings } from "./config/settings.js";
import { devTrust } from "./identity/dev-issuer.js";
import { remoteKeys, verifyBearer, type IssuerTrust } from "./identity/verify.js";
import { bootstrapCosmos, connectCosmos, ticketsContainer } from "./store/cosmos/connect.js";
import type { EmbeddedCosmos } from "./store/cosmos/embedded.js";
import { toStoreError } from "./store/cosmos/errors.js";
import { CosmosTicketStore } from "./store/cosmos/ticket-store.js";
import type { Channel } from "./escalation/alert.js";
import { Dispatcher, isUnsentOutbox, type OutboxStore } from "./escalation/dispatcher.js";
import { LocalQueue } from "./escalation/local-queue.js";
import { Notifier } from "./escalation/notifier.js";
import { outboxFor, type OutboxEntry } from "./escalation/outbox.js";
import type { Publisher } from "./escalation/publisher.js";
import type { ServiceBusConsumer } from "./escalation/servicebus-consumer.js";
import type { Principal } from "./tickets/model.js";
import type { TicketStore } from "./tickets/ports.js";
import { TicketService } from "./tickets/service.js";

type Store = TicketStore & OutboxStore;

const hash = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * The one composition root: settings in, clients and use cases out, each built
 * once per process on first use, so a cold start pays only for what the invoked
 * function needs (openapi.json never touches the store's client; a trigger never
 * builds the token verifier).
 */
export class App {
  private storePromise?: Promise<Store>;
  private publisherPromise?: Promise<Publisher>;
  private notifierPromise?: Promise<Notifier>;
  private consumer?: ServiceBusConsumer;
  /** Called with the outbox entries of every committed change (the local host dispatches them at once). */
  onOutbox?: (entries: OutboxEntry[]) => void;
  private service?: TicketService;
  private trustPromise?: Promise<IssuerTrust>;
  private embedded?: EmbeddedCosmos;
  private client?: CosmosClient;

  constructor(readonly settings: Settings) {}

  /** Where the store is: the configured account, or the embedded endpoint off Azure. */
  describeStore(): string {
    if (this.settings.COSMOS_ENDPOINT) return `Cosmos DB at ${this.settings.COSMOS_ENDPOINT}`;
    return this.embedded ? `embedded Cosmos DB endpoint at ${this.embedded.endpoint} (in memory)` : "embedded Cosmos DB endpoint (in memory)";
  }

  describeIdentity(): string {
    // loadSettings makes the three AUTH_ settings all or none.
    return this.settings.AUTH_JWKS_URI ? `tokens from ${this.settings.AUTH_ISSUER}` : "tokens from the development issuer (npm run token)";
  }

  /** Requests the embedded endpoint has received, or null against a real account. */
  storeRequests(): number | null {
    return this.embedded ? this.embedded.requests() : null;
  }

  store(): Promise<Store> {
    // A failed connection is not cached: the next request tries again.
    this.storePromise ??= this.connectStore().catch((e: unknown) => {
      this.storePromise = undefined;
      throw toStoreError(e);
    });
    return this.storePromise;
  }

  async tickets(): Promise<TicketService> {
    const store = await this.store();
    this.service ??= new TicketService({
      store,
      now: () => new Date(),
      randomNumber: () => String(randomInt(10_000_000, 100_000_000)),
      randomHex: () => randomBytes(16).toString("hex"),
      hash,
      sideDocuments: (change, requestId) => outboxFor(change, requestId),
      onCommitted: (side) => this.onOutbox?.(side.filter(isUnsentOutbox)),
    });
    return this.service;
  }

  describeQueue(): string {
    const { SERVICE_BUS_NAMESPACE, SERVICE_BUS_CONNECTION_STRING, ESCALATION_QUEUE_NAME } = this.settings;
    if (SERVICE_BUS_NAMESPACE) return `Service Bus queue ${ESCALATION_QUEUE_NAME} on ${SERVICE_BUS_NAMESPACE} (its notifyOps function consumes it)`;
    if (SERVICE_BUS_CONNECTION_STRING) return `Service Bus queue ${ESCALATION_QUEUE_NAME} (connection string: emulator or test broker); this host consumes it`;
    return "in-process queue (escalations run in this process)";
  }

  /**
   * With an emulator or test broker (a connection string), nothing else runs the
   * notifier: the local host consumes the queue itself. Never a namespace's queue:
   * there the deployed `notifyOps` function consumes it, and a developer's host would
   * take alerts from it (and deliver them to its console). Returns once subscribed;
   * the SDK connects, and reconnects, in the background.
   */
  async startQueueConsumer(): Promise<void> {
    const s = this.settings;
    if (!s.SERVICE_BUS_CONNECTION_STRING || s.SERVICE_BUS_NAMESPACE || isInsideAzure() || this.consumer) return;
    const { serviceBusConsumerFromSettings } = await import("./escalation/servicebus-consumer.js");
    const consumer = await serviceBusConsumerFromSettings(s, (m) => this.notifier().then((n) => n.handle(m)));
    this.consumer = consumer;
    await consumer.start();
  }

  /** The `escalations` queue: Service Bus when configured, else the in-process queue. */
  publisher(): Promise<Publisher> {
    this.publisherPromise ??= this.makePublisher();
    return this.publisherPromise;
  }

  private async makePublisher(): Promise<Publisher> {
    const s = this.settings;
    if (s.SERVICE_BUS_NAMESPACE || s.SERVICE_BUS_CONNECTION_STRING) {
      const { serviceBusPublisherFromSettings } = await import("./escalation/servicebus-publisher.js");
      return serviceBusPublisherFromSettings(s);
    }
    if (isInsideAzure()) throw new Error("SERVICE_BUS_NAMESPACE is required in Azure.");
    // The same contract as the Service Bus queue: duplicate detection, schedules, redelivery, dead letters.
    return new LocalQueue(async (m) => (await this.notifier()).handle({ messageId: m.messageId, body: m.body }), {
      maxDeliveryCount: 10,
      retryDelayMs: 100,
      log: (line) => console.error(line),
    });
  }

  async dispatcher(): Promise<Dispatcher> {
    return new Dispatcher(await this.store(), await this.publisher());
  }

  notifier(): Promise<Notifier> {
    this.notifierPromise ??= (async () => {
      const s = this.settings;
      const { channelsFromSettings } = await import("./escalation/channels/index.js");
      const channels: Channel[] = channelsFromSettings(s);
      // In Azure an escalation must reach someone: with no channel, fail, so messages dead-letter and alert.
      if (isInsideAzure() && channels.length === 0) {
        throw new Error("No alert channel is configured (ALERT_WEBHOOK_URL, TEAMS_WEBHOOK_URL, SLACK_WEBHOOK_URL or PAGERDUTY_ROUTING_KEY).");
      }
      if (!isInsideAzure()) {
        const { consoleChannel } = await import("./escalation/console-channel.js");
        channels.unshift(consoleChannel((line) => console.log(line)));
      }
      return new Notifier({
        tickets: await this.tickets(),
        store: await this.store(),
        channels,
        publisher: await this.publisher(),
        settings: {
          ackTimeoutSeconds: s.ESCALATION_ACK_TIMEOUT_SECONDS,
          maxRepages: s.ESCALATION_MAX_REPAGES,
          ticketUrlTemplate: s.TICKET_URL_TEMPLATE,
          retrySeconds: s.ESCALATION_RETRY_SECONDS,
          maxRetries: s.ESCALATION_MAX_RETRIES,
        },
        log: (line) => console.log(line),
      });
    })().catch((e: unknown) => {
      this.notifierPromise = undefined;
      throw e;
    });
    return this.notifierPromise;
  }

  /** Verifies the token, then makes a first-time agent known to GET /api/agents. */
  async authenticate(authorization: string | null): Promise<Principal> {
    // A failure to set up trust is not kept: the next request tries again.
    this.trustPromise ??= this.trust().catch((e: unknown) => {
      this.trustPromise = undefined;
      throw e;
    });
    const principal = await verifyBearer(authorization, await this.trustPromise);
    await (await this.tickets()).recordAgent(principal);
    return principal;
  }

  async close(): Promise<void> {
    // The consumer first: the handlers it lets finish still publish re-pages and write to the store.
    await this.consumer?.close();
    if (this.publisherPromise) await (await this.publisherPromise.catch(() => null))?.close();
    this.client?.dispose();
    await this.embedded?.close();
  }

  private async trust(): Promise<IssuerTrust> {
    const { AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI, LOCAL_DIR } = this.settings;
    if (AUTH_ISSUER && AUTH_AUDIENCE && AUTH_JWKS_URI) {
      return { issuer: AUTH_ISSUER, audience: AUTH_AUDIENCE, keys: remoteKeys(AUTH_JWKS_URI) };
    }
    return devTrust(LOCAL_DIR); // refuses inside Azure
  }

  private async connectStore(): Promise<Store> {
    const s = this.settings;
    let endpoint = s.COSMOS_ENDPOINT;
    let key = s.COSMOS_KEY;
    if (!endpoint) {
      if (isInsideAzure()) throw new Error("COSMOS_ENDPOINT is required in Azure.");
      // Loaded on demand: the Azure bundle never runs the embedded endpoint.
      const { startEmbeddedCosmos } = await import("./store/cosmos/embedded.js");
      this.embedded = await startEmbeddedCosmos();
      endpoint = this.embedded.endpoint;
      key = "embedded"; // the embedded endpoint checks no key
    }
    try {
      this.client = await connectCosmos({ endpoint, key, managedIdentityClientId: s.AZURE_CLIENT_ID, database: s.COSMOS_DATABASE_NAME });
      // In Azure, infra/ owns the database and containers; elsewhere nothing else creates them.
      if (!isInsideAzure()) await bootstrapCosmos(this.client, s.COSMOS_DATABASE_NAME);
      return new CosmosTicketStore(ticketsContainer(this.client, s.COSMOS_DATABASE_NAME));
    } catch (e) {
      // The next request connects afresh: release what this attempt opened.
      this.client?.dispose();
      this.client = undefined;
      await this.embedded?.close();
      this.embedded = undefined;
      throw e;
    }
  }
}
