import { extensionOf } from './media-types.js';

/** A link WhatsApp can fetch: an absolute http(s) URL with a host and no credentials. */
export function isMediaLink(link: string): boolean {
  if (link.length > 2048 || !URL.canParse(link)) return false;
  const url = new URL(link);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' && url.username === '' && url.password === '';
}

/** The extension of a valid link's path, else of `filename` (for links whose path has none). */
export function linkExtension(link: string, filename?: string | null): string {
  return extensionOf(new URL(link).pathname) || extensionOf(filename ?? '');
}

/** The contract's refusal of a media link (a send's `media_url`, a template's header sample). */
export const MEDIA_LINK_INVALID = 'Media link is not valid';
