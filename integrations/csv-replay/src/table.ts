/**
 * Loads a replay file into columns of numbers. Replay files are demo- and test-sized (the demo
 * week is 10,080 rows), so the whole table is kept in typed arrays; large historical files belong
 * to `joulehub import`, which streams. Every problem is a ConfigError naming the file, the line
 * and the column: the user has to fix the file.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { ConfigError, parseInstant, type EntityKind } from '@joulehub/core/sdk';

export interface TableColumn {
  /** CSV header. */
  column: string;
  kind: EntityKind;
  /** Where the mapping sits in the options (`columns[2]`). */
  path: string;
}

export interface Table {
  /** Row times, epoch ms, strictly increasing. */
  times: Float64Array;
  /** One array per mapped column, in mapping order; NaN = empty cell (no reading at that time). Switches are 1/0. */
  values: Float64Array[];
}

const SWITCH_VALUES: Record<string, number> = { on: 1, off: 0, true: 1, false: 0, '1': 1, '0': 0 };

function cellValue(cell: string, kind: EntityKind): number | undefined {
  if (cell === '') return Number.NaN;
  if (kind === 'switch') return SWITCH_VALUES[cell.toLowerCase()];
  const v = Number(cell);
  return Number.isFinite(v) ? v : undefined;
}

class Growable {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

function bad(code: string, file: string, message: string, details: Record<string, unknown>): ConfigError {
  return new ConfigError(code, `${file}: ${message}`, { file, ...details });
}

/** Reads `file`: a header row naming `timeColumn` and every mapped column, then rows in time order. */
export async function loadTable(file: string, opts: { timeColumn: string; delimiter: string; columns: TableColumn[] }): Promise<Table> {
  try {
    await access(file);
  } catch {
    throw new ConfigError('CSV_REPLAY_FILE_NOT_FOUND', `file: cannot read ${file}`, { path: 'file', file });
  }
  const parser = createReadStream(file).pipe(parse({
    delimiter: opts.delimiter, bom: true, trim: true, skip_empty_lines: true, comment: '#', comment_no_infix: true, info: true,
  }));

  let timeIndex = -1;
  let indexes: number[] = [];
  const times = new Growable();
  const values = opts.columns.map(() => new Growable());
  let header = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines;
      if (header) {
        header = false;
        timeIndex = record.indexOf(opts.timeColumn);
        if (timeIndex < 0) {
          throw bad('CSV_REPLAY_MISSING_COLUMN', file, `no time column "${opts.timeColumn}" in the header (${record.join(', ')})`, { path: 'time_column', column: opts.timeColumn, line });
        }
        indexes = opts.columns.map((c) => {
          const i = record.indexOf(c.column);
          if (i < 0) throw bad('CSV_REPLAY_MISSING_COLUMN', file, `no column "${c.column}" (${c.path}.column) in the header (${record.join(', ')})`, { path: `${c.path}.column`, column: c.column, line });
          return i;
        });
        continue;
      }
      const timeText = record[timeIndex] ?? '';
      const t = parseInstant(timeText);
      if (Number.isNaN(t)) {
        throw bad('CSV_REPLAY_BAD_TIME', file, `line ${line}, column "${opts.timeColumn}": "${timeText}" is not an ISO 8601 time with an offset (e.g. 2025-04-07T00:00:00Z)`, { line, column: opts.timeColumn, value: timeText });
      }
      if (times.length > 0 && t <= times.data[times.length - 1]!) {
        throw bad('CSV_REPLAY_UNSORTED', file, `line ${line}: time ${timeText} is not after the previous row's; rows must be in time order`, { line, column: opts.timeColumn, value: timeText });
      }
      times.push(t);
      opts.columns.forEach((c, k) => {
        const cell = record[indexes[k]!] ?? '';
        const v = cellValue(cell, c.kind);
        if (v === undefined) {
          const expected = c.kind === 'switch' ? 'on/off' : 'a number';
          throw bad('CSV_REPLAY_BAD_VALUE', file, `line ${line}, column "${c.column}": "${cell}" is not ${expected}`, { line, column: c.column, path: c.path, value: cell });
        }
        values[k]!.push(v);
      });
    }
  } catch (err) {
    parser.destroy();
    if (err instanceof ConfigError) throw err;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      const line = (err as { lines?: number }).lines;
      throw bad('CSV_REPLAY_PARSE', file, `line ${line ?? '?'}: ${(err as Error).message}`, { line, parserCode: code });
    }
    throw err;
  }
  if (header) throw bad('CSV_REPLAY_EMPTY', file, 'the file is empty (expected a header row and readings)', { path: 'file' });
  if (times.length === 0) throw bad('CSV_REPLAY_EMPTY', file, 'the file has a header but no rows', { path: 'file', line: 2 });
  return { times: times.done(), values: values.map((v) => v.done()) };
}
