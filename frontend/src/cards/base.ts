/**
 * What every built-in card shares: the `hub` property, setConfig through the card's schema, and a
 * subscription to exactly the card's own entities, so a state change re-renders only the cards
 * that show that entity. `renderCount` counts renders (tests and the bench read it).
 */
import { LitElement, css, html, type PropertyValues, type TemplateResult } from 'lit';
import type { CardConfig, CardEditorElement, EntityState, HubConnection } from './types.js';
import { validateCardConfig } from './validate.js';

export const cardStyles = css`
  :host {
    display: block;
    box-sizing: border-box;
    height: 100%;
    color: var(--jh-card-fg, #1d2430);
    background: var(--jh-card-bg, #fff);
    border: 1px solid var(--jh-border, #d9dee7);
    border-radius: var(--jh-radius, 10px);
    padding: 12px 14px;
    font: 14px/1.4 var(--jh-font, system-ui, sans-serif);
    overflow: hidden;
    position: relative;
  }
  h2 { margin: 0 0 8px; font-size: 15px; font-weight: 600; }
  .muted { color: var(--jh-muted, #5f6b7a); }
  .big { font-size: 28px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .problem { color: var(--jh-bad, #b42318); }
  .chart { width: 100%; height: calc(100% - 30px); min-height: 120px; }
`;

export abstract class JhCard<C extends CardConfig = CardConfig> extends LitElement {
  static override properties = { hub: { attribute: false } };
  /** JSON Schema of the config; every subclass sets its own. */
  static configSchema: Record<string, unknown> = { type: 'object' };

  declare hub?: HubConnection;
  protected config?: C;
  /** How many times this card has rendered. */
  renderCount = 0;
  private unsubscribe?: () => void;
  private subscribedKey = '';
  private subscribedHub?: HubConnection;

  /** The options that set this card up, with defaults filled in (undefined before setConfig). */
  get cardConfig(): C | undefined { return this.config; }

  setConfig(config: CardConfig): void {
    const ctor = this.constructor as typeof JhCard;
    this.config = validateCardConfig<C>(ctor.configSchema, config);
    this.configChanged();
    this.resubscribe();
    this.requestUpdate();
  }

  getCardSize(): number { return 3; }

  /** The lazily loaded generic editor: a form drawn from configSchema, or YAML. */
  static async getConfigElement(): Promise<CardEditorElement> {
    await import('./editor/card-editor.js');
    return document.createElement('jh-card-editor') as CardEditorElement;
  }

  /** Entities whose changes re-render this card. */
  protected entityIds(): string[] { return []; }

  /** Called after a new config was accepted (cards reload data here). */
  protected configChanged(): void {}

  /** Called with the changed states of this card's entities; default: render again. */
  protected statesChanged(_changed: EntityState[]): void { this.requestUpdate(); }

  /** Called when the hub connection is set or replaced (and the card is connected). */
  protected hubChanged(): void {}

  override connectedCallback(): void {
    super.connectedCallback();
    this.resubscribe();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.subscribedKey = '';
    this.subscribedHub = undefined;
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('hub')) {
      this.resubscribe();
      if (this.hub && this.config) this.hubChanged();
    }
  }

  /** Subscribes to the card's entities when the set (or the hub) changed; never twice for the same. */
  protected resubscribe(): void {
    if (!this.isConnected || !this.hub || !this.config) return;
    const ids = [...new Set(this.entityIds())].sort();
    const key = ids.join('\n');
    if (key === this.subscribedKey && this.hub === this.subscribedHub) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.subscribedKey = key;
    this.subscribedHub = this.hub;
    if (ids.length > 0) this.unsubscribe = this.hub.subscribe(ids, (changed) => this.statesChanged(changed));
  }

  protected state(id: string | undefined): EntityState | undefined {
    return id ? this.hub?.state(id) : undefined;
  }

  protected get locale(): string | undefined { return this.hub?.user?.locale; }
  protected get timeZone(): string | undefined { return this.hub?.user?.timeZone; }

  protected override render(): TemplateResult {
    this.renderCount++;
    if (!this.config) return html``;
    return this.renderCard(this.config);
  }

  protected abstract renderCard(config: C): TemplateResult;
}

/** Sum of the available values of some entities; undefined when none has a value. */
export function sumStates(states: (EntityState | undefined)[]): number | undefined {
  let sum = 0;
  let any = false;
  for (const s of states) {
    if (s && s.available && s.value !== null) { sum += s.value; any = true; }
  }
  return any ? sum : undefined;
}
