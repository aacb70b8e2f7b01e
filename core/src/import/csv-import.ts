/**
 * `joulehub import FILE --device ID --units kW`: loads a historical CSV of one quantity into the
 * samples table through COPY, then recomputes the energy ledger over the imported range.
 *
 * - Streaming: the file is parsed as it is read and rows flow straight into COPY, so memory stays
 *   flat whatever the file size. Per row: one regex, one multiplication, one plausibility check.
 * - Bad rows are reported and skipped: every row is validated (unreadable or offset-less time,
 *   negative or non-numeric value, missing field); a bad one is listed by line and reason in the
 *   result (the first MAX_LISTED_PROBLEMS, and the total count) and every good row is stored — fix
 *   the lines and import again, which is safe (see below). With `strict`, a first pass validates the
 *   whole file and any bad row fails the import (ImportError IMPORT_BAD_ROWS) with nothing stored.
 * - Nothing accepted is lost: rows are committed in chunks (storage's copySamples); if the import
 *   fails midway (database gone), the ledger is still brought up to date for what was committed.
 * - Idempotent: samples are upserted per (entity, time), last write wins; importing the same file
 *   twice changes no total. Within one file, a time that appears twice: the later line wins.
 * - Readings the plausibility guard refuses (sentinels, implied power above the device maximum) are
 *   quarantined with their reason, as for live readings, and never reach the ledger.
 * - The entity is registered as the batch API does: power units → `<device>.power`, interval energy
 *   → `<device>.energy`, cumulative energy (`reading: 'cumulative'`) → `<device>.energy_total`.
 * - An unknown device is an error (IMPORT_UNKNOWN_DEVICE) unless `createDevice` is set, which
 *   creates it with its id as name.
 *
 * Line numbers count physical lines from 1 (the header is line 1) and assume one record per line,
 * which is what readings files look like (no quoted multi-line fields).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse, type Parser } from 'csv-parse';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { JoulehubError } from '../sdk/errors.js';
import type { EntityKind } from '../sdk/types.js';
import { checkPlausibility, type PlausibilityContext } from '../energy/plausibility.js';
import { kindForBatch, unitFactor, UnitError, type ReadingType } from '../energy/units.js';
import type { Sample } from '../energy/types.js';
import type { DeviceRegistry, Entity, EntityRegistry } from '../hub/types.js';
import type { SampleColumns } from '../storage/samples.js';
import { copySampleBatches } from '../storage/samples-copy.js';
import { recomputeLedger, type KnownSamples } from '../storage/ledger.js';
import type { Database } from '../storage/schema.js';
import { parseInstant } from '../sdk/time.js';
import { instantReader } from './timestamp.js';

export interface ImportDeps {
  db: Kysely<Database>;
  devices: DeviceRegistry;
  entities: EntityRegistry;
  log: Logger;
}

export interface ImportOptions {
  deviceId: string;
  /** W, kW, Wh or kWh (any case). */
  units: string;
  /** For energy units: 'interval' (default, energy of the period from the reading) or 'cumulative' (meter reading). */
  reading?: ReadingType;
  /** Header of the time column; default the first of datetime/time/timestamp/date, else the first column. */
  timeColumn?: string;
  /** Header of the value column; default `value`, else the only other column. */
  valueColumn?: string;
  /** Create the device (name = id) when it does not exist, instead of failing. */
  createDevice?: boolean;
  /** Validate the whole file first and store nothing when any row is bad (two passes over the file). */
  strict?: boolean;
  /** Called as the file is read: bytes read so far and the total (the file size; twice it with `strict`). */
  onProgress?(done: number, total: number): void;
}

export interface RowProblem {
  line: number;
  reason: string;
}

export interface ImportResult {
  entityId: string;
  kind: EntityKind;
  /** Readings stored (rows read minus bad and quarantined ones). */
  rows: number;
  /** Readings the plausibility guard refused (see the quarantine API). */
  quarantined: number;
  /** Bad rows skipped. */
  skipped: number;
  /** The first bad rows, by line (at most MAX_LISTED_PROBLEMS). */
  problems: RowProblem[];
  /** First and last stored reading, null when nothing was stored. */
  from: Date | null;
  to: Date | null;
}

