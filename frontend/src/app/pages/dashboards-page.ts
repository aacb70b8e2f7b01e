/**
 * The dashboards (home page): mounts <jh-dashboard> from src/dashboard (the cards side), handing it
 * the live connection and the dashboard id from the URL (`/dashboards/:id`; `/` = the first one).
 */
import { html } from 'lit';
import { JhPage, pageStyles } from '../shared.js';

// Resolved at build time; empty until the dashboard module exists, so the shell builds without it.
const modules = import.meta.glob(['../../dashboard/dashboard.ts', '../../dashboard/index.ts']);

type DashboardElement = HTMLElement & { hub?: unknown; dashboardId?: string; ctx?: unknown };

export class JhDashboardsPage extends JhPage {
  static override properties = { ...JhPage.properties, missing: { state: true } };
  declare missing: boolean;
  private el: DashboardElement | undefined;

  static override styles = [pageStyles];

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
    return this.el ?? html`<p aria-busy="true">Loading…</p>`;
  }
}
customElements.define('jh-dashboards-page', JhDashboardsPage);
