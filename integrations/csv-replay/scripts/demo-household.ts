/**
 * The demo household, generated deterministically: one week (Monday 7 April 2025, 00:00 UTC, to the
 * Sunday night) at one-minute resolution. Every profile draws from its own seeded stream, so
 * changing one device leaves the others' numbers alone. Pure: returns the CSV text; the script
 * generate-demo.ts writes it to demo/household.csv, and a test checks the committed file matches.
 *
 * The household lives in Central Europe on summer time (UTC+2): the profiles are written in local
 * time and the timestamps are UTC. Power is rounded to whole watts, counters to whole watt-hours.
 */

export const DEMO_START = Date.UTC(2025, 3, 7); // a Monday
export const DEMO_MINUTES = 7 * 24 * 60;
const LOCAL_OFFSET_MIN = 120;
const MINUTE_MS = 60_000;

export const DEMO_COLUMNS = [
  'time', 'fridge_w', 'washing_machine_w', 'heat_pump_w', 'ev_charger_w', 'pv_w', 'grid_w', 'grid_import_kwh', 'grid_export_kwh',
] as const;

/** Counter readings at the start of the week, in kWh. */
const IMPORT_START_KWH = 18_432;
const EXPORT_START_KWH = 6_215;

/** xorshift32: small, fast, and the same numbers on every platform. */
export function createRng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4_294_967_296;
  };
  for (let i = 0; i < 8; i++) next(); // let small seeds spread out
  return next;
}

type Rng = () => number;
const between = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();
const intBetween = (rng: Rng, lo: number, hi: number): number => Math.floor(between(rng, lo, hi + 1));

/** Local minute of the day (0–1439) and local day index (0 = Monday) of minute `m` of the week. */
function localTime(m: number): { minuteOfDay: number; day: number } {
  const local = m + LOCAL_OFFSET_MIN;
  return { minuteOfDay: local % 1440, day: Math.floor(local / 1440) };
}

/** Fridge: the compressor runs 12–18 min at 80–120 W (inrush first), then rests 18–27 min: ~40 % duty. */
function fridge(rng: Rng): number[] {
  const out: number[] = [];
  let on = false;
  let left = intBetween(rng, 5, 20);
  let runMinute = 0;
  for (let m = 0; m < DEMO_MINUTES; m++) {
    if (left <= 0) {
      on = !on;
      runMinute = 0;
      const { minuteOfDay } = localTime(m);
      // Doors open around meals: the fridge warms faster and rests less.
      const busy = (minuteOfDay >= 7 * 60 && minuteOfDay < 9 * 60) || (minuteOfDay >= 18 * 60 && minuteOfDay < 21 * 60);
      left = on ? intBetween(rng, 12, 18) : intBetween(rng, busy ? 15 : 18, busy ? 22 : 27);
    }
    if (on) {
      const base = runMinute === 0 ? 120 : 104 - runMinute * 1.2;
      out.push(Math.round(Math.max(80, base + between(rng, -3, 3))));
      runMinute++;
    } else {
      out.push(1);
    }
    left--;
  }
  return out;
}

/** One washing programme, minute by minute: fill, heat, wash, rinse, spin, anti-crease. */
function washProgramme(rng: Rng, hot: boolean): number[] {
  const p: number[] = [];
  const push = (minutes: number, f: (i: number) => number): void => {
    for (let i = 0; i < minutes; i++) p.push(Math.round(f(i)));
  };
  push(4, () => between(rng, 35, 60)); // valves and electronics
  push(hot ? intBetween(rng, 16, 22) : intBetween(rng, 7, 10), () => between(rng, 1950, 2150) + (rng() < 0.3 ? 110 : 0));
  push(intBetween(rng, 35, 50), (i) => (i % 4 === 3 ? between(rng, 30, 45) : between(rng, 230, 360))); // tumble, pause
  for (let r = 0; r < 2; r++) {
    push(3, () => between(rng, 70, 95)); // drain pump
    push(intBetween(rng, 8, 11), () => between(rng, 180, 280));
  }
  push(8, (i) => 300 + i * 35 + between(rng, -15, 15)); // spin ramps up
  push(10, () => between(rng, 2, 4)); // end of programme, display on
  return p;
}

