import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instantReader } from '../../src/import/timestamp.js';
import { parseInstant } from '../../src/sdk/index.js';

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

describe('reading import timestamps in place', () => {
  it('gives parseInstant\'s instant for every time it reads, across days, and leaves other forms to it', () => {
    const read = instantReader();
    fc.assert(fc.property(
      fc.array(fc.record({
        y: fc.oneof(fc.integer({ min: 1990, max: 2040 }), fc.integer({ min: 0, max: 9999 })),
        mo: fc.integer({ min: 0, max: 13 }),
        d: fc.integer({ min: 0, max: 32 }),
        h: fc.integer({ min: 0, max: 25 }),
        mi: fc.integer({ min: 0, max: 61 }),
        s: fc.integer({ min: 0, max: 61 }),
        ms: fc.option(fc.integer({ min: 0, max: 999 })),
        lead: fc.constantFrom('', 'x,', ' '),
      }), { minLength: 1, maxLength: 30 }),
      (times) => {
        for (const x of times) {
          const iso = `${pad(x.y, 4)}-${pad(x.mo, 2)}-${pad(x.d, 2)}T${pad(x.h, 2)}:${pad(x.mi, 2)}:${pad(x.s, 2)}${x.ms === null ? '' : `.${pad(x.ms, 3)}`}Z`;
          const line = `${x.lead}${iso},1.5`;
          const got = read(line, x.lead.length, x.lead.length + iso.length);
          const expected = parseInstant(iso);
          if (!Number.isNaN(got)) expect(got).toBe(expected);
          // The common form of real files is always read in place.
          if (x.y >= 1000 && !Number.isNaN(expected)) expect(got).toBe(expected);
        }
      },
    ), { numRuns: 300 });
  });

  it('refuses what is not a plain UTC time, so the caller asks parseInstant', () => {
    const read = instantReader();
    for (const s of ['2025-04-07T00:00:00+02:00', '2025-04-07 00:00:00Z', '2025-04-07T00:00Z', '2025-02-29T00:00:00Z', '2025-04-07T24:00:00Z', '2025-04-07t00:00:00z', '2025-04-07T00:00:00.5Z', 'garbage-of-twenty-ch']) {
      expect(read(s, 0, s.length)).toBeNaN();
    }
    expect(read('2024-02-29T23:59:59.999Z', 0, 24)).toBe(Date.parse('2024-02-29T23:59:59.999Z'));
  });

  it("parseInstant (the SDK's, shared with csv-replay) accepts only times with an offset that exist on the calendar", () => {
    expect(parseInstant('2025-04-07T02:00:00+02:00')).toBe(Date.UTC(2025, 3, 7));
    expect(parseInstant('2025-04-07 05:45+05:45')).toBe(Date.UTC(2025, 3, 7));
    expect(parseInstant('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of ['2025-04-07T00:00:00', '2025-02-29T00:00:00Z', '2025-04-07T24:00:00Z', '1744000000', '']) {
      expect(parseInstant(bad)).toBeNaN();
    }
  });
});
