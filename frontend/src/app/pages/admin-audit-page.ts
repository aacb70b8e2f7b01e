/** Admin: the audit log of logins and admin actions, newest first, paged. */
import { html, nothing } from 'lit';
import { query } from '../../lib/api.js';
import { formatDateTime } from '../../lib/format.js';
import { JhPage, errorText, pageStyles } from '../shared.js';

interface AuditEntry {
  id: number; at: string; actor_id: string | null; actor_email: string | null; action: string;
  target: string | null; ip: string | null; detail: Record<string, unknown>;
}

const PAGE = 50;

export class JhAdminAuditPage extends JhPage {
  static override properties = { ...JhPage.properties, entries: { state: true }, error: { state: true }, more: { state: true } };
  declare entries: AuditEntry[] | undefined;
  declare error: string | undefined;
  declare more: boolean;
  static override styles = [pageStyles];

  protected override async load(): Promise<void> {
    this.entries = undefined;
    await this.fetchPage();
  }

  private async fetchPage(): Promise<void> {
    const before = this.entries?.[this.entries.length - 1]?.id;
    try {
      const r = await this.ctx.client.get<{ data: AuditEntry[] }>(`/audit${query({ limit: PAGE, before, action: this.query.get('action') })}`);
      this.entries = [...(this.entries ?? []), ...r.data];
      this.more = r.data.length === PAGE;
      this.error = undefined;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  override render() {
    return html`
      <h1>Audit log</h1>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${!this.entries ? html`<p aria-busy="true">Loading…</p>` : html`
        <div class="panel table-wrap"><table data-testid="audit">
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col" class="hide-narrow">Target</th><th scope="col" class="hide-narrow">From</th></tr></thead>
          <tbody>${this.entries.map((e) => html`<tr>
            <td>${formatDateTime(e.at, this.ctx.locale, this.ctx.timeZone)}</td>
            <td>${e.actor_email ?? e.actor_id ?? html`<span class="muted">system</span>`}</td>
            <td><code>${e.action}</code></td>
            <td class="hide-narrow">${e.target ?? ''}</td>
            <td class="hide-narrow">${e.ip ?? ''}</td>
          </tr>`)}</tbody>
        </table>
        ${this.more ? html`<button type="button" class="secondary" @click=${() => this.fetchPage()}>Older entries</button>` : nothing}
        </div>`}`;
  }
}
customElements.define('jh-admin-audit-page', JhAdminAuditPage);
