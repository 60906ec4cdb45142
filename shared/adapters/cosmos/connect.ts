import { azureCredential } from "../identity/azure-credential.js";
import { CosmosClient, type Container } from "@azure/cosmos";
import indexingPolicy from "./indexing-policy.json" with { type: "json" };
import { LEASES_CONTAINER, TICKETS_CONTAINER } from "./names.js";
import { queryPlanPlugin } from "./query-plans.js";

/** The key of the embedded endpoint (shared/local/embedded-cosmos.ts), which checks none: its clients sign nothing. */
export const EMBEDDED_KEY = "embedded";

/**
 * Builds the Cosmos DB client. In Azure: the managed identity (local auth is off
 * on the account). Against the emulator: its key. Against the embedded endpoint:
 * EMBEDDED_KEY, since it does not check.
 */
export interface CosmosTarget {
  endpoint: string;
  key?: string | undefined;
  managedIdentityClientId?: string | undefined;
  /** How long one request may take (default 10 s): the local store's whole-container reads need longer. */
  requestTimeoutMs?: number;
}

export async function connectCosmos(target: CosmosTarget): Promise<CosmosClient> {
  const common = {
    endpoint: target.endpoint,
    // Fail over to our 503 quickly rather than hold a serverless request for 30 s.
    connectionPolicy: {
      enableEndpointDiscovery: false,
      requestTimeout: target.requestTimeoutMs ?? 10_000,
      retryOptions: { maxRetryAttemptCount: 3, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 5 },
    },
    // A client option the SDK keeps out of its typings (@hidden) but reads (ClientContext):
    // query-plans.ts says why, and test/integration/query-plans.test.ts that it still works.
    plugins: [queryPlanPlugin()],
  };
  // What the embedded endpoint does not check, the client does not sign: an HMAC of every
  // request was about 2% of the local host's CPU per create.
  if (target.key === EMBEDDED_KEY) return new CosmosClient({ ...common, tokenProvider: async () => EMBEDDED_KEY });
  if (target.key) return new CosmosClient({ ...common, key: target.key });
  return new CosmosClient({ ...common, aadCredentials: await azureCredential(target.managedIdentityClientId) });
}

export function ticketsContainer(client: CosmosClient, database: string): Container {
  return client.database(database).container(TICKETS_CONTAINER);
}

/**
 * Creates the database and containers where nothing else does: the embedded endpoint, the
 * emulator, or an account the local host is pointed at (whose caller may have no right to
 * create anything: reading what is there is enough). In Azure, infra/ owns them (same
 * indexing policy file). By default each is read, and created only when missing.
 * `fresh`: the endpoint has just started, empty, as the embedded one has at every local start.
 * Each is then created outright, one round trip where reading first took two, and a 409 means it
 * was there after all. That saves three round trips, each running cold code, from the start.
 */
export async function bootstrapCosmos(client: CosmosClient, database: string, { fresh = false }: { fresh?: boolean } = {}): Promise<void> {
  const ensure = async <B>(resources: { create(body: B): Promise<unknown>; createIfNotExists(body: B): Promise<unknown> }, body: B) => {
    if (!fresh) return void (await resources.createIfNotExists(body));
    try {
      await resources.create(body);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 409) throw e;
    }
  };
  await ensure(client.databases, { id: database });
  const db = client.database(database);
  await ensure(db.containers, {
    id: TICKETS_CONTAINER,
    partitionKey: { paths: ["/ticketId"] },
    indexingPolicy: indexingPolicy as never,
    defaultTtl: -1,
  });
  await ensure(db.containers, { id: LEASES_CONTAINER, partitionKey: { paths: ["/id"] } });
}
