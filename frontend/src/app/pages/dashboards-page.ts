/**
 * The dashboards (home page): mounts <jh-dashboard> from src/dashboard (the cards side), handing it
 * the live connection and the dashboard id from the URL (`/dashboards/:id`; `/` = the first one).
 * "Arrange dashboards" orders the tabs with move up/down buttons (PUT /api/v1/dashboards/order).
 */
import { css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { JhPage, errorText, pageStyles } from '../shared.js';

interface Summary { id: string; title: string; position: number; version: number; card_count: number }

// Resolved at build time; empty until the dashboard module exists, so the shell builds without it.
const modules = import.meta.glob(['../../dashboard/dashboard.ts', '../../dashboard/index.ts']);

type DashboardElement = HTMLElement & { hub?: unknown; dashboardId?: string; ctx?: unknown; list?: Summary[] };

export class JhDashboardsPage extends JhPage {
  static override properties = {
    ...JhPage.properties, missing: { state: true },
    arranging: { state: true }, order: { state: true }, orderError: { state: true }, orderStatus: { state: true }, busy: { state: true },
  };
  declare missing: boolean;
  declare arranging: boolean;
  declare order: Summary[] | undefined;
  declare orderError: string | undefined;
  declare orderStatus: string | undefined;
  declare busy: boolean;
  private el: DashboardElement | undefined;
  /** The button to focus after the list re-renders (the moved dashboard's, so arrows can be pressed again). */
  private focusAfter: { id: string; dir: 'up' | 'down' } | undefined;

  static override styles = [pageStyles, css`
    .arrange-bar { display: flex; justify-content: flex-end; margin-bottom: 0.5rem; }
    ol.order { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.35rem; max-width: 32rem; }
    ol.order li { display: flex; align-items: center; gap: 0.5rem; }
    ol.order .name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    ol.order .pos { color: var(--jh-muted); font-variant-numeric: tabular-nums; min-width: 1.5rem; }
    ol.order button { min-width: 2.5rem; justify-content: center; }
  `];

  constructor() {
    super();
    this.arranging = false;
    this.busy = false;
  }

  private async toggleArrange(): Promise<void> {
    this.arranging = !this.arranging;
    this.orderError = this.orderStatus = undefined;
    if (!this.arranging) return;
    try {
      this.order = (await this.ctx.client.get<{ data: Summary[] }>('/dashboards')).data;
    } catch (err) {
      this.orderError = errorText(err);
    }
  }

  /** Moves a dashboard one place up or down and saves the whole order at once. */
  private async move(id: string, dir: 'up' | 'down'): Promise<void> {
    const list = this.order;
    if (!list || this.busy) return;
    const from = list.findIndex((d) => d.id === id);
    const to = dir === 'up' ? from - 1 : from + 1;
    if (from < 0 || to < 0 || to >= list.length) return;
    const next = [...list];
    [next[from], next[to]] = [next[to]!, next[from]!];
    this.busy = true;
    this.orderError = undefined;
    try {
      const saved = (await this.ctx.client.put<{ data: Summary[] }>('/dashboards/order', { ids: next.map((d) => d.id) })).data;
      this.order = saved;
      if (this.el) this.el.list = saved; // the tabs follow without reloading the open dashboard
      const at = saved.findIndex((d) => d.id === id);
      this.orderStatus = `"${saved[at]?.title}" is now ${at + 1} of ${saved.length}.`;
      this.focusAfter = { id, dir };
    } catch (err) {
      this.orderError = errorText(err);
      // Out of date (a dashboard added or deleted elsewhere): show the current list.
      this.order = (await this.ctx.client.get<{ data: Summary[] }>('/dashboards').catch(() => ({ data: list }))).data;
    } finally {
      this.busy = false;
    }
  }

  protected override updated(): void {
    const f = this.focusAfter;
    if (!f) return;
    this.focusAfter = undefined;
    const buttons = [...this.renderRoot.querySelectorAll<HTMLButtonElement>(`ol.order button[data-id="${CSS.escape(f.id)}"]`)];
    (buttons.find((b) => b.dataset.dir === f.dir && !b.disabled) ?? buttons.find((b) => !b.disabled))?.focus();
  }

  private renderArrange() {
    const list = this.order;
    return html`
      <div class="arrange-bar">
        <button type="button" class="secondary" aria-expanded=${this.arranging ? 'true' : 'false'} aria-controls="arrange"
          @click=${() => this.toggleArrange()}>${this.arranging ? 'Done arranging' : 'Arrange dashboards'}</button>
      </div>
      ${this.arranging ? html`
        <section id="arrange" class="panel" aria-labelledby="arrange-title">
          <h2 id="arrange-title" style="margin-top:0">Order of your dashboards</h2>
          ${list ? html`<ol class="order" data-testid="dashboard-order">${repeat(list, (d) => d.id, (d, i) => html`
            <li>
              <span class="pos" aria-hidden="true">${i + 1}.</span>
              <span class="name">${d.title}</span>
              <button type="button" class="secondary" data-id=${d.id} data-dir="up" aria-label=${`Move ${d.title} up`}
                ?disabled=${i === 0 || this.busy} @click=${() => this.move(d.id, 'up')}>↑</button>
              <button type="button" class="secondary" data-id=${d.id} data-dir="down" aria-label=${`Move ${d.title} down`}
                ?disabled=${i === list.length - 1 || this.busy} @click=${() => this.move(d.id, 'down')}>↓</button>
            </li>`)}</ol>` : this.orderError ? nothing : html`<p aria-busy="true">Loading…</p>`}
          ${this.orderError ? html`<p class="error" role="alert">${this.orderError}</p>` : nothing}
          <p role="status" class="muted">${this.orderStatus ?? ''}</p>
        </section>` : nothing}`;
  }

  protected override async load(): Promise<void> {
    if (!customElements.get('jh-dashboard')) {
      for (const load of Object.values(modules)) await load();
    }
    if (!customElements.get('jh-dashboard')) {
      this.missing = true;
      return;
    }
    if (!this.el) {
      this.el = document.createElement('jh-dashboard') as DashboardElement;
      // Switching dashboards inside the view keeps the URL in step (reload and bookmarks).
      this.el.addEventListener('dashboard-changed', (ev) => {
        const id = (ev as CustomEvent<{ id?: string }>).detail?.id;
        const url = id ? `/dashboards/${encodeURIComponent(id)}` : '/';
        if (location.pathname !== url) history.replaceState(null, '', url);
      });
    }
    this.el.hub = this.ctx.conn;
    if (this.params.id) this.el.dashboardId = this.params.id;
    else delete this.el.dashboardId;
    this.el.setAttribute('data-testid', 'dashboard');
    this.requestUpdate();
  }

  override render() {
    if (this.missing) return html`<h1>Dashboards</h1><p>The dashboard view is not part of this build.</p>`;
    if (!this.el) return html`<p aria-busy="true">Loading…</p>`;
    return html`${this.renderArrange()}${this.el}`;
  }
}
customElements.define('jh-dashboards-page', JhDashboardsPage);
