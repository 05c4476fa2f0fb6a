import { z } from 'zod';
import { MediaUpload } from '../../media/upload.js';
import { nameInput } from '../people/people.schema.js';

/** A flow is any JSON at the door: bots.service checks it, and a refusal names the node and the problem. */
export const flowJson = z.unknown().meta({ description: 'The flow (docs/bots.md): version, start, triggers, timeout_seconds, nodes, edges.' });

/** A flow bot: a name, and a flow it may get later. */
export const newBotInput = z.strictObject({ name: nameInput.shape.name, flow: flowJson.optional() });
export const botPatchInput = z.strictObject({ name: nameInput.shape.name.optional(), flow: flowJson.optional() });

/** A file for flows, uploaded as multipart/form-data. */
export const flowMediaInput = z.strictObject({
  file: z.custom<MediaUpload>((value) => value instanceof MediaUpload, { error: 'file must be a file uploaded as multipart/form-data' }).meta({ type: 'string', format: 'binary' }),
});
