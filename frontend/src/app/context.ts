/** What the shell hands every page: the live connection, the user, the router and the user's locale. */
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
  /** Shows a short message in the status area (role=status). */
  toast(text: string, kind?: 'ok' | 'bad'): void;
}
