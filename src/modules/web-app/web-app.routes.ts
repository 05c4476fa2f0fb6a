import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web inbox (web/, built by Vite into dist/web): static files under /app, the app's page for
 * every other /app/* path (the app routes itself), and `/` sending a browser there.
 *
 * The build is a handful of small files, so they are read once at start, with a gzipped copy of the
 * text ones and an ETag each: no disk read per request. Files under /app/assets/ carry a content hash
 * in their names and are cached for a year; index.html is revalidated on every load, so a new
 * release reaches a browser at its next page load.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** The app's own page may load only what the server serves (scripts, styles, media, the event stream). */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob: https:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

interface StaticFile {
  body: Buffer;
  gzipped?: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

/** dist/web next to the running code: src/modules/web-app (from source) or dist/src/modules/web-app (built). */
export function webBuildDir(): string | undefined {
  const root = join(import.meta.dirname, '..', '..', '..');
  return [join(root, 'dist', 'web'), join(root, 'web')].find((dir) => existsSync(join(dir, 'index.html')));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

export function loadWebBuild(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const path of filesUnder(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    const body = readFileSync(path);
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    const compressible = /^(text\/|application\/(json|manifest)|image\/svg)/.test(type) && body.length > 1024;
    files.set(name, {
      body,
      ...(compressible && { gzipped: gzipSync(body, { level: 9 }) }),
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      cacheControl: name.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
    });
  }
  return files;
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile) {
  void reply.header('cache-control', file.cacheControl).header('etag', file.etag).header('x-content-type-options', 'nosniff').header('vary', 'accept-encoding');
  if (file.type.startsWith('text/html')) void reply.header('content-security-policy', PAGE_POLICY).header('referrer-policy', 'same-origin');
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  void reply.type(file.type);
  if (file.gzipped && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(file.gzipped);
  return reply.send(file.body);
}

const NOT_BUILT = '<!doctype html><meta charset="utf-8"><title>openmumble</title><p>The web inbox is not built. Run <code>npm run build</code> (or <code>npm install</code>) and start the server again.</p>';

/** A browser asking for a page (not a JSON client, nor curl's `*\/*`). */
function wantsPage(request: FastifyRequest): boolean {
  return /\btext\/html\b/.test(String(request.headers.accept ?? ''));
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function registerWebApp(app: FastifyInstance, dir = webBuildDir()): void {
  const files = dir ? loadWebBuild(dir) : new Map<string, StaticFile>();
  const page = files.get('index.html');

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = safeDecode(request.url.split('?')[0]!.replace(/^\/app\/?/, ''));
    // /app/api/* is the inbox API: an unknown route there is the API's 404, never the app's page.
    if (path === 'api' || path.startsWith('api/')) return reply.status(404).send({ error: true, message: 'Route not found' });
    const file = files.get(path);
    if (file && path !== 'index.html') return send(request, reply, file);
    // A missing hashed asset is an old page asking for a file of an earlier release: 404, not the page.
    if (path.startsWith('assets/')) return reply.status(404).type('text/plain; charset=utf-8').send('Not found');
    if (!page) return reply.status(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    return send(request, reply, page);
  };

  // The app's own paths only: a wildcard over /app/* would also catch /app/api/* URLs that the API's
  // router refuses (an overlong id is 414), and answer them with the page.
  for (const path of ['/app', '/app/:file', '/app/assets/*', '/app/login', '/app/invite/*', '/app/c/*', '/app/admin', '/app/admin/*']) app.get(path, serve);
  app.get('/', async (request, reply) => {
    if (wantsPage(request)) return reply.redirect('/app', 302);
    return reply.status(404).send({ error: true, message: 'Route not found' });
  });
}