/** Codes: IMPORT_FILE_NOT_FOUND, IMPORT_UNKNOWN_DEVICE, IMPORT_BAD_UNITS, IMPORT_BAD_COLUMNS, IMPORT_ENTITY_KIND_CONFLICT, IMPORT_BAD_ROWS, IMPORT_EMPTY, IMPORT_PARSE, IMPORT_IMPLAUSIBLE. */
export class ImportError extends JoulehubError {}

export const MAX_LISTED_PROBLEMS = 20;

const KEY_FOR_KIND: Partial<Record<EntityKind, string>> = { power: 'power', energy_interval: 'energy', energy_total: 'energy_total' };
const NAME_FOR_KEY: Record<string, string> = { power: 'Power', energy: 'Energy', energy_total: 'Energy meter' };
const TIME_HEADERS = ['datetime', 'time', 'timestamp', 'date'];
const QUARANTINE_BATCH = 1_000;
/** Refused readings are kept until the import commits; this many means wrong units, not a few glitches. */
const MAX_QUARANTINED = 100_000;
/**
 * Stored readings kept in memory (16 bytes each) so the ledger is computed from them rather than
 * read back; a larger or unsorted file is read back window by window.
 */
const MAX_KNOWN = 4_000_000;

/** Appends to the readings kept for the ledger; undefined once they cannot serve it (unsorted, too many). */
function keep(known: KnownSamples | undefined, t: number, v: number): KnownSamples | undefined {
  if (!known) return undefined;
  const n = known.count;
  if ((n > 0 && t <= known.t[n - 1]) || n >= MAX_KNOWN || !Number.isInteger(t)) return undefined;
  if (n === known.t.length) {
    const t2 = new Float64Array(n * 2);
    const v2 = new Float64Array(n * 2);
    t2.set(known.t);
    v2.set(known.v);
    known.t = t2;
    known.v = v2;
  }
  known.t[n] = t;
  known.v[n] = v + 0;
  known.count = n + 1;
  return known;
}

interface Columns { time: number; value: number; width: number; headerLine: boolean }

/** Picks the time and value columns from the first record (a header, or data when it starts with a time). */
function pickColumns(first: string[], opts: ImportOptions): Columns {
  const headers = first.map((h) => h.trim());
  if (!Number.isNaN(parseInstant(headers[0] ?? ''))) {
    if (opts.timeColumn || opts.valueColumn) {
      throw new ImportError('IMPORT_BAD_COLUMNS', 'the file has no header row, so columns cannot be chosen by name', { line: 1 });
    }
    if (headers.length < 2) throw new ImportError('IMPORT_BAD_COLUMNS', 'line 1: expected a time and a value', { line: 1 });
    return { time: 0, value: 1, width: headers.length, headerLine: false };
  }
  const lower = headers.map((h) => h.toLowerCase());
  const find = (name: string, option: string): number => {
    const i = lower.indexOf(name.toLowerCase());
    if (i < 0) throw new ImportError('IMPORT_BAD_COLUMNS', `${option}: no column "${name}" in the header (${headers.join(', ')})`, { column: name, headers });
    return i;
  };
  const time = opts.timeColumn ? find(opts.timeColumn, 'time column') : TIME_HEADERS.map((h) => lower.indexOf(h)).find((i) => i >= 0) ?? 0;
  let value: number;
  if (opts.valueColumn) value = find(opts.valueColumn, 'value column');
  else if (lower.includes('value')) value = lower.indexOf('value');
  else if (headers.length === 2) value = 1 - time;
  else {
    throw new ImportError('IMPORT_BAD_COLUMNS', `which column holds the values? Name it with the value column option (header: ${headers.join(', ')})`, { headers });
  }
  if (time === value) throw new ImportError('IMPORT_BAD_COLUMNS', `the time and value columns are both "${headers[time]}"`, { headers });
  return { time, value, width: headers.length, headerLine: true };
}

