/**
 * Writes demo/household.csv from the deterministic generator (`npm run demo:generate`).
 * The file is committed, so `npm start -- --demo` needs no generation step; a test checks that
 * running this again reproduces it byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateDemoHousehold } from './demo-household.js';

export const DEMO_CSV_PATH = fileURLToPath(new URL('../demo/household.csv', import.meta.url));

const csv = generateDemoHousehold();
writeFileSync(DEMO_CSV_PATH, csv);
process.stdout.write(`wrote ${DEMO_CSV_PATH} (${csv.length} bytes)\n`);
