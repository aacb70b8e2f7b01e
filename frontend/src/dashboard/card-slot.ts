/**
 * One place in the dashboard grid: creates the card element for a config, hands it the hub, and
 * shows an error card when the card's module fails to load or its setConfig throws. In edit mode
 * it adds the controls to move (drag and drop, or buttons), resize (drag the corner, or buttons),
 * edit and remove the card; each fires `card-action` for the dashboard to apply.
 */
import { LitElement, css, html, type PropertyValues } from 'lit';
import { loadCardClass } from '../cards/registry.js';
import type { CardElement, HubConnection } from '../cards/types.js';
import type { Placement } from './model.js';

export type CardAction =
  | { action: 'move'; id: string; to: number }
  | { action: 'resize'; id: string; w: number; h?: number }
  | { action: 'edit'; id: string }
  | { action: 'remove'; id: string };

export const ROW_PX = 56;
export const GAP_PX = 12;
export const DRAG_TYPE = 'application/x-jh-card';

export class CardSlot extends LitElement {
  static override properties = {
    hub: { attribute: false },
    placement: { attribute: false },
    index: { type: Number },
    editing: { type: Boolean, reflect: true },
    columnPx: { attribute: false },
  };

  declare hub?: HubConnection;
  declare placement: Placement;
  declare index: number;
  declare editing: boolean;
  /** Width of one grid column in px (for resizing by dragging). */
  declare columnPx: number;

  /** The card element, or undefined while loading / after an error. */
  card?: CardElement;
  /** Why the card cannot be shown (the error card's text). */
  error?: string;
  /** Rows the card asked for (getCardSize) when the placement has no height. */
  private autoRows = 3;
  private shownConfig?: string;
  private generation = 0;

  constructor() {
    super();
    this.editing = false;
    this.index = 0;
    this.columnPx = 80;
  }

  static override styles = css`
    /* The grid sizes the slot, never its card: with size, layout and paint contained, a card whose
       content changes relayouts and repaints inside its own box and never the dashboard's grid; a
       card far off screen is not styled, laid out or painted until it comes near (content-visibility;
       charts off screen still get their size, checked by a screenshot of a chart 2,600 px down). */
    :host { display: block; position: relative; min-width: 0; contain: strict; content-visibility: auto; }
    :host([editing]) { outline: 2px dashed var(--jh-border, #b9c0cc); outline-offset: 2px; border-radius: 10px; }
    :host(.drop-target) { outline-color: var(--jh-accent, #1570ef); }
    .holder { height: 100%; }
    .error-card { box-sizing: border-box; height: 100%; overflow: auto; padding: 12px 14px; border-radius: 10px;
      border: 1px solid var(--jh-bad, #d92d20); background: var(--jh-bad-bg, #fef3f2); color: var(--jh-fg, #7a271a); font: 14px/1.4 system-ui, sans-serif; }
    .error-card pre { font-size: 12px; white-space: pre-wrap; margin: 6px 0 0; opacity: 0.8; }
    .tools { position: absolute; top: 4px; right: 4px; display: flex; flex-wrap: wrap; gap: 2px; z-index: 2;
      background: var(--jh-card-bg, #fff); border: 1px solid var(--jh-border, #b9c0cc); border-radius: 8px; padding: 2px; }
    .tools button { font: 12px system-ui, sans-serif; min-width: 28px; min-height: 28px; cursor: pointer; }
    .grip { cursor: grab; }
    .resize { position: absolute; right: 0; bottom: 0; width: 20px; height: 20px; cursor: nwse-resize; z-index: 2;
      background: linear-gradient(135deg, transparent 50%, var(--jh-accent, #1570ef) 50%); border-bottom-right-radius: 10px; touch-action: none; }
    .loading { padding: 12px; color: var(--jh-muted, #5f6b7a); }
  `;