/** Batches of records as the parser produces them (one await per batch, not per row). */
async function* recordBatches(parser: Parser): AsyncGenerator<string[][]> {
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  parser.on('readable', () => wake?.());
  parser.on('end', () => { ended = true; wake?.(); });
  parser.on('error', (err: Error) => { failure = err; wake?.(); });
  for (;;) {
    const batch: string[][] = [];
    for (let r = parser.read() as string[] | null; r !== null; r = parser.read() as string[] | null) batch.push(r);
    if (batch.length > 0) {
      yield batch;
      continue;
    }
    if (failure) throw failure;
    if (ended) return;
    await new Promise<void>((resolve) => { wake = resolve; });
    wake = undefined;
  }
}

/** A lone CR (not part of CRLF) at or before `end`: an old-Mac line ending, left to csv-parse. */
function hasLoneCr(text: string, end: number): boolean {
  for (let i = text.indexOf('\r'); i >= 0 && i <= end; i = text.indexOf('\r', i + 1)) {
    if (text.charCodeAt(i + 1) !== 10) return true;
  }
  return false;
}

/** Complete plain lines of the file: text[from..end], `end` being the last line's newline (or the text's end). */
interface PlainBlock { text: string; from: number; end: number }

/**
 * Blocks of the file. Readings files are plain lines of comma-separated fields, and reading
 * those in place (no array or string per field) is several times cheaper than a general CSV
 * parser; from the first block that holds a quote or a lone CR, the rest goes through csv-parse
 * as batches of records (same records, same errors, line numbers counted from the file's start).
 */
async function* fileRecords(input: NodeJS.ReadableStream): AsyncGenerator<PlainBlock | string[][]> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let start = true;
  let lines = 0;
  for (;;) {
    const next = await chunks.next();
    let text = carry + (next.done ? decoder.end() : decoder.write(next.value));
    if (start && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      start = false;
    }
    const end = next.done ? text.length - 1 : text.lastIndexOf('\n');
    if (text.includes('"') || hasLoneCr(text, end)) {
      yield* parsedRest(text, next.done ? undefined : chunks, decoder, lines);
      return;
    }
    if (end >= 0) {
      for (let i = text.indexOf('\n'); i >= 0 && i <= end; i = text.indexOf('\n', i + 1)) lines += 1;
      if (next.done && text.charCodeAt(end) !== 10) lines += 1;
      carry = text.slice(end + 1);
      yield { text, from: 0, end };
    } else {
      carry = text;
    }
    if (next.done) return;
  }
}

/** The rest of the file through csv-parse, starting with `text`; its error lines are made file lines. */
async function* parsedRest(text: string, chunks: AsyncIterator<Buffer> | undefined, decoder: StringDecoder, linesBefore: number): AsyncGenerator<string[][]> {
  async function* rest(): AsyncGenerator<string> {
    yield text;
    if (!chunks) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield decoder.write(next.value);
    const tail = decoder.end();
    if (tail) yield tail;
  }
  // No trimming or empty-line skipping in the parser (each costs ~30 % of its speed): blank lines
  // arrive as one empty field and are skipped by the caller, which also keeps line numbers exact.
  const parser = Readable.from(rest()).pipe(parse({ relax_column_count: true }));
  try {
    yield* recordBatches(parser);
  } catch (err) {
    const e = err as { code?: unknown; lines?: number };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_') && typeof e.lines === 'number') e.lines += linesBefore;
    throw err;
  } finally {
    parser.destroy();
  }
}

