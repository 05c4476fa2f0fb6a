import { z } from 'zod';

/**
 * Opaque cursors for keyset pagination: a page's last position (its sort key) as base64url JSON. A
 * client passes it back unchanged; its shape is ours to change.
 */

export const INVALID_CURSOR = 'Invalid cursor';

export function encodeCursor(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decoded(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A query parameter holding a cursor of `position`'s shape; anything else is `Invalid cursor`. */
export function cursorParam<Position extends z.ZodType>(position: Position) {
  return z
    .string()
    .max(512, INVALID_CURSOR)
    .transform((text, ctx): z.output<Position> => {
      const result = position.safeParse(decoded(text));
      if (!result.success) {
        ctx.addIssue({ code: 'custom', message: INVALID_CURSOR });
        return z.NEVER;
      }
      return result.data;
    })
    .meta({ description: 'The `next_cursor` of the previous page, as it was given' });
}
