/** The account page's choices: zones by current IANA names, stored values this browser cannot use. */
import { expect, it } from 'vitest';
import { currentZoneName, timeZoneChoices, usableLocale, usableTimeZone } from '../../src/lib/format.js';

it('offers zones by their current IANA names, UTC included, each usable by Intl', () => {
  const zones = timeZoneChoices();
  expect(zones).toEqual(expect.arrayContaining(['UTC', 'Asia/Kathmandu', 'Asia/Kolkata', 'Europe/Kyiv', 'Europe/Berlin']));
  expect(zones).not.toContain('Asia/Katmandu');
  expect(new Set(zones).size).toBe(zones.length);
  for (const z of zones) expect(usableTimeZone(z), z).toBe(z);
  expect(currentZoneName('Asia/Calcutta')).toBe('Asia/Kolkata');
  expect(currentZoneName('Europe/Berlin')).toBe('Europe/Berlin');
});

it('falls back to the browser for a stored value this browser cannot use', () => {
  expect(usableLocale('de-de')).toBe('de-DE');
  expect(usableLocale('not a tag!')).toBeUndefined();
  expect(usableLocale(null)).toBeUndefined();
  expect(usableTimeZone('Asia/Kathmandu')).toBe('Asia/Kathmandu');
  expect(usableTimeZone('Mars/Olympus_Mons')).toBeUndefined();
  expect(usableTimeZone(null)).toBeUndefined();
});
