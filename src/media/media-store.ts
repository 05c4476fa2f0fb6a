import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Database } from '../db/database.js';
import { newId } from '../ids.js';

/** A file written to the staging area: invisible until committed, removed when discarded. */
export interface StagedMedia {
  key: string;
  size: number;
}

/**
 * Where uploaded and downloaded media files live. Two steps, so a request that fails after its
 * upload leaves nothing behind: `stage` while the bytes arrive, `commit` once a message keeps them.
 * A directory now; object storage can implement the same interface.
 */
export interface MediaStore {
  /** Writes `content` under a new key with this extension. When `content` throws, nothing is left and the error is rethrown. */
  stage(content: AsyncIterable<Uint8Array>, extension: string): Promise<StagedMedia>;
  /** Keeps a staged file for good. */
  commit(staged: StagedMedia): Promise<void>;
  /** Removes a staged file unless it was committed. */
  discard(staged: StagedMedia): Promise<void>;
  /** Reads a committed file. */
  open(key: string): Promise<Readable>;
  /** Removes a committed file (gone already is fine). */
  remove(key: string): Promise<void>;
}

const KEY = /^[0-9a-f-]{36}\.[a-z0-9]{1,8}$/;

function checkedKey(key: string): string {
  // Keys are ours, but a key read back from the database never gets to name another path.
  if (!KEY.test(key)) throw new Error(`not a media key: ${key}`);
  return key;
}

/** Files in `<dir>/<key>`, staged in `<dir>/.staging/<key>` (same file system, so commit is a rename). */
export class DirectoryMediaStore implements MediaStore {
  private readonly dir: string;
  private readonly staging: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.staging = join(this.dir, '.staging');
  }

  async stage(content: AsyncIterable<Uint8Array>, extension: string): Promise<StagedMedia> {
    const key = checkedKey(`${newId()}.${extension}`);
    const path = join(this.staging, key);
    await mkdir(this.staging, { recursive: true });
    let size = 0;
    const counted = async function* () {
      for await (const chunk of content) {
        size += chunk.length;
        yield chunk;
      }
    };
    const file = createWriteStream(path, { flags: 'wx' });
    try {
      await pipeline(Readable.from(counted()), file);
    } catch (error) {
      // Content refused at its first chunk fails the pipeline while the file may still be opening: it
      // would be created after the rm below. Remove it once the stream has let go of it.
      if (!file.closed) await new Promise<void>((closed) => file.once('close', () => closed()));
      await rm(path, { force: true });
      throw error;
    }
    return { key, size };
  }

  async commit(staged: StagedMedia): Promise<void> {
    await rename(join(this.staging, checkedKey(staged.key)), join(this.dir, staged.key));
  }

  async discard(staged: StagedMedia): Promise<void> {
    await rm(join(this.staging, checkedKey(staged.key)), { force: true });
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.dir, checkedKey(key)), { force: true });
  }

  async open(key: string): Promise<Readable> {
    const stream = createReadStream(join(this.dir, checkedKey(key)));
    await new Promise<void>((ready, fail) => stream.once('open', () => ready()).once('error', fail));
    return stream;
  }
}

/**
 * Removes files whose rows a committed change deleted (or unlinked), once that change is durable: a
 * file goes only when no row that a crash could bring back still names it.
 */
export async function removeUnreferencedFiles(database: Pick<Database, 'durable'>, media: MediaStore, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await database.durable();
  for (const key of keys) await media.remove(key);
}
