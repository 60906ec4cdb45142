import { readFile } from "node:fs/promises";
import * as z from "zod";
import type { DatabaseSnapshot } from "../adapters/cosmos/snapshot.js";
import { replaceFile } from "./atomic-file.js";

/**
 * The file the local host keeps its embedded store in (LOCAL_DIR/store.json): a snapshot of
 * the database as JSON, one document per line so that it reads and diffs as text. Written
 * whole and atomically (atomic-file.ts); read and checked whole before anything is loaded.
 */
export const STORE_FILE_NAME = "store.json";

const FORMAT = "helpdesk-local-store";

const StoreFile = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  takenAt: z.iso.datetime(),
  containers: z.array(
    z.object({
      id: z.string().min(1),
      partitionKey: z.string().startsWith("/"),
      documents: z.array(z.looseObject({ id: z.string().min(1) })),
    }),
  ),
});

/** A store file that exists but cannot be loaded: the host refuses to start over it (see readStoreFile). */
export class StoreFileError extends Error {
  override name = "StoreFileError";
}

/**
 * The snapshot in `path`, or null when there is none yet. A file that cannot be read or is
 * not a whole store file throws StoreFileError naming it: starting empty would hide the
 * developer's data, and the next save would overwrite it.
 */
export async function readStoreFile(path: string): Promise<DatabaseSnapshot | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw unreadable(path, (e as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw unreadable(path, `not JSON: ${(e as Error).message}`);
  }
  const parsed = StoreFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw unreadable(path, `not a store file this version reads: ${issue.path.join(".") || "(top)"}: ${issue.message}`);
  }
  const { takenAt, containers } = parsed.data;
  // Parsed from JSON: every value in a document is a JSON value.
  return { takenAt, containers: containers as DatabaseSnapshot["containers"] };
}

function unreadable(path: string, why: string): StoreFileError {
  return new StoreFileError(
    `The local store file ${path} cannot be loaded (${why}). The host did not start, so as not to start empty over it: ` +
      `move the file aside (or delete it) to start with an empty store, or set LOCAL_STORE=memory.`,
  );
}

/** Writes the snapshot to `path` atomically; returns the file's size in bytes. */
export async function writeStoreFile(path: string, snapshot: DatabaseSnapshot): Promise<number> {
  const data = Buffer.from(storeFileText(snapshot), "utf8");
  await replaceFile(path, data);
  return data.length;
}

function storeFileText({ takenAt, containers }: DatabaseSnapshot): string {
  const parts = containers.map(({ id, partitionKey, documents }) => {
    const head = `{"id":${JSON.stringify(id)},"partitionKey":${JSON.stringify(partitionKey)},"documents":[`;
    return documents.length ? `${head}\n${documents.map((d) => JSON.stringify(d)).join(",\n")}\n]}` : `${head}]}`;
  });
  return `{"format":"${FORMAT}","version":1,"takenAt":${JSON.stringify(takenAt)},"containers":[\n${parts.join(",\n")}\n]}\n`;
}
