import type { Readable } from 'node:stream';

/** A stream that went on past the bytes its reader allows. */
export class TooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`larger than ${limit} bytes`);
    this.name = 'TooLargeError';
  }
}

/** The whole stream, refused (and destroyed) as soon as it passes `limit` bytes. */
export async function readAtMost(stream: AsyncIterable<Uint8Array> & Pick<Readable, 'destroy'>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      throw new TooLargeError(limit);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
