import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Spool, type Batch } from '../../src/storage/spool.js';

const log = pino({ level: 'silent' });
let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'joulehub-test-spoolfile-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

const batch = (i: number, n: number): Batch => ({
  ids: Array.from({ length: n }, (_, k) => `e${k % 3}.power`),
  ts: Array.from({ length: n }, (_, k) => 1_750_000_000_000 + i * 1000 + k),
  vs: Array.from({ length: n }, (_, k) => (k % 5 === 0 ? null : i + k / 10)),
  endSeq: 0,
});

/** Readings in order, whatever the line boundaries. */
const flat = (batches: Batch[]) => batches.flatMap((b) => b.ids.map((id, i) => [id, b.ts[i], b.vs[i]] as const));

async function readAll(spool: Spool): Promise<Batch[]> {
  const out: Batch[] = [];
  while (spool.pending) {
    for (const { batch: b, end } of await spool.readNext()) {
      out.push(b);
      spool.consumed(end);
    }
  }
  return out;
}

it('appends many batches in one call (more than one writev can take) and reads them back in order, large ones split into lines', async () => {
  const spool = new Spool(path.join(dir, 'spool.ndjson'), log);
  await spool.init();
  const first = Array.from({ length: 1500 }, (_, i) => batch(i, 1 + (i % 4)));
  const second = [batch(9999, 20_000)]; // one long line, larger than a small read window would be
  await spool.append(first);
  await spool.append(second);
  const back = await readAll(spool);
  expect(back.slice(0, first.length)).toEqual(first); // small batches stay one line each
  expect(back.length).toBe(first.length + 10); // 20k readings → 10 lines of 2,000
  const got = flat(back);
  const want = flat([...first, ...second]);
  expect(got.length).toBe(want.length);
  expect(got.every((r, i) => r[0] === want[i][0] && r[1] === want[i][1] && r[2] === want[i][2])).toBe(true);
  await spool.clear();
  expect(spool.pending).toBe(false);
});

it('survives a restart: a new Spool over the same file replays everything appended', async () => {
  const file = path.join(dir, 'spool.ndjson');
  const a = new Spool(file, log);
  await a.init();
  const batches = [batch(1, 3), batch(2, 5), batch(3, 7)];
  await a.append(batches);
  await a.close();
  const b = new Spool(file, log);
  await b.init();
  expect(await readAll(b)).toEqual(batches);
});
