import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, mumbleEndpoints } from '../src/app.js';
import { createLogger, type Deps } from '../src/deps.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../src/modules/accounts/accounts.service.js';
import { UNLIMITED, addCustomer, api, customerOf, expectError, expectSuccess, setUpApiSuite, type Tenant } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';

const PHONE = '972501234567';
const TEN_MB = 10 * 1024 * 1024;
const ALL_METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'] as const;

/** The foundation's endpoints (issue 3) and a valid request for each, against the seeded data below. */
const FOUNDATION: Record<string, { method: 'GET' | 'POST' | 'DELETE'; params: Record<string, unknown> }> = {
  'add-new-customer': { method: 'POST', params: { customer_phone: '972501230000', name: 'N', email: 'n@example.com', source: 's', bot_token: 'AI', utm_source: 'u' } },
  'edit-customer': { method: 'POST', params: { customer_phone: PHONE, name: 'N', email: 'n@example.com', source: 's', bot_token: 'AI', utm_source: 'u' } },
  'delete-customer': { method: 'DELETE', params: { customer_phone: PHONE } },
  'get-customer': { method: 'GET', params: { customer_phone: PHONE } },
  'get-all-customers': { method: 'GET', params: { page: 1 } },
  'edit-customer-conv-status': { method: 'POST', params: { customer_phone: PHONE, status: 'open' } },
  'assign-customer-to-agent': { method: 'POST', params: { customer_phone: PHONE, agent_id: 'AGENT' } },
  'assign-customer-to-team': { method: 'POST', params: { customer_phone: PHONE, team_id: 'TEAM' } },
  'add-customer-to-label': { method: 'POST', params: { customer_phone: PHONE, label_name: 'VIP' } },
  'remove-customer-from-label': { method: 'DELETE', params: { customer_phone: PHONE, label_name: 'VIP' } },
  'add-new-label': { method: 'POST', params: { label_name: 'New label' } },
  'delete-label': { method: 'DELETE', params: { label_name: 'VIP' } },
  'get-labels': { method: 'GET', params: {} },
  'get-agents': { method: 'GET', params: {} },
  'get-teams': { method: 'GET', params: {} },
  'get-bots': { method: 'GET', params: {} },
  'assign-bot': { method: 'POST', params: { customer_phone: PHONE, bot_token: 'AI' } },
};

/** Looks like a JavaScript or Node stack frame. */
const STACK_FRAME = /\bat\s+\S+\s+\(|\bat\s+(file:|node:|\/)|\.[cm]?[jt]s:\d+:\d+/;

function expectNoLeak(response: LightMyRequestResponse, ...secrets: string[]): void {
  expect(response.body).not.toMatch(STACK_FRAME);
  for (const secret of secrets) {
    expect(response.body).not.toContain(secret);
    for (const value of Object.values(response.headers)) expect(String(value)).not.toContain(secret);
  }
}

/** A connection set on the test database that has been used, then closed: every query fails. */
async function closedDatabase(ctx: TestContext) {
  const database = ctx.testDatabase.reopen();
  await database.ping(); // a Kysely instance destroyed before its first query would quietly start afresh
  await database.close();
  return database;
}

/** The app's logger, writing to memory: everything logged, as text and as parsed lines. */
function logCapture() {
  let text = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => ((text += chunk.toString()), done()) });
  return {
    logger: createLogger('trace', sink),
    text: () => text,
    lines: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>),
  };
}

/** Everything a tenant can see, to prove a refused request wrote nothing. */
async function snapshot(t: Tenant) {
  const read = async (endpoint: string) => (await t.call('GET', api(endpoint))).json();
  return { customers: await read('get-all-customers'), labels: await read('get-labels'), agents: await read('get-agents') };
}

