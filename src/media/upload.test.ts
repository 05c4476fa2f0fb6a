import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mediaSample } from '../../test/media-samples.js';
import { ApiError } from '../errors.js';
import { DirectoryMediaStore } from './media-store.js';
import { MAX_MEDIA_BYTES } from './media-types.js';
import { stageUpload } from './upload.js';

/** The content in chunks of `size` bytes, as a request streams it. */
async function* inChunks(content: Buffer, size: number) {
  for (let offset = 0; offset < content.length; offset += size) yield content.subarray(offset, offset + size);
}

async function refusal(promise: Promise<unknown>): Promise<[number, string]> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ApiError);
  return [(error as ApiError).statusCode, (error as ApiError).message];
}

describe('stageUpload', () => {
  let dir: string;
  let store: DirectoryMediaStore;
  const stored = () => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'openmumble-upload-'));
    store = new DirectoryMediaStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stages a file that is what its name says, whatever its chunking', async () => {
    const content = mediaSample('pdf', 10_000);
    const upload = await stageUpload(store, 'Invoice.PDF', inChunks(content, 7));
    expect(upload).toMatchObject({ filename: 'Invoice.PDF', type: { extension: 'pdf', kind: 'document', mimeType: 'application/pdf' }, staged: { size: 10_000 } });
  });

  it('refuses an extension WhatsApp does not take', async () => {
    expect(await refusal(stageUpload(store, 'setup.exe', inChunks(mediaSample('pdf'), 64)))).toEqual([400, 'Unsupported file type: .exe']);
    expect(await refusal(stageUpload(store, 'README', inChunks(mediaSample('txt'), 64)))).toEqual([400, 'Unsupported file type: (no extension)']);
    expect(stored()).toEqual([]);
  });

  it('refuses content that is not what the extension claims, storing nothing', async () => {
    expect(await refusal(stageUpload(store, 'photo.png', inChunks(mediaSample('pdf', 50_000), 1000)))).toEqual([
      400,
      'File content does not match its extension: .png',
    ]);
    expect(await refusal(stageUpload(store, 'empty.txt', inChunks(Buffer.alloc(0), 1)))).toEqual([400, 'File content does not match its extension: .txt']);
    expect(stored()).toEqual([]);
  });

  it("refuses a file over its media kind's limit, storing nothing", async () => {
    const image = mediaSample('jpg', MAX_MEDIA_BYTES.image + 1);
    expect(await refusal(stageUpload(store, 'big.jpg', inChunks(image, 64 * 1024)))).toEqual([413, 'File too large: image files are limited to 5 MB']);
    expect(stored()).toEqual([]);
    // The same size is fine for a video.
    await stageUpload(store, 'clip.mp4', inChunks(mediaSample('mp4', MAX_MEDIA_BYTES.image + 1), 64 * 1024));
  });
});
