/**
 * A dashboard's layout document: its cards in order, each with a grid size and the card's own
 * config. The hub checks the shape only; each card validates its own options in the browser (a
 * card with bad options shows an error card there), so a layout saved by a newer card version is
 * never refused or lost here.
 */

/** Columns of the dashboard grid on wide screens (phones show one column). */
export const GRID_COLUMNS = 12;
export const MAX_CARDS = 200;
export const MAX_ROWS = 40;

export interface CardPlacement {
  /** Stable within the dashboard (drag-and-drop and undo track cards by it). */
  id: string;
  /** Width in grid columns (1–12). */
  w: number;
  /** Height in grid rows (about 56 px each); absent = the card's own getCardSize(). */
  h?: number;
  /** The card's config; `type` picks the element (`gauge` → jh-gauge-card, `custom:x-card` → x-card). */
  config: { type: string; [option: string]: unknown };
}

export interface DashboardLayout {
  cards: CardPlacement[];
}

/** Built-in types and `custom:<element-name>` for third-party cards. */
export const CARD_TYPE_PATTERN = '^(custom:[a-z][a-z0-9]*(-[a-z0-9]+)+|[a-z][a-z0-9-]*)$';

export const cardPlacementSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'w', 'config'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' },
    w: { type: 'integer', minimum: 1, maximum: GRID_COLUMNS, description: 'Width in grid columns' },
    h: { type: 'integer', minimum: 1, maximum: MAX_ROWS, description: "Height in grid rows; absent = the card's own size" },
    config: {
      type: 'object',
      required: ['type'],
      additionalProperties: true,
      description: "The card's options, validated by the card itself",
      properties: { type: { type: 'string', pattern: CARD_TYPE_PATTERN, maxLength: 100 } },
    },
  },
} as const;

export const cardsSchema = {
  type: 'array',
  maxItems: MAX_CARDS,
  items: cardPlacementSchema,
} as const;

/** Card ids must be unique within a dashboard; returns the index of the first repeat, or -1. */
export function duplicateCardIndex(cards: readonly CardPlacement[]): number {
  const seen = new Set<string>();
  for (let i = 0; i < cards.length; i++) {
    if (seen.has(cards[i].id)) return i;
    seen.add(cards[i].id);
  }
  return -1;
}

/** Reads a stored layout defensively: a row written by hand or by an older hub still shows. */
export function readLayout(raw: unknown): DashboardLayout {
  const cards = (raw && typeof raw === 'object' && Array.isArray((raw as { cards?: unknown }).cards))
    ? ((raw as { cards: unknown[] }).cards.filter((c) => c && typeof c === 'object') as CardPlacement[])
    : [];
  return { cards };
}
