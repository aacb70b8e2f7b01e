/**
 * What the shell hands every page: the live connection, the user, the router and the user's locale
 * and time zone (the account's stored ones when set, else the browser's).
 */
import type { LiveConnection, HubUser } from '../lib/connection.js';
import type { ApiClient } from '../lib/api.js';
import type { Router } from './router.js';

export interface AppContext {
  client: ApiClient;
  /** Undefined until logged in. */
  conn?: LiveConnection;
  user: HubUser | null;
  router: Router;
  locale: string;
  timeZone: string;
  /** After login, onboarding or register: load the user and open the live connection. */
  signedIn(next?: string): Promise<void>;
  signOut(): Promise<void>;
  /** The account changed (its locale or zone): load the user again and re-render with it. */
  reloadUser(): Promise<void>;
  /** Shows a short message in the status area (role=status). */
  toast(text: string, kind?: 'ok' | 'bad'): void;
}
