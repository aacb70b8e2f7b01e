/**
 * The first admin without a browser: from JOULEHUB_ADMIN_EMAIL + JOULEHUB_ADMIN_PASSWORD at start
 * (containers, provisioning). Used only while no account exists; afterwards the variables are
 * ignored (with a note), so a forgotten variable cannot reset anybody's password.
 */
import type { Logger } from 'pino';
import type { AuthService } from './service.js';
import { AuthError } from './errors.js';

export const ADMIN_EMAIL_ENV = 'JOULEHUB_ADMIN_EMAIL';
export const ADMIN_PASSWORD_ENV = 'JOULEHUB_ADMIN_PASSWORD';

export type BootstrapResult = 'created' | 'exists' | 'onboarding' | 'not_configured';

/**
 * Creates the first admin from the environment when it names one and no account exists. Removes
 * the password variable from `env` afterwards so child processes do not inherit it.
 */
export async function ensureAdminFromEnv(auth: AuthService, env: NodeJS.ProcessEnv, log: Logger): Promise<BootstrapResult> {
  const email = env[ADMIN_EMAIL_ENV]?.trim();
  const password = env[ADMIN_PASSWORD_ENV];
  delete env[ADMIN_PASSWORD_ENV];
  const empty = await auth.needsOnboarding();
  if (!email || !password) {
    if (email || password) log.warn(`set both ${ADMIN_EMAIL_ENV} and ${ADMIN_PASSWORD_ENV} to create the first admin; one alone is ignored`);
    if (empty) {
      log.warn('no accounts yet: create the first admin on the dashboard\'s onboarding page, with '
        + `${ADMIN_EMAIL_ENV} + ${ADMIN_PASSWORD_ENV}, or with "joulehub user add --admin <email>"`);
      return 'onboarding';
    }
    return 'not_configured';
  }
  if (!empty) {
    log.info({ email }, `accounts exist; ${ADMIN_EMAIL_ENV}/${ADMIN_PASSWORD_ENV} are used only for the first admin and were ignored`);
    return 'exists';
  }
  try {
    await auth.createFirstAdmin({ email, password }, { via: 'env' });
    log.info({ email }, 'first admin created from the environment');
    return 'created';
  } catch (err) {
    // Another hub on the same database got there first.
    if (err instanceof AuthError && err.code === 'ALREADY_ONBOARDED') return 'exists';
    throw err;
  }
}
