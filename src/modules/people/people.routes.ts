import type { AppRoute } from '../../http/app-route.js';

/** The inbox's admin screens: people, teams and their members, the account's settings (admins only). */
export const peopleAppRoutes: AppRoute[] = [];
