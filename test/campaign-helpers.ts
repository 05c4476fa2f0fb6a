import { beforeAll } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { campaignJobHandlers } from '../src/modules/campaigns/campaigns.service.js';
import { setUpApiSuite, type Tenant } from './api.js';
import type { DatabaseKind, TestContext } from './helpers.js';

/** A campaigns suite: the app, a fresh tenant per test, and a jobs worker with the campaign handlers (run by hand). */
export function setUpCampaignSuite(kind: DatabaseKind, set: { context(ctx: TestContext): void; tenant(t: Tenant): void; worker(worker: JobWorker): void }): void {
  let ctx: TestContext;
  setUpApiSuite(kind, {
    context: (value) => {
      ctx = value;
      set.context(value);
    },
    tenant: set.tenant,
  });
  beforeAll(() => set.worker(new JobWorker(ctx.deps, campaignJobHandlers(ctx.deps), { name: 'campaigns' })));
}
