/** Helpers for static getStubConfig: pick sensible entities from what the user can see. Pure. */
import type { Device, Entity } from './types.js';

export const byKind = (entities: readonly Entity[], kind: string) => entities.filter((e) => e.kind === kind);

/** The first power entity, preferring household loads over the grid meter. */
export function firstPower(entities: readonly Entity[]): Entity | undefined {
  const power = byKind(entities, 'power');
  return power.find((e) => e.role === 'load' || e.role === null) ?? power[0];
}

export function deviceName(devices: readonly Device[], id: string): string {
  return devices.find((d) => d.id === id)?.name ?? id;
}

/** Devices that have some energy (a meter, interval energy or power), at most `max`. */
export function energyDevices(entities: readonly Entity[], max: number): string[] {
  const ids: string[] = [];
  for (const e of entities) {
    if (['power', 'energy_total', 'energy_interval'].includes(e.kind) && !ids.includes(e.device_id)) ids.push(e.device_id);
  }
  return ids.slice(0, max);
}

export function roleEntity(entities: readonly Entity[], role: string): string | undefined {
  return entities.find((e) => e.kind === 'power' && e.role === role)?.id;
}
