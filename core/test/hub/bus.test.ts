import { describe, expect, it } from 'vitest';
import { captureLog } from './support.js';
import { createEventBus } from '../../src/hub/bus.js';

const registered = (deviceId: string) => ({ deviceId });

describe('EventBus', () => {
  it('delivers typed events and removes all of an owner\'s listeners at once', () => {
    const bus = createEventBus({ log: captureLog().log });
    const seen: string[] = [];
    bus.on('mqtt', 'device_registered', (e) => seen.push(`mqtt:${e.deviceId}`));
    bus.on('mqtt', 'entity_registered', (e) => seen.push(`mqtt:${e.entityId}`));
    bus.on('api', 'device_registered', (e) => seen.push(`api:${e.deviceId}`));

    bus.emit('device_registered', registered('fridge'));
    bus.emit('entity_registered', { entityId: 'fridge.power', deviceId: 'fridge', kind: 'power' });
    bus.offOwner('mqtt');
    bus.emit('device_registered', registered('oven'));
    bus.emit('entity_registered', { entityId: 'oven.power', deviceId: 'oven', kind: 'power' });

    expect(seen).toEqual(['mqtt:fridge', 'api:fridge', 'mqtt:fridge.power', 'api:oven']);
    expect(bus.listenerCount('mqtt')).toBe(0);
  });

  it('unsubscribes one listener with the returned function', () => {
    const bus = createEventBus({ log: captureLog().log });
    const seen: string[] = [];
    const off = bus.on('a', 'device_registered', (e) => seen.push(`1:${e.deviceId}`));
    bus.on('a', 'device_registered', (e) => seen.push(`2:${e.deviceId}`));
    off();
    bus.emit('device_registered', registered('x'));
    expect(seen).toEqual(['2:x']);
  });

  it('logs a throwing listener with owner and event; the others still run', async () => {
    const { log, lines } = captureLog();
    const failures: string[] = [];
    const bus = createEventBus({ log, onListenerError: (owner, event) => failures.push(`${owner}/${event}`) });
    const seen: string[] = [];
    bus.on('first', 'device_registered', (e) => seen.push(`first:${e.deviceId}`));
    bus.on('broken', 'device_registered', () => {
      throw new Error('listener bug');
    });
    bus.on('async-broken', 'device_registered', async () => {
      throw new Error('async listener bug');
    });
    bus.on('last', 'device_registered', (e) => seen.push(`last:${e.deviceId}`));

    expect(() => bus.emit('device_registered', registered('fridge'))).not.toThrow();
    await new Promise((r) => setImmediate(r));

    expect(seen).toEqual(['first:fridge', 'last:fridge']);
    expect(failures.sort()).toEqual(['async-broken/device_registered', 'broken/device_registered']);
    const logged = lines.filter((l) => l.msg === 'event listener failed');
    expect(logged.map((l) => [l.owner, l.event, (l.err as { message: string }).message]).sort()).toEqual([
      ['async-broken', 'device_registered', 'async listener bug'],
      ['broken', 'device_registered', 'listener bug'],
    ]);
  });
});
