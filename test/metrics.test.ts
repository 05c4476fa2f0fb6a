import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from './processes.js';
import { startServerWithReceiver, type ServerWithReceiver } from './server-with-receiver.js';
import type { Receiver } from './webhooks-receiver.js';

/** /metrics of a real server process after real traffic: what operators graph and alert on. */
const API_KEY = `om_live_${'metricsundertest'.repeat(3)}`;
const METRICS_TOKEN = 'metrics-token-0123456789';

describe('GET /metrics after traffic', () => {
  let started: ServerWithReceiver;
  let server: ServerProcess;
  let receiver: Receiver;
  let scraped = '';

  const mumble = (endpoint: string, body: unknown) =>
    fetch(`${server.url}/mumbleapi/${endpoint}`, { method: 'POST', headers: { 'mumble-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** The value of one sample line, e.g. value('openmumble_messages_sent_total{channel="sandbox",type="text",sender="api"}'). */
  const value = (sample: string) => {
    const line = scraped.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
    return line === undefined ? undefined : Number(line.slice(sample.length + 1));
  };

  beforeAll(async () => {
    started = await startServerWithReceiver('sqlite', { OPENMUMBLE_API_KEY: API_KEY, METRICS_TOKEN, SANDBOX_STATUS_DELAY_MS: '10' });
    ({ server, receiver } = started);
    expect((await mumble('add-webhook', { url: `${receiver.url}/hook`, events: ['message.received'] })).status).toBe(200);
    expect((await mumble('add-new-customer', { customer_phone: '972501230001' })).status).toBe(200);
    expect((await mumble('sandbox/receive-message', { customer_phone: '972501230001', text: 'hello' })).status).toBe(200);
    expect((await mumble('send-text-message', { customer_phone: '972501230001', text: 'hi' })).status).toBe(200);
    expect((await mumble('get-customer', { customer_phone: '972509999999' })).status).toBe(404);
    await receiver.waitFor(1);
    // The delivery's bookkeeping commits after the receiver answered.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    scraped = await response.text();
  }, 60_000);

  afterAll(async () => {
    await started?.stop();
  });

  it('needs the token when METRICS_TOKEN is set', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
  });

  it('counts HTTP requests by route pattern and status, with a latency histogram', () => {
    expect(value('openmumble_http_requests_total{method="POST",route="/mumbleapi/add-new-customer",status="200"}')).toBe(1);
    expect(value('openmumble_http_requests_total{method="POST",route="/mumbleapi/get-customer",status="404"}')).toBe(1);
    expect(value('openmumble_http_request_duration_seconds_count{method="POST",route="/mumbleapi/send-text-message"}')).toBe(1);
    // Patterns only: no phone number or id in any label.
    expect(scraped).not.toContain('972501230001');
  });

  it('counts messages sent by channel, type and sender, and received by channel and type', () => {
    expect(value('openmumble_messages_sent_total{channel="sandbox",type="text",sender="api"}')).toBe(1);
    expect(value('openmumble_messages_received_total{channel="sandbox",type="text"}')).toBe(1);
  });

  it('counts webhook attempts by outcome, with the delivery lag', () => {
    expect(value('openmumble_webhook_attempts_total{outcome="succeeded"}')).toBe(1);
    expect(value('openmumble_webhook_delivery_lag_seconds_count')).toBe(1);
  });

  it("reports the jobs table's state and SQLite's fsync times", () => {
    for (const gauge of ['openmumble_jobs_queued', 'openmumble_jobs_running', 'openmumble_jobs_failed', 'openmumble_jobs_oldest_due_seconds']) {
      expect(value(gauge), gauge).toBeGreaterThanOrEqual(0);
    }
    expect(value('openmumble_sqlite_fsync_duration_seconds_count')).toBeGreaterThan(0);
    expect(value('openmumble_live_connections')).toBe(0);
  });
});

describe('docs/grafana-dashboard.json', () => {
  it('graphs only metrics the server exports', async () => {
    const { readFileSync } = await import('node:fs');
    const { createMetrics, registerJobGauges } = await import('../src/metrics.js');
    const dashboard = JSON.parse(readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const metrics = createMetrics();
    registerJobGauges(metrics, async () => ({ queued: 0, running: 0, failed: 0, oldestDueSeconds: 0 }));
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
    const used = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(/openmumble_\w+/g) ?? []));
    expect(used.length).toBeGreaterThan(10);
    for (const name of used) expect(exported.has(name.replace(/_(bucket|count|sum)$/, '')), name).toBe(true);
  });
});
