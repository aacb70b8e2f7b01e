/**
 * Vitest global setup: builds frontend/dist when it is missing or stale, so the end-to-end suites
 * test the current sources. A failed build does not stop other suites; the e2e suites report it.
 */
import type { TestProject } from 'vitest/node';
import { ensureFrontendBuilt } from '../../scripts/build-if-stale.js';

declare module 'vitest' {
  export interface ProvidedContext {
    joulehubFrontendBuild: { ok: true } | { ok: false; error: string };
  }
}

export default async function setup(project: TestProject): Promise<void> {
  try {
    await ensureFrontendBuilt((line) => process.stderr.write(`[joulehub tests] ${line}\n`));
    project.provide('joulehubFrontendBuild', { ok: true });
  } catch (err) {
    const error = (err as Error).message;
    process.stderr.write(`[joulehub tests] the dashboard did not build: ${error}\n`);
    project.provide('joulehubFrontendBuild', { ok: false, error });
  }
}
