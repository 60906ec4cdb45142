import type { StandIns } from "../app/composition.js";
import { systemScheduler, type Scheduler } from "../kernel/scheduler.js";
import { consoleChannel } from "./console-channel.js";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "./embedded-cosmos.js";
import { LocalQueue } from "./local-queue.js";

/**
 * What a host outside Azure uses where a setting is unset (see StandIns): the embedded
 * Cosmos DB endpoint, the in-process queue (its schedules and redeliveries on
 * `scheduler`), and the console, which prints every alert. Not the development issuer:
 * the local host turns that on itself (shared/local/host.ts), and nothing else does.
 */
export interface LocalStandIns extends StandIns {
  /** The embedded endpoint, once started: the benchmarks count its requests. */
  embeddedCosmos(): EmbeddedCosmos | undefined;
}

export function localStandIns(scheduler: Scheduler = systemScheduler): LocalStandIns {
  let embedded: EmbeddedCosmos | undefined;
  return {
    async cosmos() {
      embedded = await startEmbeddedCosmos();
      return embedded;
    },
    // The same contract as the Service Bus queue: duplicate detection, schedules, redelivery, dead letters.
    queue: (handler) => new LocalQueue(handler, { maxDeliveryCount: 10, retryDelayMs: 100, log: (line) => console.error(line), scheduler }),
    channels: () => [consoleChannel((line) => console.log(line))],
    embeddedCosmos: () => embedded,
  };
}