async function resolveEntity(deps: ImportDeps, opts: ImportOptions): Promise<{ entity: Entity; factor: number; maxPowerW?: number }> {
  let kind: EntityKind;
  let factor: number;
  try {
    const target = kindForBatch(opts.units, opts.reading);
    if (!['W', 'kW', 'Wh', 'kWh'].includes(target.unit)) throw new UnitError('UNIT_UNKNOWN', `unit ${opts.units}`);
    kind = target.kind;
    factor = unitFactor(kind, target.unit);
  } catch (err) {
    if (!(err instanceof UnitError)) throw err;
    const reason = err.code === 'UNIT_READING_MISMATCH' ? err.message : `unknown units "${opts.units}": use W, kW, Wh or kWh (any case)`;
    throw new ImportError('IMPORT_BAD_UNITS', reason, { units: opts.units, reading: opts.reading });
  }
  let device = deps.devices.get(opts.deviceId);
  if (!device) {
    if (!opts.createDevice) {
      throw new ImportError('IMPORT_UNKNOWN_DEVICE', `no device "${opts.deviceId}": create it first (API or integration), or import with --create-device`, { deviceId: opts.deviceId });
    }
    device = await deps.devices.upsert({ id: opts.deviceId, name: opts.deviceId }, null);
    deps.log.info({ deviceId: device.id }, 'import: created device');
  }
  const key = KEY_FOR_KIND[kind]!;
  const id = `${device.id}.${key}`;
  let entity = deps.entities.get(id);
  if (entity && entity.kind !== kind) {
    throw new ImportError('IMPORT_ENTITY_KIND_CONFLICT', `entity ${id} is a ${entity.kind}, but these readings describe ${kind}`, { entityId: id, kind });
  }
  entity ??= await deps.entities.register(device.id, { key, kind, name: NAME_FOR_KEY[key] });
  return { entity, factor, maxPowerW: device.maxPowerW ?? undefined };
}

interface Quarantined { t: number; v: number; raw: string; reason: string }

/** Records refused readings once: a second import of the same file adds no duplicates. */
async function writeQuarantine(db: Kysely<Database>, entityId: string, rows: Quarantined[]): Promise<void> {
  for (let i = 0; i < rows.length; i += QUARANTINE_BATCH) {
    const chunk = rows.slice(i, i + QUARANTINE_BATCH);
    await sql`
      insert into quarantine (entity_id, time, value, raw, reason)
      select ${entityId}, q.time, q.value, q.raw, q.reason
      from unnest(${chunk.map((r) => new Date(r.t).toISOString())}::timestamptz[], ${chunk.map((r) => r.v)}::float8[],
                  ${chunk.map((r) => r.raw)}::text[], ${chunk.map((r) => r.reason)}::text[]) as q(time, value, raw, reason)
      where not exists (select 1 from quarantine x where x.entity_id = ${entityId} and x.time = q.time and x.reason = q.reason)`.execute(db);
  }
}

/**
 * Good rows of one block, as columns: no object per row. The value's text (for the quarantine) is
 * cut from the block only when asked for.
 */
class GoodRows {
  n = 0;
  line: Float64Array;
  t: Float64Array;
  raw: Float64Array;
  private readonly at: Int32Array;
  private readonly len: Int32Array;
  /** Value texts of rows that came as separate fields (at = -1). */
  private readonly texts = new Map<number, string>();

  constructor(capacity: number, private readonly src = '') {
    this.line = new Float64Array(capacity);
    this.t = new Float64Array(capacity);
    this.raw = new Float64Array(capacity);
    this.at = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
  }

  /** A good row; its value text is src[at, at + len) (trimmed when read), or `text` when at is -1. */
  push(line: number, t: number, raw: number, at: number, len: number, text: string): void {
    const i = this.n++;
    this.line[i] = line;
    this.t[i] = t;
    this.raw[i] = raw;
    this.at[i] = at;
    this.len[i] = len;
    if (at < 0) this.texts.set(i, text);
  }

  text(i: number): string {
    return this.at[i] < 0 ? this.texts.get(i)! : this.src.slice(this.at[i], this.at[i] + this.len[i]).trim();
  }
}

/** True when text[s, e) is empty or only whitespace. */
function blank(text: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (text.charCodeAt(i) > 32) return text.slice(s, e).trim() === '';
  return true;
}

/**
 * Streams `file` and yields its good rows in the parser's batches (one await per batch, not per
 * row); bad rows go to `problem` with their line. Throws ImportError for a file that cannot be read
 * as CSV at all (no rows, unusable header, unclosed quote).
 */
