/**
 * The dashboard being edited: its title and cards, every change kept for undo, and whether it
 * differs from what was last saved. Pure (no DOM). Changes build new arrays but keep the objects
 * of untouched cards, so their elements see no change and do not render again.
 */
import type { CardConfig } from '../cards/types.js';

export const GRID_COLUMNS = 12;
export const MAX_ROWS = 40;
export const UNDO_LIMIT = 100;

export interface Placement { id: string; w: number; h?: number; config: CardConfig }
export interface DashboardDoc { id: string; title: string; version: number; position?: number; cards: Placement[] }

interface Snapshot { title: string; cards: readonly Placement[] }

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(v)));

export class DashboardModel {
  readonly id: string;
  version: number;
  private current: Snapshot;
  private saved: Snapshot;
  private past: Snapshot[] = [];

  constructor(doc: DashboardDoc) {
    this.id = doc.id;
    this.version = doc.version;
    this.current = { title: doc.title, cards: doc.cards };
    this.saved = this.current;
  }

  get title(): string { return this.current.title; }
  get cards(): readonly Placement[] { return this.current.cards; }
  get canUndo(): boolean { return this.past.length > 0; }
  get dirty(): boolean {
    return this.current !== this.saved && JSON.stringify(this.current) !== JSON.stringify(this.saved);
  }

  private apply(next: Snapshot): void {
    this.past.push(this.current);
    if (this.past.length > UNDO_LIMIT) this.past.shift();
    this.current = next;
  }

  private index(id: string): number {
    const i = this.current.cards.findIndex((c) => c.id === id);
    if (i === -1) throw new Error(`No card "${id}" on this dashboard`);
    return i;
  }

  private replace(id: string, fn: (p: Placement) => Placement): void {
    const i = this.index(id);
    const next = fn(this.current.cards[i]);
    if (JSON.stringify(next) === JSON.stringify(this.current.cards[i])) return;
    const cards = [...this.current.cards];
    cards[i] = next;
    this.apply({ ...this.current, cards });
  }

  /** A card id not used on this dashboard. */
  newId(): string {
    const used = new Set(this.current.cards.map((c) => c.id));
    for (let n = this.current.cards.length + 1; ; n++) if (!used.has(`c${n}`)) return `c${n}`;
  }

  add(config: CardConfig, w = 4, h?: number): string {
    const id = this.newId();
    const p: Placement = { id, w: clamp(w, 1, GRID_COLUMNS), config, ...(h !== undefined ? { h: clamp(h, 1, MAX_ROWS) } : {}) };
    this.apply({ ...this.current, cards: [...this.current.cards, p] });
    return id;
  }

  remove(id: string): void {
    const i = this.index(id);
    this.apply({ ...this.current, cards: this.current.cards.filter((_, j) => j !== i) });
  }

  /** Moves a card to position `to` (0 = first) among the cards. */
  move(id: string, to: number): void {
    const from = this.index(id);
    const target = clamp(to, 0, this.current.cards.length - 1);
    if (target === from) return;
    const cards = [...this.current.cards];
    const [card] = cards.splice(from, 1);
    cards.splice(target, 0, card);
    this.apply({ ...this.current, cards });
  }

  resize(id: string, w: number, h?: number): void {
    this.replace(id, (p) => {
      const next: Placement = { ...p, w: clamp(w, 1, GRID_COLUMNS) };
      if (h === undefined) delete next.h;
      else next.h = clamp(h, 1, MAX_ROWS);
      return next;
    });
  }

  setConfig(id: string, config: CardConfig): void {
    this.replace(id, (p) => ({ ...p, config }));
  }

  rename(title: string): void {
    if (title === this.current.title) return;
    this.apply({ ...this.current, title });
  }

  undo(): boolean {
    const prev = this.past.pop();
    if (!prev) return false;
    this.current = prev;
    return true;
  }

  /** What to PUT: title, cards and the version this edit started from. */
  toSave(): { title: string; cards: Placement[]; version: number } {
    return { title: this.current.title, cards: [...this.current.cards], version: this.version };
  }

  /** The hub stored it: this is the new saved state (undo history is kept). */
  markSaved(doc: DashboardDoc): void {
    this.version = doc.version;
    this.saved = this.current;
  }

  /** Back to the last saved state, forgetting the edits. */
  revert(): void {
    this.current = this.saved;
    this.past = [];
  }
}
