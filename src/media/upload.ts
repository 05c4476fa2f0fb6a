import { ApiError, badRequest } from '../errors.js';
import type { MediaStore, StagedMedia } from './media-store.js';
import { MAX_MEDIA_BYTES, SNIFF_BYTES, extensionOf, mediaTypeOf, type MediaKind, type MediaType } from './media-types.js';

/**
 * A file received with a request, staged until a message keeps it. A class rather than a plain
 * record: it sits among the request's parameters but is no value to compare (an idempotency
 * fingerprint sees it as `[MediaUpload]`, not as its random key).
 */
export class MediaUpload {
  constructor(
    readonly staged: StagedMedia,
    readonly type: MediaType,
    readonly filename: string,
  ) {}
}

function unsupportedFileType(extension: string): ApiError {
  return badRequest(`Unsupported file type: ${extension ? `.${extension}` : '(no extension)'}`);
}

/** The media type an extension names, or the contract's refusal. */
export function requireMediaType(extension: string): MediaType {
  const type = mediaTypeOf(extension);
  if (!type) throw unsupportedFileType(extension);
  return type;
}

function tooLarge(kind: MediaKind): ApiError {
  return new ApiError(413, `File too large: ${kind} files are limited to ${MAX_MEDIA_BYTES[kind] / (1024 * 1024)} MB`);
}

function checkContent(head: Uint8Array, type: MediaType): void {
  if (head.length === 0 || !type.matches(head)) throw badRequest(`File content does not match its extension: .${type.extension}`);
}

/**
 * Passes `content` through once its first bytes prove it is what `type` claims, and stops it when
 * it grows past its kind's limit. Nothing is passed on before the check, so a refused file is never
 * written anywhere.
 */
async function* checkedMedia(content: AsyncIterable<Uint8Array>, type: MediaType): AsyncGenerator<Uint8Array> {
  let head: Buffer | undefined = Buffer.alloc(0);
  let size = 0;
  for await (const chunk of content) {
    size += chunk.length;
    if (size > MAX_MEDIA_BYTES[type.kind]) throw tooLarge(type.kind);
    if (!head) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length >= SNIFF_BYTES) {
      checkContent(head.subarray(0, SNIFF_BYTES), type);
      yield head;
      head = undefined;
    }
  }
  if (head) {
    checkContent(head, type);
    yield head;
  }
}

/** Checks a file's name, content and size while staging it in the media store. */
export async function stageUpload(store: MediaStore, filename: string, content: AsyncIterable<Uint8Array>): Promise<MediaUpload> {
  const type = requireMediaType(extensionOf(filename));
  const staged = await store.stage(checkedMedia(content, type), type.extension);
  return new MediaUpload(staged, type, filename);
}
