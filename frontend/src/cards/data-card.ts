/**
 * A card that fetches from the API (energy, history, notifications): loads when its config or hub
 * changes, refreshes every `refreshMs` while on screen, and shows the API's problem text instead of
 * going blank when a request fails. A newer load wins over a slower older one.
 */
import { html } from 'lit';
import { JhCard } from './base.js';
import type { CardConfig } from './types.js';

export abstract class DataCard<C extends CardConfig, D> extends JhCard<C> {
  protected data?: D;
  protected loadError?: string;
  protected loading = false;
  /** Refresh period while connected (ms); 0 = only on config/hub change. */
  protected refreshMs = 60_000;
  private timer?: ReturnType<typeof setInterval>;
  private generation = 0;

  /** Fetches the card's data; throws on failure (the message is shown). */
  protected abstract fetchData(config: C): Promise<D>;

  /** Resolves when the load in progress (if any) has finished; tests await it. */
  loaded: Promise<void> = Promise.resolve();

  private loadedConfig?: C;
  private loadedHub?: unknown;

  /** Loads the data; without `force`, only when the config or the hub changed since the last load. */
  reload(force = true): Promise<void> {
    const config = this.config;
    if (!config || !this.hub || !this.isConnected) return this.loaded;
    if (!force && config === this.loadedConfig && this.hub === this.loadedHub) return this.loaded;
    this.loadedConfig = config;
    this.loadedHub = this.hub;
    const gen = ++this.generation;
    this.loading = true;
    this.requestUpdate();
    this.loaded = this.fetchData(config).then((data) => {
      if (gen !== this.generation) return;
      this.data = data;
      this.loadError = undefined;
    }, (err: unknown) => {
      if (gen !== this.generation) return;
      this.loadError = (err as { describe?: () => string }).describe?.() ?? (err as Error).message ?? String(err);
    }).finally(() => {
      if (gen !== this.generation) return;
      this.loading = false;
      this.requestUpdate();
    });
    return this.loaded;
  }

  protected override configChanged(): void { this.data = undefined; void this.reload(false); }
  protected override hubChanged(): void { void this.reload(false); }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload(false);
    if (this.refreshMs > 0) this.timer = setInterval(() => { if (document.visibilityState !== 'hidden') void this.reload(); }, this.refreshMs);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
    this.timer = undefined;
    this.generation++;
    this.loadedConfig = undefined; // a card put back on the page loads afresh
  }

  /** Loading / error line to show above (or instead of) the content. */
  protected status() {
    if (this.loadError) return html`<div class="problem" role="alert">${this.loadError}</div>`;
    if (this.loading && this.data === undefined) return html`<div class="muted">Loading…</div>`;
    return '';
  }
}
