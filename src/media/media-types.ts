/** WhatsApp's media kinds, each with its own size limit. */
export type MediaKind = 'image' | 'video' | 'audio' | 'document';

const MB = 1024 * 1024;

export const MAX_MEDIA_BYTES: Record<MediaKind, number> = {
  image: 5 * MB,
  video: 16 * MB,
  audio: 16 * MB,
  document: 100 * MB,
};

export interface MediaType {
  extension: string;
  kind: MediaKind;
  mimeType: string;
  /** Whether a file's first bytes (up to SNIFF_BYTES of them) are what this type's files start with. */
  matches(head: Uint8Array): boolean;
}

/** How much of a file `matches` looks at: enough for every signature, and for telling text from binary. */
export const SNIFF_BYTES = 4096;

const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));

/** `signature` at `offset`; null entries match any byte. */
function startsWith(head: Uint8Array, signature: Array<number | null>, offset = 0): boolean {
  return head.length >= offset + signature.length && signature.every((byte, i) => byte === null || head[offset + i] === byte);
}

const riff = (form: string) => (head: Uint8Array) => startsWith(head, ascii('RIFF')) && startsWith(head, ascii(form), 8);
/** ISO base media files (mp4, m4a, mov) start with a box whose type is at offset 4. */
const isoBox = (...types: string[]) => (head: Uint8Array) => types.some((type) => startsWith(head, ascii(type), 4));
const oleCompound = (head: Uint8Array) => startsWith(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
/** Office Open XML files are zip archives. */
const zip = (head: Uint8Array) => startsWith(head, ascii('PK\x03\x04'));
const ogg = (head: Uint8Array) => startsWith(head, ascii('OggS'));
/** An ID3 tag, or an MPEG audio frame sync (11 set bits). */
const mp3 = (head: Uint8Array) => startsWith(head, ascii('ID3')) || (head.length >= 2 && head[0] === 0xff && (head[1] & 0xe0) === 0xe0);

/** Plain text: no NUL byte, and valid UTF-8 (a character cut off at the end of the sample is fine). */
function isText(head: Uint8Array): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

const TYPES: MediaType[] = [
  { extension: 'jpg', kind: 'image', mimeType: 'image/jpeg', matches: (h) => startsWith(h, [0xff, 0xd8, 0xff]) },
  { extension: 'jpeg', kind: 'image', mimeType: 'image/jpeg', matches: (h) => startsWith(h, [0xff, 0xd8, 0xff]) },
  { extension: 'png', kind: 'image', mimeType: 'image/png', matches: (h) => startsWith(h, [0x89, ...ascii('PNG\r\n\x1a\n')]) },
  { extension: 'webp', kind: 'image', mimeType: 'image/webp', matches: riff('WEBP') },
  { extension: 'mp4', kind: 'video', mimeType: 'video/mp4', matches: isoBox('ftyp') },
  { extension: 'mov', kind: 'video', mimeType: 'video/quicktime', matches: isoBox('ftyp', 'moov', 'mdat', 'wide', 'free', 'skip', 'pnot') },
  { extension: 'mp3', kind: 'audio', mimeType: 'audio/mpeg', matches: mp3 },
  { extension: 'ogg', kind: 'audio', mimeType: 'audio/ogg', matches: ogg },
  { extension: 'opus', kind: 'audio', mimeType: 'audio/ogg', matches: ogg },
  { extension: 'm4a', kind: 'audio', mimeType: 'audio/mp4', matches: isoBox('ftyp') },
  { extension: 'wav', kind: 'audio', mimeType: 'audio/wav', matches: riff('WAVE') },
  { extension: 'pdf', kind: 'document', mimeType: 'application/pdf', matches: (h) => startsWith(h, ascii('%PDF-')) },
  { extension: 'doc', kind: 'document', mimeType: 'application/msword', matches: oleCompound },
  { extension: 'docx', kind: 'document', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', matches: zip },
  { extension: 'xls', kind: 'document', mimeType: 'application/vnd.ms-excel', matches: oleCompound },
  { extension: 'xlsx', kind: 'document', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', matches: zip },
  { extension: 'ppt', kind: 'document', mimeType: 'application/vnd.ms-powerpoint', matches: oleCompound },
  { extension: 'pptx', kind: 'document', mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', matches: zip },
  { extension: 'txt', kind: 'document', mimeType: 'text/plain', matches: isText },
];

const BY_EXTENSION = new Map(TYPES.map((type) => [type.extension, type]));

/** The contract's accepted extensions, exactly. */
export const MEDIA_EXTENSIONS = TYPES.map((type) => type.extension);

/** The media type of an extension (any case), or undefined when WhatsApp media cannot be one. */
export function mediaTypeOf(extension: string): MediaType | undefined {
  return BY_EXTENSION.get(extension.toLowerCase());
}

/** The lower-cased extension of a file name or URL path (`photo.JPG` → `jpg`), '' when it has none. */
export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 && dot < base.length - 1 ? base.slice(dot + 1).toLowerCase() : '';
}