async function* validRows(
  file: string, opts: ImportOptions, problem: (line: number, reason: string) => void, progress: (bytes: number) => void,
): AsyncGenerator<GoodRows> {
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  let line = 0;
  let cols: Columns | undefined;
  let reported = 0;
  const instant = instantReader();

  /** Checks one row's time and value fields; a good row goes into `good`. */
  const check = (good: GoodRows, timeText: string | undefined, t: number, valueText: string, at: number, len: number): void => {
    if (Number.isNaN(t)) {
      t = parseInstant(timeText!);
      if (Number.isNaN(t)) {
        problem(line, timeText!.trim() === '' ? 'missing time' : `time "${timeText}" is not an ISO 8601 date-time with an offset (e.g. 2025-04-07T00:00:00Z)`);
        return;
      }
    }
    const text = valueText.trim();
    const raw = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(raw)) {
      problem(line, text === '' ? 'missing value' : `value "${valueText}" is not a number`);
      return;
    }
    if (raw < 0) {
      problem(line, `value ${text} is negative`);
      return;
    }
    good.push(line, t, raw, at, len, text);
  };

  /** A record given as its fields (csv-parse's, or the first line's). */
  const record = (good: GoodRows, rec: string[]): void => {
    if (rec.length === 1 && rec[0].trim() === '') return;
    if (!cols) {
      cols = pickColumns(rec, opts);
      if (cols.headerLine) return;
    }
    const timeText = rec[cols.time];
    const valueText = rec[cols.value];
    if (timeText === undefined || valueText === undefined) {
      problem(line, `expected ${cols.width} fields, found ${rec.length}`);
      return;
    }
    check(good, timeText, Number.NaN, valueText, -1, 0);
  };

  try {
    for await (const block of fileRecords(input)) {
      let good: GoodRows;
      if (Array.isArray(block)) {
        good = new GoodRows(block.length);
        for (const rec of block) {
          line += 1;
          record(good, rec);
        }
      } else {
        const { text, end } = block;
        // Lines are at least a time and a comma long, so this bounds the rows of the block.
        good = new GoodRows(Math.ceil((end + 1 - block.from) / 12) + 1, text);
        for (let from = block.from; from <= end;) {
          let nl = text.indexOf('\n', from);
          if (nl < 0 || nl > end) nl = end + 1;
          const stop = nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
          line += 1;
          if (!cols) {
            record(good, text.slice(from, stop).split(','));
          } else {
            // The fields of this line that matter, found in place.
            let ts = -1;
            let te = -1;
            let vs = -1;
            let ve = -1;
            let k = 0;
            const last = cols.time > cols.value ? cols.time : cols.value;
            for (let fs = from; ;) {
              let c = text.indexOf(',', fs);
              if (c < 0 || c > stop) c = stop;
              if (k === cols.time) { ts = fs; te = c; }
              if (k === cols.value) { vs = fs; ve = c; }
              if (c >= stop || k >= last) break;
              k += 1;
              fs = c + 1;
            }
            if (k === 0 && blank(text, from, stop)) {
              // a blank line (one field, nothing in it)
            } else if (ts < 0 || vs < 0) {
              problem(line, `expected ${cols.width} fields, found ${k + 1}`);
            } else {
              const t = instant(text, ts, te);
              check(good, Number.isNaN(t) ? text.slice(ts, te) : undefined, t, text.slice(vs, ve), vs, ve - vs);
            }
          }
          from = nl + 1;
        }
      }
      if (good.n > 0) yield good;
      if (input.bytesRead - reported >= 1 << 20) {
        reported = input.bytesRead;
        progress(reported);
      }
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      // csv-parse's own errors (an unclosed quote …) carry the line they stopped at.
      const at = (err as { lines?: number }).lines;
      throw new ImportError('IMPORT_PARSE', `${file}${at ? ` line ${at}` : ''}: ${(err as Error).message}`, { file, line: at, code });
    }
    throw err;
  } finally {
    input.destroy();
  }
  if (!cols) throw new ImportError('IMPORT_EMPTY', `${file} has no rows`, { file });
}

