import { open, rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Replaces `path` with `data` so that, whenever the process or the machine stops, the file
 * is either the old one or the new one, whole: the data goes to a temporary file in the
 * same directory (a rename is atomic only within one file system), is flushed to the disk
 * (fsync), then renamed over the old file, and the directory is flushed so the rename
 * itself survives a power cut. A crash before the rename leaves the temporary file behind;
 * the next save overwrites it, and nothing reads it.
 */
export async function replaceFile(path: string, data: string | Uint8Array): Promise<void> {
  const temp = temporaryPathOf(path);
  const file = await open(temp, "w", 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

/** Where replaceFile writes before the rename: beside the file, hidden. */
export function temporaryPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (e) {
    // Windows cannot open or flush a directory; there the rename is as durable as it gets.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EACCES") throw e;
  } finally {
    await handle?.close();
  }
}
