/**
 * The typed event bus. Listeners are registered with their owner so stopping the owner removes
 * them all (`offOwner`); a throwing listener is logged with owner and event, and the other
 * listeners of that event still run. Dispatch is synchronous; a listener's rejected promise is
 * caught and logged the same way.
 */
import type { Logger } from 'pino';
import type { EventBus, HubEventName, HubEvents } from '../sdk/types.js';

interface Listener {
  owner: string;
  event: HubEventName;
  fn: (payload: never) => unknown;
}

export interface HubEventBus extends EventBus {
  /** Number of listeners, per owner or in total. */
  listenerCount(owner?: string): number;
}

export interface CreateEventBusOptions {
  log: Logger;
  /** Told about a throwing listener after it is logged (the plugin runner marks the owner failed). */
  onListenerError?: (owner: string, event: HubEventName, err: unknown) => void;
}

export function createEventBus(opts: CreateEventBusOptions): HubEventBus {
  const { log } = opts;
  const byEvent = new Map<HubEventName, Listener[]>();

  const report = (listener: Listener, err: unknown) => {
    log.error({ err, owner: listener.owner, event: listener.event }, 'event listener failed');
    try {
      opts.onListenerError?.(listener.owner, listener.event, err);
    } catch (handlerErr) {
      log.error({ err: handlerErr }, 'listener error handler failed');
    }
  };

  const remove = (listener: Listener) => {
    const list = byEvent.get(listener.event);
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  };

  return {
    on(owner, event, fn) {
      const listener: Listener = { owner, event, fn: fn as (payload: never) => unknown };
      const list = byEvent.get(event) ?? [];
      list.push(listener);
      byEvent.set(event, list);
      return () => remove(listener);
    },
    emit<E extends HubEventName>(event: E, payload: HubEvents[E]) {
      const list = byEvent.get(event);
      if (!list?.length) return;
      // A listener may unsubscribe (or subscribe) while we dispatch: iterate over a snapshot.
      for (const listener of [...list]) {
        try {
          const result = (listener.fn as (p: HubEvents[E]) => unknown)(payload);
          if (result && typeof (result as Promise<unknown>).then === 'function') {
            (result as Promise<unknown>).then(undefined, (err: unknown) => report(listener, err));
          }
        } catch (err) {
          report(listener, err);
        }
      }
    },
    offOwner(owner) {
      for (const [event, list] of byEvent) {
        byEvent.set(event, list.filter((l) => l.owner !== owner));
      }
    },
    listenerCount(owner) {
      let n = 0;
      for (const list of byEvent.values()) for (const l of list) if (owner === undefined || l.owner === owner) n++;
      return n;
    },
  };
}