/** Imports one CSV of readings for one device; see the module comment for the rules. */
export async function importCsv(deps: ImportDeps, file: string, opts: ImportOptions): Promise<ImportResult> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new ImportError('IMPORT_FILE_NOT_FOUND', `cannot read ${file}: no such file`, { file });
  }
  const { entity, factor, maxPowerW } = await resolveEntity(deps, opts);
  const log = deps.log.child({ entityId: entity.id, file });
  const entityId = entity.id;
  const kind = entity.kind;
  const passes = opts.strict ? 2 : 1;

  const problems: RowProblem[] = [];
  let bad = 0;
  const problem = (line: number, reason: string): void => {
    bad += 1;
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push({ line, reason });
  };
  const badRowsError = () => {
    const listed = problems.map((p) => `line ${p.line}: ${p.reason}`).join('; ');
    return new ImportError('IMPORT_BAD_ROWS', `${bad} bad row${bad === 1 ? '' : 's'}, nothing imported: ${listed}${bad > problems.length ? '; …' : ''}`, {
      file, bad, problems,
    });
  };

  if (opts.strict) {
    // A first pass that only validates, so a bad row stops the import before anything is stored.
    for await (const batch of validRows(file, opts, problem, (b) => opts.onProgress?.(b, passes * size))) void batch;
    if (bad > 0) throw badRowsError();
  }

  const quarantined: Quarantined[] = [];
  let stored = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  let prev: Sample | undefined;
  const offset = (passes - 1) * size;
  let known: KnownSamples | undefined = { t: new Float64Array(1 << 16), v: new Float64Array(1 << 16), count: 0 };

  async function* samples(): AsyncGenerator<SampleColumns> {
    // One context object and one `prev`, updated in place: nothing allocated per row.
    const last: Sample = { t: 0, v: 0 };
    const ctx: PlausibilityContext = { prev: undefined, at: 0, maxPowerW, raw: 0 };
    for await (const batch of validRows(file, opts, problem, (b) => opts.onProgress?.(offset + b, passes * size))) {
      const out: SampleColumns = { entityId, t: new Float64Array(batch.n), v: new Float64Array(batch.n), count: 0 };
      for (let i = 0; i < batch.n; i++) {
        const t = batch.t[i];
        const raw = batch.raw[i];
        const v = factor === 1 ? raw : raw * factor;
        ctx.prev = prev;
        ctx.at = t;
        ctx.raw = raw;
        const reason = checkPlausibility(kind, v, ctx);
        if (reason !== null) {
          if (quarantined.length >= MAX_QUARANTINED) {
            throw new ImportError('IMPORT_IMPLAUSIBLE', `more than ${MAX_QUARANTINED} readings are implausible (line ${batch.line[i]}: ${reason}); are the units right?`, { line: batch.line[i], reason });
          }
          quarantined.push({ t, v, raw: batch.text(i), reason });
          continue;
        }
        last.t = t;
        last.v = v;
        prev = last;
        known = keep(known, t, v);
        stored += 1;
        if (t < from) from = t;
        if (t > to) to = t;
        out.t[out.count] = t;
        out.v[out.count] = v;
        out.count += 1;
      }
      if (out.count > 0) yield out;
    }
  }

  // copySamples commits chunk by chunk; when it reports a commit, everything yielded so far is stored.
  const committed = { rows: 0, from, to };
  const started = performance.now();
  try {
    await copySampleBatches(deps.db, samples(), {
      // Chunks reach the disk together at the end; an import cut short is simply run again.
      deferDurability: true,
      onProgress: (rows) => Object.assign(committed, { rows, from, to }),
    });
  } catch (err) {
    // Nothing accepted may be lost: what was committed goes into the ledger before the error surfaces.
    if (committed.rows > 0) {
      await recomputeLedger(deps.db, entity, { from: committed.from, to: committed.to }).catch((e: unknown) => {
        log.error({ err: e }, 'import: ledger recompute after a failed import failed; run the import again');
      });
    }
    log.warn({ err, committedRows: committed.rows }, 'import failed');
    throw err;
  }
  opts.onProgress?.(passes * size, passes * size);
  const copied = performance.now();

  if (quarantined.length > 0) await writeQuarantine(deps.db, entityId, quarantined);
  if (stored > 0) await recomputeLedger(deps.db, entity, { from, to }, { known: known?.count === stored ? known : undefined });
  const copyMs = Math.round(copied - started);
  const ledgerMs = Math.round(performance.now() - copied);
  log.info({ rows: stored, quarantined: quarantined.length, skipped: bad, copyMs, ledgerMs }, 'import finished');
  return {
    entityId,
    kind,
    rows: stored,
    quarantined: quarantined.length,
    skipped: bad,
    problems,
    from: stored > 0 ? new Date(from) : null,
    to: stored > 0 ? new Date(to) : null,
  };
}