describeEachDatabase('HTTP envelope and transport', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  const raw = (options: InjectOptions, key = t.apiKey) =>
    ctx.app.inject({ ...options, headers: { 'mumble-api-key': key, ...options.headers } });
  const json = { 'content-type': 'application/json' };

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });

  describe('URLs the router cannot read', () => {
    it('answer in the envelope: 400 for broken percent-encoding, 414 for an overlong path parameter', async () => {
      expectError(await raw({ method: 'GET', url: '/mumbleapi/get-customer%zz' }), 400, 'Malformed URL');
      expectError(await raw({ method: 'GET', url: '/app/api/conversations/%E0%A4%A' }), 400, 'Malformed URL');
      expectError(await raw({ method: 'GET', url: `/app/api/conversations/${'x'.repeat(200)}` }), 414, 'URL is too long');
    });
  });

  describe('JSON bodies', () => {
    it.each([
      ['POST', 'add-new-label', '{"label_name": '],
      ['POST', 'add-new-customer', "{'customer_phone': '972501234567'}"],
      ['GET', 'get-customer', '{customer_phone:1}'],
      ['DELETE', 'delete-label', 'label_name=VIP'],
      ['POST', 'add-new-label', '[{"label_name":"VIP"}]'],
      ['POST', 'add-new-label', '"VIP"'],
      ['POST', 'add-new-label', 'null'],
      ['POST', 'add-new-label', '42'],
    ] as const)('%s %s with the body %s answers 400 "Invalid JSON body"', async (method, endpoint, body) => {
      expectError(await raw({ method, url: api(endpoint), headers: json, payload: body }), 400, 'Invalid JSON body');
      expect((await snapshot(t)).labels.labels).toEqual([]);
    });

    it.each(['GET', 'POST'] as const)('%s with Content-Type: application/json and an empty body means no parameters', async (method) => {
      expectSuccess(await raw({ method, url: api('get-labels'), headers: json }), { labels: [], label_details: [] });
      expectSuccess(await raw({ method, url: api('get-labels'), headers: json, payload: '' }), { labels: [], label_details: [] });
    });

    it('DELETE with Content-Type: application/json and an empty body reads the query string', async () => {
      await t.call('POST', api('add-new-label'), { label_name: 'VIP' });
      expectError(await raw({ method: 'DELETE', url: api('delete-label'), headers: json }), 400, 'Label name is required.');
      expectSuccess(await raw({ method: 'DELETE', url: `${api('delete-label')}?label_name=VIP`, headers: json, payload: '' }), {
        message: "Label 'VIP' deleted successfully",
      });
    });

    it('POST with Content-Type: application/json and an empty body means no parameters', async () => {
      expectError(await raw({ method: 'POST', url: api('add-new-label'), headers: json, payload: '' }), 400, 'Label name is required.');
    });

    it.each([
      ['application/json; charset=utf-8'],
      ['text/plain'],
      ['application/vnd.api+json'],
    ])('reads a JSON body sent as %s', async (type) => {
      const response = await raw({ method: 'POST', url: api('add-new-label'), headers: { 'content-type': type }, payload: '{"label_name":"Typed"}' });
      expectSuccess(response, { message: "Label 'Typed' created successfully" });
    });

    it('reads a form-encoded body', async () => {
      const response = await raw({
        method: 'POST',
        url: api('add-new-customer'),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `customer_phone=%2B${PHONE}&name=Form+Sent`,
      });
      expectSuccess(response, { message: 'added successfully' });
      expect((await customerOf(t.call, PHONE)).name).toBe('Form Sent');
    });

    it('answers 415 in the envelope for a body type it cannot read', async () => {
      const response = await raw({ method: 'POST', url: api('add-new-label'), headers: { 'content-type': 'application/xml' }, payload: '<label/>' });
      expectError(response, 415, 'Unsupported Content-Type');
    });
  });

  describe('parameters', () => {
    it('reads a GET request\'s JSON body', async () => {
      await addCustomer(t.call, PHONE, { name: 'Body' });
      const response = await raw({ method: 'GET', url: api('get-customer'), headers: json, payload: JSON.stringify({ customer_phone: PHONE }) });
      expect(response.statusCode).toBe(200);
      expect(response.json().customer.name).toBe('Body');
    });

    it('reads a DELETE request\'s JSON body', async () => {
      await addCustomer(t.call, PHONE);
      const response = await raw({ method: 'DELETE', url: api('delete-customer'), headers: json, payload: JSON.stringify({ customer_phone: PHONE }) });
      expectSuccess(response, { message: 'Customer deleted successfully' });
    });

    it('merges the query string and the body, the body winning on a shared name', async () => {
      await addCustomer(t.call, PHONE, { name: 'Body customer' });
      await addCustomer(t.call, '972509999999', { name: 'Query customer' });
      const fromBoth = await t.call('GET', `${api('get-customer')}?customer_phone=972509999999`, { customer_phone: PHONE });
      expect(fromBoth.json().customer.name).toBe('Body customer');
      const merged = await t.call('POST', `${api('edit-customer')}?customer_phone=${PHONE}&name=FromQuery&source=query`, { name: 'FromBody' });
      expect(merged.statusCode).toBe(200);
      expect(await customerOf(t.call, PHONE)).toMatchObject({ name: 'FromBody', source: 'query' });
    });

    it.each(['GET', 'POST', 'DELETE'] as const)('%s reads parameters from the query string alone', async (method) => {
      const endpoint = { GET: 'get-customer', POST: 'edit-customer', DELETE: 'delete-customer' }[method];
      await addCustomer(t.call, PHONE);
      const response = await t.call(method, `${api(endpoint)}?customer_phone=${PHONE}`);
      expect(response.statusCode, response.body).toBe(200);
    });

    it.each([['?page=2'], ['?page=%202%20']])('takes page from the query string as text: %s', async (query) => {
      const response = await t.call('GET', `${api('get-all-customers')}${query}`);
      expect(response.json()).toMatchObject({ success: true, current_page: 2 });
    });
  });

  describe('body size', () => {
    let small: TestContext;
    beforeAll(async () => {
      small = await createTestContext(kind, { ...UNLIMITED, BODY_LIMIT: '1kb' });
    });
    afterAll(async () => {
      await small.close();
    });

    it.each(['POST', 'GET', 'DELETE'] as const)('answers %s with a body over BODY_LIMIT with 413 in the envelope, writing nothing', async (method) => {
      const endpoint = { POST: 'add-new-customer', GET: 'get-customer', DELETE: 'delete-customer' }[method];
      const payload = JSON.stringify({ customer_phone: PHONE, name: 'x'.repeat(2048) });
      const response = await small.call(method, api(endpoint), payload, json);
      expectError(response, 413, 'Request body is too large');
      expectError(await small.call('GET', api('get-customer'), { customer_phone: PHONE }), 404, 'Customer not found');
    });

    it('accepts a body under BODY_LIMIT', async () => {
      const payload = { customer_phone: PHONE, name: 'x'.repeat(200), note: 'y'.repeat(600) };
      expect(JSON.stringify(payload).length).toBeLessThan(1024);
      expectSuccess(await small.call('POST', api('add-new-customer'), payload), { message: 'added successfully' });
    });
  });

  describe('routes and methods', () => {
    it.each([
      ['GET', '/mumbleapi/no-such-endpoint'],
      ['POST', '/mumbleapi/'],
      ['GET', '/'],
      ['DELETE', '/nothing/here'],
    ] as const)('%s %s answers 404 "Route not found"', async (method, url) => {
      expectError(await t.call(method, url), 404, 'Route not found');
      expectError(await ctx.app.inject({ method, url }), 404, 'Route not found');
    });

    const readOnly = mumbleEndpoints.filter((endpoint) => endpoint.method === 'GET').flatMap((endpoint) => [endpoint.path, ...(endpoint.aliases ?? [])]);
    const changing = mumbleEndpoints.filter((endpoint) => endpoint.method !== 'GET');

    it('knows the read-only endpoints of the foundation', () => {
      const foundation = ['get-customer', 'get-all-customers', 'get-labels', 'get-all-labels', 'get-agents', 'get-teams', 'get-all-teams', 'get-bots'];
      expect(readOnly).toEqual(expect.arrayContaining(foundation.map(api)));
    });

    it.each(readOnly)('%s answers POST exactly as GET', async (url) => {
      await addCustomer(t.call, PHONE);
      for (const params of [undefined, { customer_phone: PHONE, page: 1 }]) {
        const viaGet = await t.call('GET', url, params);
        const viaPost = await t.call('POST', url, params);
        expect(viaGet.statusCode).not.toBe(404);
        expect({ status: viaPost.statusCode, body: viaPost.json() }).toEqual({ status: viaGet.statusCode, body: viaGet.json() });
      }
    });

    it.each(changing.map((endpoint) => [endpoint.path, endpoint.method] as const))('%s answers only %s', async (url, own) => {
      for (const method of ALL_METHODS.filter((m) => m !== own)) {
        expectError(await t.call(method, url, { customer_phone: PHONE }), 404, 'Route not found');
      }
    });

    it.each(readOnly)('%s refuses DELETE, PUT and PATCH with 404', async (url) => {
      for (const method of ['DELETE', 'PUT', 'PATCH'] as const) expectError(await t.call(method, url), 404, 'Route not found');
    });
  });

  describe('authentication', () => {
    it.each([
      ['MUMBLE-API-KEY'],
      ['Mumble-Api-Key'],
      ['mumble-api-key'],
      ['mUmBlE-aPi-KeY'],
    ])('reads the key from the header %s', async (name) => {
      const response = await ctx.app.inject({ method: 'GET', url: api('get-labels'), headers: { [name]: t.apiKey } });
      expect(response.statusCode).toBe(200);
    });

    it.each<[string, Record<string, string>]>([
      ['no key', {}],
      ['an empty key', { 'mumble-api-key': '' }],
      ['an unknown key', { 'mumble-api-key': 'om_live_unknownunknownunknownunknownunknown0000' }],
      ['the key in another header', { authorization: 'Bearer KEY' }],
    ])('answers 401 "Unauthorized" for %s', async (_case, headers) => {
      const withKey = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.replace('KEY', t.apiKey)]));
      for (const endpoint of Object.keys(FOUNDATION)) {
        const { method, params } = FOUNDATION[endpoint];
        const response = await ctx.app.inject({ method, url: api(endpoint), headers: withKey, payload: params });
        expectError(response, 401, 'Unauthorized');
      }
    });

    it('answers 401 for the key with a character changed or added', async () => {
      const altered = `${t.apiKey.slice(0, -1)}${t.apiKey.endsWith('A') ? 'B' : 'A'}`;
      expectError(await raw({ method: 'GET', url: api('get-labels') }, altered), 401, 'Unauthorized');
      expectError(await raw({ method: 'GET', url: api('get-labels') }, `${t.apiKey}x`), 401, 'Unauthorized');
    });

    it('refuses a revoked key at once, and accepts the account\'s other keys', async () => {
      const second = await createApiKey(ctx.deps, t.accountId, 'second');
      const first = (await listApiKeys(ctx.deps, t.accountId)).find((key) => key.name === 'test')!;
      expect((await t.call('GET', api('get-labels'))).statusCode).toBe(200);
      await revokeApiKey(ctx.deps, first.id);
      expectError(await t.call('GET', api('get-labels')), 401, 'Unauthorized');
      expect((await raw({ method: 'GET', url: api('get-labels') }, second.key)).statusCode).toBe(200);
    });

    it('checks the key before reading parameters: a bad key with bad JSON is 401', async () => {
      expectError(await raw({ method: 'POST', url: api('add-new-label'), headers: json, payload: '{bad' }, 'nope'), 401, 'Unauthorized');
    });
  });

  describe('/healthz', () => {
    it('answers 200 {"status":"ok"} without a key', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/healthz' });
      expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('answers 503 with a JSON body when the database does not answer', async () => {
      const app = await buildApp({ ...ctx.deps, database: await closedDatabase(ctx) });
      try {
        const response = await app.inject({ method: 'GET', url: '/healthz' });
        expect(response.statusCode).toBe(503);
        expect(response.json()).not.toEqual({ status: 'ok' });
      } finally {
        await app.close();
      }
    });
  });

  describe('unexpected failures and secrets', () => {
    let logs: () => string;
    let logged: FastifyInstance;
    let broken: FastifyInstance;
    const ADMIN_TOKEN = 'admin-token-that-must-not-leak-0001';

    beforeAll(async () => {
      const capture = logCapture();
      logs = capture.text;
      const config = { ...ctx.deps.config, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN };
      const deps: Deps = { ...ctx.deps, config, logger: capture.logger };
      logged = await buildApp(deps);
      broken = await buildApp({ ...deps, database: await closedDatabase(ctx) });
    });
    afterAll(async () => {
      await logged.close();
      await broken.close();
    });

    it('answers 500 "An unexpected error occurred" when the database fails, without a stack trace or the key', async () => {
      for (const endpoint of Object.keys(FOUNDATION)) {
        const { method, params } = FOUNDATION[endpoint];
        const response = await broken.inject({ method, url: api(endpoint), headers: { 'mumble-api-key': t.apiKey }, payload: params });
        expectError(response, 500, 'An unexpected error occurred');
        expectNoLeak(response, t.apiKey);
      }
    });

    it('never puts the API key or the admin token in a response or a log line', async () => {
      const responses: LightMyRequestResponse[] = [];
      const send = async (app: FastifyInstance, options: InjectOptions) => responses.push(await app.inject(options));
      for (const app of [logged, broken]) {
        await send(app, { method: 'GET', url: api('get-labels'), headers: { 'mumble-api-key': t.apiKey } });
        await send(app, { method: 'POST', url: api('add-new-label'), headers: { 'mumble-api-key': t.apiKey, ...json }, payload: '{bad' });
        await send(app, { method: 'POST', url: api('add-new-customer'), headers: { 'Mumble-Api-Key': t.apiKey }, payload: { customer_phone: [1] } });
        await send(app, { method: 'GET', url: '/mumbleapi/nowhere', headers: { 'mumble-api-key': t.apiKey } });
        await send(app, { method: 'GET', url: '/admin/v1/accounts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        await send(app, { method: 'POST', url: '/admin/v1/accounts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name: 'Logged' } });
      }
      expect(responses.map((response) => response.statusCode)).toContain(500);
      for (const response of responses) expectNoLeak(response, t.apiKey, ADMIN_TOKEN);
      expect(logs()).toContain('unexpected error'); // the logger did capture this run
      expect(logs()).not.toContain(t.apiKey);
      expect(logs()).not.toContain(ADMIN_TOKEN);
    });

    it('logs a 500 with the error\'s type and message only: no stack trace, API key, token or request body', async () => {
      const capture = logCapture();
      const config = { ...ctx.deps.config, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN };
      const app = await buildApp({ ...ctx.deps, config, logger: capture.logger, database: await closedDatabase(ctx) });
      const BEARER = 'bearer-token-that-must-not-leak-0002';
      const BODY_VALUE = 'request-body-value-that-is-not-logged';
      try {
        const customer = await app.inject({
          method: 'POST',
          url: api('add-new-customer'),
          headers: { 'mumble-api-key': t.apiKey, authorization: `Bearer ${BEARER}`, ...json },
          payload: JSON.stringify({ customer_phone: PHONE, name: BODY_VALUE, access_token: BEARER }),
        });
        expectError(customer, 500, 'An unexpected error occurred');
        const admin = await app.inject({ method: 'GET', url: '/admin/v1/accounts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        expectError(admin, 500, 'An unexpected error occurred');
      } finally {
        await app.close();
      }
      const failures = capture.lines().filter((line) => line.msg === 'unexpected error');
      expect(failures).toHaveLength(2);
      for (const { err } of failures) {
        expect(err).toEqual(expect.objectContaining({ type: expect.any(String), message: expect.any(String) }));
        expect(Object.keys(err).filter((field) => !['type', 'message', 'code'].includes(field))).toEqual([]);
      }
      expect(capture.text()).not.toMatch(STACK_FRAME);
      expect(capture.text()).not.toMatch(/\\n\s+at /); // a stack's frames, as JSON writes them
      for (const secret of [t.apiKey, ADMIN_TOKEN, BEARER, BODY_VALUE]) expect(capture.text()).not.toContain(secret);
    });

    it('writes one access-log line per request, when it completes: method, URL, status and time, no key', async () => {
      const capture = logCapture();
      const app = await buildApp({ ...ctx.deps, logger: capture.logger });
      try {
        const response = await app.inject({ method: 'GET', url: `${api('get-customer')}?customer_phone=${PHONE}`, headers: { 'mumble-api-key': t.apiKey } });
        expect(response.statusCode).toBe(404);
      } finally {
        await app.close();
      }
      const access = capture.lines().filter((line) => line.req || line.res);
      expect(access).toEqual([
        expect.objectContaining({
          level: 30,
          msg: 'request completed',
          req: expect.objectContaining({ method: 'GET', url: `${api('get-customer')}?customer_phone=${PHONE}` }),
          res: { statusCode: 404 },
          responseTime: expect.any(Number),
        }),
      ]);
      expect(capture.text()).not.toContain(t.apiKey);
    });

    it('Fastify\'s own error log lines go through the same serializer', async () => {
      const capture = logCapture();
      const app = Fastify({ loggerInstance: capture.logger });
      app.get('/fails', async () => {
        throw Object.assign(new Error('it failed'), { code: 'E_TEST', body: { access_token: 'EAAG-in-an-error-field' } });
      });
      try {
        expect((await app.inject({ method: 'GET', url: '/fails' })).statusCode).toBe(500);
      } finally {
        await app.close();
      }
      expect(capture.lines().filter((line) => line.err)).toEqual([expect.objectContaining({ level: 50, err: { type: 'Error', message: 'it failed', code: 'E_TEST' } })]);
      expect(capture.text()).not.toMatch(STACK_FRAME);
      expect(capture.text()).not.toContain('EAAG-in-an-error-field');
    });
  });

  describe('hostile input', () => {
    /** Seeds what FOUNDATION's requests refer to; returns the params with the real agent and team ids. */
    async function seed() {
      const agent = await t.add('agents', 'Agent');
      const team = await t.add('teams', 'Team');
      await addCustomer(t.call, PHONE, { name: 'Original', plan: 'gold' });
      await t.call('POST', api('add-new-label'), { label_name: 'VIP' });
      return (endpoint: string) =>
        Object.fromEntries(
          Object.entries(FOUNDATION[endpoint].params).map(([name, value]) => [name, value === 'AGENT' ? agent : value === 'TEAM' ? team : value]),
        );
    }

    /** As JSON text: a deeply nested value is beyond what JSON.stringify can write. */
    const WRONG_TYPES: Array<[string, string]> = [
      ['an array', '["972501234567"]'],
      ['an object', '{"value":"x"}'],
      ['a boolean', 'true'],
      ['a nested array 10,000 deep', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
      ['a 100 kB string', JSON.stringify('9'.repeat(100_000))],
    ];
    const withHostile = (params: Record<string, unknown>, name: string, json: string) =>
      JSON.stringify({ ...params, [name]: '__HOSTILE__' }).replace('"__HOSTILE__"', () => json);

    it.each(Object.keys(FOUNDATION))('%s: a wrong type in any parameter is a 4xx with a contract message, and writes nothing', async (endpoint) => {
      const paramsOf = await seed();
      const { method } = FOUNDATION[endpoint];
      const known = mumbleEndpoints.find((e) => e.path === api(endpoint))!;
      const messages = [...known.errors.map((error) => error.message), 'Invalid JSON body'];
      for (const name of Object.keys(paramsOf(endpoint))) {
        for (const [_case, value] of WRONG_TYPES) {
          const before = await snapshot(t);
          const response = await t.call(method, api(endpoint), withHostile(paramsOf(endpoint), name, value), json);
          const context = `${endpoint} with ${name} = ${_case}: ${response.body.slice(0, 200)}`;
          expect(response.statusCode, context).toBeLessThan(500);
          if (response.statusCode >= 400) {
            expect(response.json(), context).toEqual({ error: true, message: expect.any(String) });
            expect(messages, context).toContain(response.json().message);
            expect(await snapshot(t), context).toEqual(before);
          }
        }
      }
    });

    it('refuses a 10 MB name with the endpoint\'s 400 and writes nothing', async () => {
      const huge = 'n'.repeat(TEN_MB);
      expectError(await t.call('POST', api('add-new-customer'), { customer_phone: PHONE, name: huge }), 400, 'Failed to add customer due to invalid input');
      expectError(await t.call('GET', api('get-customer'), { customer_phone: PHONE }), 404, 'Customer not found');
      await addCustomer(t.call, PHONE, { name: 'Small' });
      expectError(await t.call('POST', api('edit-customer'), { customer_phone: PHONE, name: huge }), 400, 'Failed to update customer due to invalid input');
      expectError(await t.call('POST', api('edit-customer'), { customer_phone: PHONE, note: huge }), 400, 'Failed to update customer due to invalid input');
      expect(await customerOf(t.call, PHONE)).toMatchObject({ name: 'Small', custom_fields: {} });
      expectError(await t.call('POST', api('add-new-label'), { label_name: huge }), 400, 'Label name is required.');
      expect((await snapshot(t)).labels.labels).toEqual([]);
    });

    it('stores unicode and emoji names, values and labels as sent', async () => {
      const name = 'Zoë 北京 שלום 😀👩‍👩‍👧';
      await addCustomer(t.call, PHONE, { name, note: '🔥 café' });
      expect(await customerOf(t.call, PHONE)).toMatchObject({ name, custom_fields: { note: '🔥 café' } });
      expectSuccess(await t.call('POST', api('add-new-label'), { label_name: '⭐ VIP' }), { message: "Label '⭐ VIP' created successfully" });
      await t.call('POST', api('add-customer-to-label'), { customer_phone: PHONE, label_name: '⭐ VIP' });
      expect((await customerOf(t.call, PHONE)).labels).toEqual(['⭐ VIP']);
      await t.add('agents', 'Agënt 😀');
      expect((await t.call('GET', api('get-agents'))).json().agents).toEqual([expect.objectContaining({ name: 'Agënt 😀' })]);
    });

    /** `__proto__` arrives as an own key of the parsed JSON; a custom field name like `constructor`, it must neither pollute nor be stored. */
    const protoBody = (fields: string) => `{"customer_phone":"${PHONE}","__proto__":{"name":{"x":1},"utm_source":["y"],"polluted":"yes"},${fields}}`;

    it('add-new-customer: `__proto__`, `constructor` and `prototype` keys are skipped and listed, never stored, and pollute nothing', async () => {
      const response = await raw({ method: 'POST', url: api('add-new-customer'), headers: json, payload: protoBody('"constructor":"c","prototype":"p","ok":1') });
      expect(response.statusCode).toBe(200);
      expect(response.json().custom_fields_skipped.sort()).toEqual(['__proto__', 'constructor', 'prototype']);
      expect(await customerOf(t.call, PHONE)).toMatchObject({ name: null, attribution: {}, custom_fields: { ok: 1 } });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it.each([
      ['a form body', { url: api('add-new-customer'), headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `customer_phone=${PHONE}&__proto__=x&__proto__=y&ok=1` }],
      ['a query string', { url: `${api('add-new-customer')}?customer_phone=${PHONE}&__proto__=x&ok=1` }],
    ])('add-new-customer: `__proto__` in %s is skipped and listed like in JSON', async (_case, request) => {
      const response = await raw({ method: 'POST', ...request });
      expectSuccess(response, { message: 'added successfully', custom_fields_skipped: ['__proto__'] });
      expect((await customerOf(t.call, PHONE)).custom_fields).toEqual({ ok: '1' });
    });

    it('edit-customer: a `constructor` or a `__proto__` key refuses the request whole, and pollutes nothing', async () => {
      await addCustomer(t.call, PHONE, { name: 'Original' });
      const before = await customerOf(t.call, PHONE);
      const refused = await raw({ method: 'POST', url: api('edit-customer'), headers: json, payload: protoBody('"constructor":"c","name":"Changed"') });
      expectError(refused, 400, 'Failed to update customer due to invalid input');
      expect(await customerOf(t.call, PHONE)).toEqual(before);

      const protoOnly = await raw({ method: 'POST', url: api('edit-customer'), headers: json, payload: protoBody('"source":"changed"') });
      expectError(protoOnly, 400, 'Failed to update customer due to invalid input');
      expect(await customerOf(t.call, PHONE)).toEqual(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('reads `__proto__` in a query string as a plain parameter name', async () => {
      const response = await t.call('POST', `${api('add-new-label')}?__proto__[label_name]=x&label_name=Plain`);
      expectSuccess(response, { message: "Label 'Plain' created successfully" });
    });
  });
});
