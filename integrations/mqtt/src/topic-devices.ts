/**
 * Which devices a topic filter reaches, for the embedded broker's subscription check
 * (broker-auth.ts). Pure: the router is asked what it knows, nothing else.
 *
 * A concrete topic belongs to the devices the router names (topics discovery announced, command
 * topics of known switches, the families' parsers); else to the device a built-in family's command
 * topic names (a device not seen yet subscribes to its command topic before its first reading);
 * else, like the router, to the device its first two levels spell. A filter with a wildcard reaches
 * devices nobody can list, so it is not pinned (undefined) — except Tasmota's `cmnd/<topic>/#`,
 * which a Tasmota subscribes to at every connect and under which every topic is that device's
 * command.
 */
import { deviceId } from './ids.js';

export type TopicDevices = (filter: string) => string[] | undefined;

export function topicDevices(router: { devicesOfTopic(topic: string): string[] }): TopicDevices {
  const concrete = (topic: string): string[] => {
    const known = router.devicesOfTopic(topic);
    if (known.length) return known;
    const parts = topic.split('/');
    // Tasmota `cmnd/<topic>/POWER[n]`, Shelly Gen1 `shellies/<id>/relay/<n>/command`.
    if ((parts[0] === 'cmnd' || parts[0] === 'shellies') && parts.length >= 3) return [deviceId(parts[1])];
    // zigbee2mqtt `<base>/<name>/set|get`: the device of `<base>/<name>`.
    if (parts.length >= 3 && (parts.at(-1) === 'set' || parts.at(-1) === 'get')) {
      const base = router.devicesOfTopic(parts.slice(0, -1).join('/'));
      if (base.length) return base;
    }
    // Shelly Gen2+ `<prefix>/rpc`.
    if (parts.length === 2 && parts[1] === 'rpc') return [deviceId(parts[0])];
    return [deviceId(parts.slice(0, 2).join('_'))];
  };
  return (filter) => {
    const tasmota = /^cmnd\/([^/#+]+)\/#$/u.exec(filter);
    if (tasmota) return [deviceId(tasmota[1])];
    if (/[#+]/u.test(filter)) return undefined;
    return concrete(filter);
  };
}