/** Washing machine: three or four programmes a week, one of them on a delayed start at night. */
function washingMachine(rng: Rng): number[] {
  const out = new Array<number>(DEMO_MINUTES).fill(0);
  // [local day, start hour, hot wash, delayed-start hours of standby]
  const plan: [number, number, boolean, number][] = [
    [0, 19.25, true, 0],
    [2, 2.5, false, 4.25], // programmed at 22:15 on Tuesday, starts at 02:30 Wednesday
    [5, 9.5, true, 0],
    [6, 16 + rng(), false, 0],
  ];
  for (const [day, hour, hot, delayHours] of plan) {
    const start = day * 1440 + Math.round(hour * 60) + intBetween(rng, -10, 10) - LOCAL_OFFSET_MIN;
    if (delayHours > 0) {
      const from = start - Math.round(delayHours * 60);
      for (let m = from; m < start; m++) {
        // Delayed start: display and control board, with the occasional relay/pump check.
        out[m] = m === from ? 18 : rng() < 0.02 ? intBetween(rng, 12, 20) : intBetween(rng, 2, 6);
      }
    }
    washProgramme(rng, hot).forEach((w, i) => {
      if (start + i < DEMO_MINUTES) out[start + i] = w;
    });
  }
  return out;
}

/** Outdoor temperature in °C: a cool April week, warmest mid-afternoon, with day-to-day drift. */
function outdoorTemperatures(rng: Rng): number[] {
  const dayMeans = [7, 9, 6, 4, 8, 11, 10].map((t) => t + between(rng, -1, 1));
  const out: number[] = [];
  let wobble = 0;
  for (let m = 0; m < DEMO_MINUTES; m++) {
    const { minuteOfDay, day } = localTime(m);
    wobble = wobble * 0.98 + between(rng, -0.1, 0.1);
    const daily = 5 * Math.cos((2 * Math.PI * (minuteOfDay / 60 - 15)) / 24);
    out.push(dayMeans[Math.min(day, 6)]! + daily + wobble);
  }
  return out;
}

/**
 * Heat pump: electrical demand follows the heating load (below 16 °C outside, with a night setback)
 * between 0.6 and 3 kW; below its minimum modulation it cycles on and off; a hot-water run each
 * morning at ~2.6 kW. 15 W standby for the controller.
 */
function heatPump(rng: Rng, temps: number[]): number[] {
  const out: number[] = [];
  let on = false;
  let debt = 0; // heat owed to the house, in watt-minutes of electricity
  for (let m = 0; m < DEMO_MINUTES; m++) {
    const { minuteOfDay } = localTime(m);
    const setback = minuteOfDay >= 22 * 60 || minuteOfDay < 5 * 60 ? 0.6 : 1;
    const thermalKw = Math.max(0, 16 - temps[m]!) * 0.45 * setback;
    const cop = 3 + Math.max(0, temps[m]!) * 0.05;
    const need = Math.min(3000, (thermalKw / cop) * 1000);
    const hotWater = minuteOfDay >= 5 * 60 + 30 && minuteOfDay < 6 * 60 + 10;
    let w: number;
    if (hotWater) {
      w = between(rng, 2500, 2750);
    } else if (need >= 600) {
      w = Math.min(3000, need + between(rng, -40, 40));
      on = true;
      debt = 0;
    } else {
      debt += need;
      if (!on && debt > 600 * 15) on = true;
      if (on) {
        w = 600 + between(rng, 0, 60);
        debt -= w;
        if (debt <= 0) on = false;
      } else {
        w = 15;
      }
    }
    out.push(Math.round(w));
  }
  return out;
}

/** EV charger: evening sessions on some days at 11 or 7.4 kW until the car is full, tapering at the end. */
function evCharger(rng: Rng): number[] {
  const out = new Array<number>(DEMO_MINUTES).fill(2);
  const sessionDays = [0, 2, 3, 5];
  for (const day of sessionDays) {
    const arrival = day * 1440 + intBetween(rng, 17 * 60 + 30, 20 * 60) - LOCAL_OFFSET_MIN;
    const kw = rng() < 0.7 ? between(rng, 10.6, 11) : between(rng, 7.1, 7.4);
    const kwh = between(rng, 14, 34);
    const bulk = Math.round((kwh / kw) * 60);
    for (let i = 0; i < bulk + 15 && arrival + i < DEMO_MINUTES; i++) {
      const taper = i < bulk ? 1 : 1 - ((i - bulk) / 15) * 0.8; // constant-voltage phase
      out[arrival + i] = Math.round(kw * 1000 * taper + between(rng, -60, 20));
    }
  }
  return out;
}

