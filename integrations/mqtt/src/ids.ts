/** Stable, sanitised identifiers: device ids `[a-z0-9_-]`, entity keys `[a-z0-9_]`. */

/** A device id from a topic id, MAC or unique id: lower case, other characters → `_`, trimmed. */
export function deviceId(raw: string): string {
  const id = raw.toLowerCase().replace(/[^a-z0-9_-]+/g, '_').replace(/^[_-]+|[_-]+$/g, '');
  return id || 'device';
}

/** An entity key (snake_case). */
export function entityKey(raw: string): string {
  const key = raw
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  return key || 'value';
}

/** `base` for channel 0 (or no channel), `base_<n>` otherwise. */
export function channelKey(base: string, channel: number | undefined, firstUnsuffixed: number | null = 0): string {
  if (channel === undefined || channel === firstUnsuffixed) return base;
  return `${base}_${channel}`;
}
