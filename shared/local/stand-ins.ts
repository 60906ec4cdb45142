import { join } from "node:path";
import type { StandIns } from "../app/composition.js";
import { systemScheduler, type Scheduler } from "../kernel/scheduler.js";
import { consoleChannel } from "./console-channel.js";
import type { EmbeddedBlob } from "./embedded-blob.js";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "./embedded-cosmos.js";
import { keepStore, type KeptStore, type KeptStoreOptions } from "./kept-store.js";
import { LocalQueue } from "./local-queue.js";
import { mailDrop } from "./mail-drop.js";

/**
 * What a host outside Azure uses where a setting is unset (see StandIns): the embedded
 * Cosmos DB endpoint, the in-process queue (its schedules and redeliveries on
 * `scheduler`), the console, which prints every alert, and the embedded Azurite for the
 * attachments' blobs. Not the development issuer: the local host turns that on itself
 * (shared/local/host.ts), and nothing else does.
 */
export interface LocalStandIns extends StandIns {
  /** The embedded endpoint, once started: the benchmarks count its requests. */
  embeddedCosmos(): EmbeddedCosmos | undefined;
  /** Where the embedded store is kept, once loaded; undefined while it lives in memory only. */
  keptStore(): KeptStore | undefined;
  /** Always here: the embedded Azurite (shared/local/embedded-blob.ts). */
  blob(options: Parameters<StandIns["blob"]>[0]): Promise<EmbeddedBlob>;
  /** The embedded Azurite, once started: where it listens and keeps its data. */
  embeddedBlob(): EmbeddedBlob | undefined;
  /** Where the embedded Azurite keeps its data; undefined while it lives in memory only. */
  readonly blobDir: string | undefined;
  /** Where the requester emails are written as .eml files (EMAIL_ENDPOINT unset). */
  readonly mailDir: string;
}

/**
 * `keep`: keep the embedded store in that file, and `blobDir`: Azurite's data in that directory
 * (the local host's LOCAL_STORE=file); `mailDir`: where the requester emails are written. Without them both live in memory only, as for
 * `func start`, the tests and the demo.
 */
export function localStandIns(
  scheduler: Scheduler = systemScheduler,
  keep?: KeptStoreOptions,
  blobDir?: string,
  mailDir = join(".local", "mail"),
): LocalStandIns {
  let embedded: EmbeddedCosmos | undefined;
  let kept: KeptStore | undefined;
  let blob: EmbeddedBlob | undefined;
  return {
    async cosmos() {
      const started = await startEmbeddedCosmos();
      embedded = started;
      if (!keep) return started;
      try {
        kept = await keepStore(started, keep);
      } catch (e) {
        await started.close();
        throw e;
      }
      const store = kept;
      return {
        endpoint: started.endpoint,
        // keepStore made the database and containers to load the file into.
        bootstrapped: keep.database,
        // The last changes are saved before the endpoint goes.
        close: async () => {
          try {
            await store.close();
          } finally {
            await started.close();
          }
        },
      };
    },
    // The same contract as the Service Bus queue: duplicate detection, schedules, redelivery, dead letters.
    queue: (handler) => new LocalQueue(handler, { maxDeliveryCount: 10, retryDelayMs: 100, log: (line) => console.error(line), scheduler }),
    channels: () => [consoleChannel((line) => console.log(line))],
    // The requester emails as .eml files, each announced in one log line: open one in a mail client to see it.
    mail: () => mailDrop({ dir: mailDir, log: (line) => console.log(line) }),
    // Loaded only when a feature needs it: Azurite and the storage SDK are not small.
    async blob(options) {
      const { startEmbeddedBlob } = await import("./embedded-blob.js");
      blob = await startEmbeddedBlob({ ...options, dir: blobDir });
      return blob;
    },
    embeddedCosmos: () => embedded,
    embeddedBlob: () => blob,
    blobDir,
    mailDir,
    keptStore: () => kept,
  };
}
