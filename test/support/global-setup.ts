/**
 * Vitest global setup: one migrated Postgres template and one etcd for the whole run. A missing
 * service does not fail the run here; it is recorded, and the first test that needs the service
 * fails with a message that says how to install it. Pure unit tests run regardless.
 */
import type { TestProject } from 'vitest/node';
import { type EtcdServer, startEtcd } from './etcd-server.js';
import { adminUrl, createTemplate, installHint, type TemplateDatabase } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { ok: true; adminUrl: string; template: string; runId: string } | { ok: false; error: string };
    etcd: { ok: true; endpoints: string[] } | { ok: false; error: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = adminUrl();
  let template: TemplateDatabase | undefined;
  try {
    template = await createTemplate(url);
    project.provide('postgres', { ok: true, adminUrl: url, template: template.name, runId: template.runId });
  } catch (error) {
    project.provide('postgres', { ok: false, error: installHint(url, error) });
  }

  let etcd: EtcdServer | undefined;
  const configured = process.env['ETCD_ENDPOINTS'];
  if (configured) {
    project.provide('etcd', { ok: true, endpoints: configured.split(',').map((e) => e.trim()) });
  } else {
    try {
      etcd = await startEtcd();
      project.provide('etcd', { ok: true, endpoints: etcd.endpoints });
    } catch (error) {
      project.provide('etcd', { ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }

  return async () => {
    await etcd?.stop();
    await template?.drop();
  };
}