/**
 * PV inverter, 8 kWp facing south: a daylight bell curve between sunrise (~06:40) and sunset
 * (~20:05) local time, scaled by each day's weather; passing clouds switch between direct sun and
 * shade with some persistence. Zero at night.
 */
function pvInverter(rng: Rng): number[] {
  const weather = [0.95, 0.6, 0.25, 0.8, 1, 0.55, 0.9]; // share of the day in direct sun
  const rise = 6 * 60 + 40;
  const set = 20 * 60 + 5;
  const out: number[] = [];
  let sunny = true;
  for (let m = 0; m < DEMO_MINUTES; m++) {
    const { minuteOfDay, day } = localTime(m);
    if (minuteOfDay <= rise || minuteOfDay >= set) {
      out.push(0);
      continue;
    }
    const clear = 6300 * Math.pow(Math.sin((Math.PI * (minuteOfDay - rise)) / (set - rise)), 1.4);
    const sunShare = weather[Math.min(day, 6)]!;
    // Two-state cloud model: stays sunny ~sunShare of the time, with spells of several minutes.
    if (sunny && rng() < (1 - sunShare) * 0.15) sunny = false;
    else if (!sunny && rng() < sunShare * 0.15) sunny = true;
    const factor = sunny ? between(rng, 0.96, 1.03) : between(rng, 0.18, 0.35);
    out.push(Math.round(clear * factor));
  }
  return out;
}

/** What the grid meter sees but no device reports: lights, electronics, cooking, the kettle. */
function otherLoads(rng: Rng): number[] {
  const out: number[] = [];
  let kettle = 0;
  for (let m = 0; m < DEMO_MINUTES; m++) {
    const { minuteOfDay, day } = localTime(m);
    const h = minuteOfDay / 60;
    let w = 110 + between(rng, 0, 40); // router, standby, freezer in the cellar
    if (h >= 6.5 && h < 8.5) w += 250;
    if (h >= 18 && h < 23.5) w += 280; // lights, TV
    if (h >= 18.5 && h < 19.25) w += 1600 + between(rng, -300, 300); // cooking
    if (day >= 5 && h >= 12 && h < 13) w += 1800 + between(rng, -200, 200); // weekend lunch in the oven
    if (kettle === 0 && h >= 6.5 && h < 22 && rng() < 0.006) kettle = intBetween(rng, 2, 4);
    if (kettle > 0) {
      w += 2000;
      kettle--;
    }
    out.push(Math.round(w));
  }
  return out;
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The demo household as CSV text (header + 10,080 rows, LF line ends). */
export function generateDemoHousehold(seed = 0x4a6f756c): string {
  const stream = (n: number): Rng => createRng(seed + n * 0x632be5ab);
  const fridgeW = fridge(stream(1));
  const washerW = washingMachine(stream(2));
  const heatPumpW = heatPump(stream(3), outdoorTemperatures(stream(4)));
  const evW = evCharger(stream(5));
  const pvW = pvInverter(stream(6));
  const otherW = otherLoads(stream(7));

  const lines: string[] = [DEMO_COLUMNS.join(',')];
  // Counters in watt-minutes (integers) so a week of additions never drifts.
  let importWmin = 0;
  let exportWmin = 0;
  for (let m = 0; m < DEMO_MINUTES; m++) {
    const grid = fridgeW[m]! + washerW[m]! + heatPumpW[m]! + evW[m]! + otherW[m]! - pvW[m]!;
    // The counter reading at a minute's start covers the energy before it (the power row holds for the minute after).
    const importKwh = (IMPORT_START_KWH + importWmin / 60_000).toFixed(3);
    const exportKwh = (EXPORT_START_KWH + exportWmin / 60_000).toFixed(3);
    lines.push([
      timestamp(DEMO_START + m * MINUTE_MS), fridgeW[m], washerW[m], heatPumpW[m], evW[m], pvW[m], grid, importKwh, exportKwh,
    ].join(','));
    if (grid > 0) importWmin += grid;
    else exportWmin -= grid;
  }
  return lines.join('\n') + '\n';
}
