import { describe, expect, it } from 'vitest';
import { matchRoute, type Route } from '../../src/app/router.js';

const routes: Route[] = [
  { pattern: '/', page: 'home' },
  { pattern: '/devices', page: 'devices' },
  { pattern: '/devices/:id', page: 'device' },
  { pattern: '/login', page: 'login', public: true },
];

describe('matchRoute', () => {
  it('matches static and parameterised paths, with the query', () => {
    expect(matchRoute(routes, '/')?.route.page).toBe('home');
    expect(matchRoute(routes, '/devices/')?.route.page).toBe('devices');
    const m = matchRoute(routes, '/devices/heat%20pump?date=2026-03-29');
    expect(m?.route.page).toBe('device');
    expect(m?.params).toEqual({ id: 'heat pump' });
    expect(m?.query.get('date')).toBe('2026-03-29');
    expect(m?.path).toBe('/devices/heat%20pump?date=2026-03-29');
  });

  it('matches nothing for unknown paths, extra segments or broken escapes', () => {
    expect(matchRoute(routes, '/nope')).toBeUndefined();
    expect(matchRoute(routes, '/devices/a/b')).toBeUndefined();
    expect(matchRoute(routes, '/devices/%E0%A4%A')).toBeUndefined();
  });
});
