import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryMediaStore } from './media-store.js';

async function* chunks(...parts: string[]) {
  for (const part of parts) yield Buffer.from(part);
}

async function* failingAfter(part: string) {
  yield Buffer.from(part);
  throw new Error('the client went away');
}

/** Every file under the store's directory, staging area included. */
const filesIn = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());

describe('DirectoryMediaStore', () => {
  let dir: string;
  let store: DirectoryMediaStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'openmumble-media-store-'));
    store = new DirectoryMediaStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a committed file under its key', async () => {
    const staged = await store.stage(chunks('hello ', 'world'), 'txt');
    expect(staged).toEqual({ key: expect.stringMatching(/^[0-9a-f-]{36}\.txt$/), size: 11 });
    await expect(store.open(staged.key)).rejects.toThrow();
    await store.commit(staged);
    expect(await text(await store.open(staged.key))).toBe('hello world');
    await store.discard(staged);
    expect(await text(await store.open(staged.key))).toBe('hello world');
  });

  it('drops a staged file that is discarded', async () => {
    const staged = await store.stage(chunks('draft'), 'txt');
    await store.discard(staged);
    expect(filesIn(dir)).toEqual([]);
    await expect(store.commit(staged)).rejects.toThrow();
  });

  it('leaves nothing behind when the content fails midway', async () => {
    await expect(store.stage(failingAfter('partial'), 'txt')).rejects.toThrow('the client went away');
    expect(filesIn(dir)).toEqual([]);
  });

  it('opens nothing but its own keys', async () => {
    await expect(store.open('../../etc/passwd')).rejects.toThrow('not a media key');
  });
});
