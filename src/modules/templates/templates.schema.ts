import { z } from 'zod';
import type { TemplateHeaderFormat } from '../../channels/channel.js';
import { MEDIA_LINK_INVALID, isMediaLink, linkExtension } from '../../media/media-link.js';
import { mediaTypeOf, type MediaKind } from '../../media/media-types.js';
import { isValidPhone, normalizePhone } from '../../phone.js';
import { countVariables } from './template-text.js';

export const TEMPLATE_NAME_REQUIRED = 'Template name is required';
export const TEMPLATE_NAME_TAKEN = 'Template name already exists';
export const BODY_REQUIRED = 'Body text is required';
export const INVALID_TEMPLATE = 'Invalid template configuration';
export const TEMPLATE_NOT_FOUND = 'Template not found';
export const TEMPLATE_NOT_APPROVED = 'Template is not approved';
export const VARIABLES_MISMATCH = 'Variables count does not match the template';
export const BUTTON_VARIABLES_MISMATCH = 'Button variables count does not match the template';

export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
export const TEMPLATE_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'] as const;
export const HEADER_FORMATS = ['IMAGE', 'VIDEO', 'DOCUMENT', 'AUDIO'] as const;

/** WhatsApp's limits on a template's parts. */
const MAX_NAME = 512;
const MAX_BODY = 1024;
const MAX_FOOTER = 60;
const MAX_BUTTON_TEXT = 25;
const MAX_BUTTONS = 10;
const MAX_URL_BUTTONS = 2;
const MAX_PHONE_BUTTONS = 1;

const HEADER_KIND: Record<TemplateHeaderFormat, MediaKind> = { IMAGE: 'image', VIDEO: 'video', DOCUMENT: 'document', AUDIO: 'audio' };

/** A URL button's url may end in `{{1}}`, filled in when the template is sent. */
export const URL_VARIABLE = '{{1}}';

const hasBraces = (text: string) => text.includes('{{') || text.includes('}}');
const nonBlank = (text: string) => text.trim() !== '';

const buttonText = z.string().trim().min(1).max(MAX_BUTTON_TEXT);
export const templateButton = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('QUICK_REPLY'), text: buttonText }),
  z.strictObject({
    type: z.literal('URL'),
    text: buttonText,
    url: z.string().meta({ description: 'May end in `{{1}}`; then `example` is required.' }),
    example: z.string().trim().min(1).max(2000).optional(),
  }),
  z.strictObject({ type: z.literal('PHONE_NUMBER'), text: buttonText, phone_number: z.string().max(20) }),
]);

/** Empty strings and nulls count as absent. */
const optionalString = (schema: z.ZodString) =>
  z.union([schema, z.literal(''), z.null()]).optional().transform((value) => (value === '' || value === null ? undefined : value));

function urlButtonProblem(url: string, example: string | undefined): string | undefined {
  const dynamic = url.endsWith(URL_VARIABLE);
  const base = dynamic ? url.slice(0, -URL_VARIABLE.length) : url;
  if (hasBraces(base) || !isMediaLink(base)) return INVALID_TEMPLATE;
  return dynamic === (example !== undefined) ? undefined : INVALID_TEMPLATE;
}

/** The header's media sample: a link whose extension, when it has one, suits the header's format. */
function mediaLinkProblem(format: TemplateHeaderFormat, mediaUrl: string | undefined): string | undefined {
  if (mediaUrl === undefined || !isMediaLink(mediaUrl)) return MEDIA_LINK_INVALID;
  const extension = linkExtension(mediaUrl);
  return extension === '' || mediaTypeOf(extension)?.kind === HEADER_KIND[format] ? undefined : MEDIA_LINK_INVALID;
}

export const createTemplateInput = z
  .object({
    name: z
      .string({ error: TEMPLATE_NAME_REQUIRED })
      .trim()
      .min(1, { error: TEMPLATE_NAME_REQUIRED })
      // A schema's own error would name every failed check, so the checks carry theirs.
      .max(MAX_NAME, { error: INVALID_TEMPLATE })
      .regex(/^[a-z0-9_]+$/, { error: INVALID_TEMPLATE })
      .meta({ description: 'Lowercase letters, digits and underscores', example: 'order_update' }),
    body: z
      .string({ error: BODY_REQUIRED })
      .refine(nonBlank, { error: BODY_REQUIRED })
      .max(MAX_BODY, { error: INVALID_TEMPLATE })
      .refine((body) => countVariables(body) !== undefined, { error: INVALID_TEMPLATE })
      .meta({ description: 'Variables `{{1}}…{{n}}`, numbered without gaps' }),
    language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2,3})?$/).meta({ example: 'en_US' }),
    category: z.enum(TEMPLATE_CATEGORIES),
    template_type: z.literal('custom').nullish(),
    body_examples: z.array(z.string().trim().min(1).max(MAX_BODY)).nullish().meta({ description: 'One example per body variable, in order' }),
    header: z.strictObject({ format: z.enum(HEADER_FORMATS) }).nullish().meta({ description: 'A media header; needs `media_url`' }),
    footer: optionalString(z.string().max(MAX_FOOTER).refine((footer) => !hasBraces(footer))),
    buttons: z.array(templateButton).max(MAX_BUTTONS).nullish(),
    media_url: optionalString(z.string()).meta({ description: "The header's sample media" }),
  })
  .superRefine((input, ctx) => {
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
    const buttons = input.buttons ?? [];
    if (countVariables(input.body) !== (input.body_examples ?? []).length) return problem(INVALID_TEMPLATE);
    for (const candidate of buttons) {
      const trouble =
        candidate.type === 'URL'
          ? urlButtonProblem(candidate.url, candidate.example)
          : candidate.type === 'PHONE_NUMBER' && !isValidPhone(normalizePhone(candidate.phone_number))
            ? INVALID_TEMPLATE
            : undefined;
      if (trouble) return problem(trouble);
    }
    const count = (type: string) => buttons.filter((candidate) => candidate.type === type).length;
    if (count('URL') > MAX_URL_BUTTONS || count('PHONE_NUMBER') > MAX_PHONE_BUTTONS) return problem(INVALID_TEMPLATE);
    if (!input.header) return input.media_url === undefined ? undefined : problem(INVALID_TEMPLATE);
    const trouble = mediaLinkProblem(input.header.format, input.media_url);
    if (trouble) problem(trouble);
  });

export type CreateTemplateInput = z.output<typeof createTemplateInput>;

export const templateRecord = z.object({
  id: z.string(),
  name: z.string(),
  language: z.string(),
  category: z.enum(TEMPLATE_CATEGORIES),
  status: z.enum(TEMPLATE_STATUSES),
  body: z.string(),
  header: z.object({ format: z.enum(HEADER_FORMATS) }).nullable(),
  footer: z.string().nullable(),
  buttons: z.array(templateButton),
  variables: z.number().int().meta({ description: 'How many body variables `send-template-text-variable` must fill' }),
  media_url: z.string().nullable(),
  created_at: z.string(),
});

export type TemplateRecord = z.infer<typeof templateRecord>;