  /** Rows this slot spans. */
  get rows(): number { return this.placement.h ?? this.autoRows; }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('placement')) {
      const key = JSON.stringify(this.placement.config);
      if (key !== this.shownConfig) {
        this.shownConfig = key;
        void this.build();
      }
    }
    if (changed.has('hub') && this.card) this.card.hub = this.hub;
    this.style.gridColumn = `span ${this.placement.w}`;
    this.style.gridRow = `span ${this.rows}`;
  }

  private async build(): Promise<void> {
    const gen = ++this.generation;
    const config = this.placement.config;
    this.card = undefined;
    this.error = undefined;
    try {
      const cls = await loadCardClass(config?.type);
      if (gen !== this.generation) return;
      const el = new cls();
      el.hub = this.hub;
      el.setConfig(config);
      this.card = el;
      try {
        const size = await el.getCardSize();
        if (typeof size === 'number' && Number.isFinite(size)) this.autoRows = Math.max(1, Math.min(40, Math.round(size)));
      } catch { /* a card that cannot size itself keeps the default */ }
    } catch (err) {
      if (gen !== this.generation) return;
      this.card = undefined;
      this.error = (err as Error)?.message || String(err);
    }
    this.requestUpdate();
  }

  private act(a: CardAction): void {
    this.dispatchEvent(new CustomEvent<CardAction>('card-action', { detail: a, bubbles: true, composed: true }));
  }

  private onDragStart(e: DragEvent): void {
    e.dataTransfer?.setData(DRAG_TYPE, this.placement.id);
    e.dataTransfer!.effectAllowed = 'move';
  }

  private startResize(e: PointerEvent): void {
    e.preventDefault();
    const handle = e.currentTarget as HTMLElement;
    handle.setPointerCapture(e.pointerId);
    const start = { x: e.clientX, y: e.clientY, w: this.placement.w, h: this.rows };
    const size = (ev: PointerEvent) => ({
      w: start.w + Math.round((ev.clientX - start.x) / (this.columnPx + GAP_PX)),
      h: start.h + Math.round((ev.clientY - start.y) / (ROW_PX + GAP_PX)),
    });
    const move = (ev: PointerEvent) => {
      const s = size(ev);
      this.style.gridColumn = `span ${Math.max(1, Math.min(12, s.w))}`;
      this.style.gridRow = `span ${Math.max(1, Math.min(40, s.h))}`;
    };
    const up = (ev: PointerEvent) => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      const s = size(ev);
      if (s.w !== start.w || s.h !== start.h) this.act({ action: 'resize', id: this.placement.id, w: s.w, h: s.h });
      else this.requestUpdate();
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  }

  protected override render() {
    const p = this.placement;
    const name = String((p.config as { name?: unknown })?.name ?? p.config?.type ?? 'card');
    const body = this.error !== undefined
      ? html`<div class="error-card" role="alert"><strong>This card cannot be shown</strong><div class="message">${this.error}</div>
          <pre>${JSON.stringify(p.config ?? {}, null, 2)}</pre></div>`
      : this.card ? html`<div class="holder">${this.card}</div>` : html`<div class="loading">Loading…</div>`;
    if (!this.editing) return body;
    const id = p.id;
    return html`${body}
      <div class="tools" role="toolbar" aria-label=${`Card ${this.index + 1}: ${name}`}
        draggable="true" @dragstart=${(e: DragEvent) => this.onDragStart(e)}>
        <span class="grip" title="Drag to move" aria-hidden="true">⠿</span>
        <button type="button" aria-label="Move earlier" @click=${() => this.act({ action: 'move', id, to: this.index - 1 })}>◀</button>
        <button type="button" aria-label="Move later" @click=${() => this.act({ action: 'move', id, to: this.index + 1 })}>▶</button>
        <button type="button" aria-label="Narrower" @click=${() => this.act({ action: 'resize', id, w: p.w - 1, h: p.h })}>−W</button>
        <button type="button" aria-label="Wider" @click=${() => this.act({ action: 'resize', id, w: p.w + 1, h: p.h })}>+W</button>
        <button type="button" aria-label="Shorter" @click=${() => this.act({ action: 'resize', id, w: p.w, h: this.rows - 1 })}>−H</button>
        <button type="button" aria-label="Taller" @click=${() => this.act({ action: 'resize', id, w: p.w, h: this.rows + 1 })}>+H</button>
        <button type="button" aria-label="Edit card" @click=${() => this.act({ action: 'edit', id })}>Edit</button>
        <button type="button" aria-label="Remove card" @click=${() => this.act({ action: 'remove', id })}>✕</button>
      </div>
      <div class="resize" title="Drag to resize" aria-hidden="true" @pointerdown=${(e: PointerEvent) => this.startResize(e)}></div>`;
  }
}

if (!customElements.get('jh-card-slot')) customElements.define('jh-card-slot', CardSlot);
