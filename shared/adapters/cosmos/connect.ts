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
 * Creates the database and containers where nothing else does: the embedded
 * endpoint and the emulator. In Azure, infra/ owns them (same indexing policy file).
 * Each is created outright, one round trip, and a 409 means it was there already:
 * createIfNotExists reads first and then creates, two round trips for each on a
 * fresh endpoint, which every local start is (three saved, each running cold code).
 */
export async function bootstrapCosmos(client: CosmosClient, database: string): Promise<void> {
  await exists(client.databases.create({ id: database }));
  const db = client.database(database);
  await exists(
    db.containers.create({
      id: TICKETS_CONTAINER,
      partitionKey: { paths: ["/ticketId"] },
      indexingPolicy: indexingPolicy as never,
      defaultTtl: -1,
    }),
  );
  await exists(db.containers.create({ id: LEASES_CONTAINER, partitionKey: { paths: ["/id"] } }));
}

/** Resolves once what `create` makes exists, made now or before (409). */
async function exists(create: Promise<unknown>): Promise<void> {
  try {
    await create;
  } catch (e) {
    if ((e as { code?: unknown }).code !== 409) throw e;
  }
}
