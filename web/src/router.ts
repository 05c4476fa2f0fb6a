import { signal } from '@preact/signals';

/** The app's address bar: /app/login, /app/invite/:token, /app (the list), /app/c/:id, /app/admin/:section. */
export const path = signal(location.pathname);

export function navigate(to: string, replace = false): void {
  if (to === location.pathname) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  path.value = to;
}

addEventListener('popstate', () => (path.value = location.pathname));

export type Route =
  | { page: 'login' }
  | { page: 'invite'; token: string }
  | { page: 'inbox'; conversation: string | null }
  | { page: 'admin'; section: string };

export function routeOf(pathname: string): Route {
  const parts = pathname.replace(/^\/app\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'login') return { page: 'login' };
  if (parts[0] === 'invite' && parts[1]) return { page: 'invite', token: parts[1] };
  if (parts[0] === 'admin') return { page: 'admin', section: parts[1] ?? 'people' };
  if (parts[0] === 'c' && parts[1]) return { page: 'inbox', conversation: parts[1] };
  return { page: 'inbox', conversation: null };
}

export const conversationPath = (id: string) => `/app/c/${encodeURIComponent(id)}`;
