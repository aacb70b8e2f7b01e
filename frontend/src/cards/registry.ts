/**
 * Which cards exist and how to get their element: the built-in cards (loaded lazily, one module
 * per card, so a dashboard only downloads the cards it shows) and third-party cards, which the hub
 * lists at GET /api/v1/cards and which add themselves to `window.customCards` like Home Assistant's.
 */
import type { CardClass, CustomCardEntry, HubConnection } from './types.js';

export interface BuiltinCard extends CustomCardEntry {
  /** The config `type` (`gauge`); the element is `jh-<type>-card`. */
  configType: string;
  load: () => Promise<unknown>;
}

export const BUILTIN_CARDS: readonly BuiltinCard[] = [
  { configType: 'gauge', type: 'jh-gauge-card', name: 'Gauge', description: 'Live power of one or several entities against a maximum', load: () => import('./gauge-card.js') },
  { configType: 'stat', type: 'jh-stat-card', name: 'Statistic', description: "Current power, today's or this month's energy, with its trend", load: () => import('./stat-card.js') },
  { configType: 'energy-bars', type: 'jh-energy-bars-card', name: 'Energy bars', description: 'kWh per 15 minutes, hour, day or month for several devices, stacked', load: () => import('./energy-bars-card.js') },
  { configType: 'history', type: 'jh-history-card', name: 'History', description: 'Power over time with zoom', load: () => import('./history-card.js') },
  { configType: 'pie', type: 'jh-pie-card', name: 'Energy share', description: 'Share of energy per device over a period (pie or donut)', load: () => import('./pie-card.js') },
  { configType: 'switch', type: 'jh-switch-card', name: 'Switch', description: 'Turn a switch on or off', load: () => import('./switch-card.js') },
  { configType: 'device-list', type: 'jh-device-list-card', name: 'Device list', description: 'Devices with live power and status', load: () => import('./device-list-card.js') },
  { configType: 'energy-flow', type: 'jh-energy-flow-card', name: 'Energy flow', description: 'Grid, solar, battery and home with live arrows', load: () => import('./energy-flow-card.js') },
  { configType: 'notifications', type: 'jh-notifications-card', name: 'Notifications', description: 'Recent notifications', load: () => import('./notifications-card.js') },
];

const BUILTIN_BY_TYPE = new Map(BUILTIN_CARDS.map((c) => [c.configType, c]));

/** `gauge` → `jh-gauge-card`; `custom:acme-card` → `acme-card`; undefined for an unusable type. */
export function elementNameFor(type: unknown): string | undefined {
  if (typeof type !== 'string') return undefined;
  if (type.startsWith('custom:')) {
    const name = type.slice('custom:'.length);
    return /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(name) ? name : undefined;
  }
  return BUILTIN_BY_TYPE.get(type)?.type;
}

/** The config `type` for an entry of window.customCards (its `type` is the element name). */
export function configTypeFor(elementName: string): string {
  const builtin = BUILTIN_CARDS.find((c) => c.type === elementName);
  return builtin ? builtin.configType : `custom:${elementName}`;
}

/** Adds the built-in cards to window.customCards (once), so the picker reads one list. */
export function registerBuiltinCards(): void {
  const list = (window.customCards ??= []);
  for (const c of BUILTIN_CARDS) {
    if (!list.some((e) => e.type === c.type)) list.push({ type: c.type, name: c.name, description: c.description });
  }
}

/** Settles when the third-party modules the hub lists have been imported (or failed). */
let customModulesSettled: Promise<unknown> = Promise.resolve();

/** How long a card type may take to define its element before the card shows an error. */
export const DEFINE_TIMEOUT_MS = 5000;

/** The class of a card type, loading a built-in card's module on first use. Rejects with a readable error. */
export async function loadCardClass(type: unknown, timeoutMs = DEFINE_TIMEOUT_MS): Promise<CardClass> {
  const name = elementNameFor(type);
  if (!name) {
    throw new Error(typeof type === 'string' && type
      ? `Unknown card type "${type}" (built-in: ${BUILTIN_CARDS.map((c) => c.configType).join(', ')}; third-party cards are written custom:<element-name>)`
      : 'The card config has no "type"');
  }
  const builtin = BUILTIN_BY_TYPE.get(String(type));
  if (builtin) {
    try {
      await builtin.load();
    } catch (err) {
      throw new Error(`The ${builtin.name} card could not be loaded: ${(err as Error).message}`);
    }
  }
  let defined = customElements.get(name);
  if (defined) return defined as unknown as CardClass;
  if (!builtin) {
    // A third-party element is defined by its module: once the modules are in, it exists or never will.
    await customModulesSettled;
    defined = customElements.get(name);
    if (defined) return defined as unknown as CardClass;
    timeoutMs = Math.min(timeoutMs, 500);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      customElements.whenDefined(name).then(() => customElements.get(name) as unknown as CardClass),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Card element <${name}> was not defined; is its module in the cards folder, and did it load without errors?`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CardModuleResult { url: string; error?: string }

/** Imports every third-party card module the hub lists; one failing module never stops the others. */
export function loadCustomCardModules(hub: HubConnection): Promise<CardModuleResult[]> {
  const loading = importCustomCardModules(hub);
  customModulesSettled = loading;
  return loading;
}

async function importCustomCardModules(hub: HubConnection): Promise<CardModuleResult[]> {
  let modules: { url: string }[];
  try {
    modules = (await hub.api<{ data: { url: string }[] }>('/cards')).data;
  } catch (err) {
    return [{ url: '/api/v1/cards', error: `The list of third-party cards could not be read: ${(err as Error).message}` }];
  }
  return Promise.all(modules.map(async ({ url }) => {
    try {
      await import(/* @vite-ignore */ url);
      return { url };
    } catch (err) {
      return { url, error: `${url} failed to load: ${(err as Error).message}` };
    }
  }));
}
