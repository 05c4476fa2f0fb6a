import type { AppRoute } from '../../http/app-route.js';

/** The inbox API: conversations, messages, notes, actions, canned responses (docs/inbox.md). */
export const inboxAppRoutes: AppRoute[] = [];
