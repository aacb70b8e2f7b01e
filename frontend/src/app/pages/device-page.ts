/**
 * One device: id, description, address, maximum hourly consumption, live power, and a bar chart of
 * energy per hour for a date the user picks (default today in the user's time zone; a DST day has
 * 23 or 25 bars). The date is in the URL (`?date=2026-03-29`), so the view can be bookmarked.
 */
import { html, nothing } from 'lit';
import type { Device, EntityState } from '../../cards/types.js';
import { query } from '../../lib/api.js';
import { addDays, formatDate, formatDateTime, formatEnergy, formatPower, hoursOfDay, isCalendarDate, todayIn } from '../../lib/format.js';
import { JhPage, errorText, pageStyles } from '../shared.js';
import { powerEntityOf } from './devices-page.js';
import type { HourBar } from '../hourly-chart.js';
import '../hourly-chart.js';

interface EnergyAnswer { data: { datetime: string; value: number }[] }

export class JhDevicePage extends JhPage {
  static override properties = {
    ...JhPage.properties,
    device: { state: true },
    power: { state: true },
    bars: { state: true },
    error: { state: true },
    chartError: { state: true },
    loadingChart: { state: true },
  };
  declare device: Device | undefined;
  declare power: EntityState | undefined;
  declare bars: HourBar[] | undefined;
  declare error: string | undefined;
  declare chartError: string | undefined;
  declare loadingChart: boolean;
  private powerEntity: string | undefined;
  private unsubscribe: (() => void) | undefined;
  private loadedFor = '';
  private chartFor = '';

  static override styles = [pageStyles];

  private get date(): string {
    const d = this.query.get('date');
    return d && isCalendarDate(d) ? d : todayIn(this.ctx.timeZone);
  }

  protected override async load(): Promise<void> {
    const conn = this.ctx.conn;
    if (!conn) return;
    const id = this.params.id!;
    if (this.loadedFor !== id) {
      this.loadedFor = id;
      this.device = undefined;
      this.power = undefined;
      this.error = undefined;
      this.unsubscribe?.();
      try {
        const [device, entities] = await Promise.all([
          conn.api<Device>(`/devices/${encodeURIComponent(id)}`),
          conn.api<{ data: Parameters<typeof powerEntityOf>[1] }>(`/entities${query({ device: id })}`).then((r) => r.data),
        ]);
        this.device = device;
        this.powerEntity = powerEntityOf(id, entities)?.id;
        if (this.powerEntity) {
          this.unsubscribe = conn.subscribe([this.powerEntity], (changed) => { this.power = changed[changed.length - 1]; });
        }
      } catch (err) {
        this.error = errorText(err);
        return;
      }
    }
    await this.loadChart();
  }

  private async loadChart(): Promise<void> {
    const id = this.params.id!;
    const date = this.date;
    const tz = this.ctx.timeZone;
    const key = `${id}|${date}|${tz}`;
    if (key === this.chartFor) return;
    this.chartFor = key;
    this.loadingChart = true;
    this.chartError = undefined;
    try {
      const answer = await this.ctx.conn!.api<EnergyAnswer>(`/energy${query({ device: id, start: date, end: addDays(date, 1), interval: 'hour', tz })}`);
      if (this.chartFor !== key) return;
      const kwh = new Map(answer.data.map((r) => [Date.parse(r.datetime), r.value]));
      // The API leaves out hours without data: every hour of the day gets a bar (0 when empty).
      this.bars = hoursOfDay(date, tz).map((start) => ({ start, kwh: kwh.get(start) ?? 0 }));
    } catch (err) {
      if (this.chartFor === key) this.chartError = errorText(err);
    } finally {
      if (this.chartFor === key) this.loadingChart = false;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.loadedFor = '';
    this.chartFor = '';
  }

  private pickDate(date: string): void {
    if (!isCalendarDate(date)) return;
    this.ctx.router.navigate(`/devices/${encodeURIComponent(this.params.id!)}?date=${date}`, { replace: true });
  }

  override render() {
    if (this.error) return html`<p><a href="/devices">← My devices</a></p><p class="error" role="alert">${this.error}</p>`;
    const d = this.device;
    if (!d) return html`<p aria-busy="true">Loading…</p>`;
    const loc = this.ctx.locale;
    const date = this.date;
    const total = this.bars?.reduce((a, b) => a + b.kwh, 0);
    const over = d.max_hourly_kwh !== null ? this.bars?.filter((b) => b.kwh > d.max_hourly_kwh!).length ?? 0 : 0;
    return html`
      <p><a href="/devices">← My devices</a></p>
      <h1>${d.name}</h1>
      <div class="panel">
        <dl style="display:grid;grid-template-columns:max-content 1fr;gap:0.4rem 1rem;margin:0">
          <dt class="muted">Id</dt><dd style="margin:0"><code>${d.id}</code></dd>
          <dt class="muted">Description</dt><dd style="margin:0">${d.description ?? '–'}</dd>
          <dt class="muted">Address</dt><dd style="margin:0">${d.address ?? '–'}</dd>
          <dt class="muted">Maximum hourly consumption</dt><dd style="margin:0">${d.max_hourly_kwh !== null ? formatEnergy(d.max_hourly_kwh, loc) : 'not set'}</dd>
          <dt class="muted">Power now</dt>
          <dd style="margin:0;font-size:1.3rem;font-weight:600" data-testid="live-power" aria-live="polite">${this.powerText()}</dd>
        </dl>
      </div>
      <section class="panel" aria-labelledby="hourly">
        <div class="row" style="justify-content:space-between">
          <h2 id="hourly" style="margin:0">Energy per hour · ${formatDate(date, loc)}</h2>
          <div class="row">
            <button type="button" class="secondary" @click=${() => this.pickDate(addDays(date, -1))} aria-label="Previous day">←</button>
            <label class="inline">Date <input type="date" .value=${date} @change=${(e: Event) => this.pickDate((e.target as HTMLInputElement).value)} /></label>
            <button type="button" class="secondary" @click=${() => this.pickDate(addDays(date, 1))} aria-label="Next day">→</button>
            <button type="button" class="secondary" @click=${() => this.pickDate(todayIn(this.ctx.timeZone))}>Today</button>
          </div>
        </div>
        ${this.chartError ? html`<p class="error" role="alert">${this.chartError}</p>` : nothing}
        ${this.bars ? html`
          <p class="muted" data-testid="day-summary">${this.bars.length} hours · ${formatEnergy(total ?? 0, loc)} in total${over > 0 ? html` · <strong style="color:var(--jh-bad)">${over} hour${over === 1 ? '' : 's'} over the maximum</strong>` : nothing} · times in ${this.ctx.timeZone}</p>
          <jh-hourly-chart .bars=${this.bars} .max=${d.max_hourly_kwh} .locale=${loc} .timeZone=${this.ctx.timeZone}
            .label=${`Energy per hour of ${d.name} on ${formatDate(date, loc)}`} aria-busy=${this.loadingChart ? 'true' : 'false'}></jh-hourly-chart>`
          : html`<p aria-busy="true">Loading…</p>`}
      </section>`;
  }

  private powerText() {
    if (!this.powerEntity) return html`<span class="muted">no power meter</span>`;
    const s = this.power;
    if (!s) return '–';
    if (!s.available) return html`<span class="muted">unavailable</span>`;
    return html`${s.value === null ? '–' : formatPower(s.value, this.ctx.locale)}
      <span class="muted" style="font-size:0.8rem;font-weight:400">${s.last_reported ? `at ${formatDateTime(s.last_reported, this.ctx.locale, this.ctx.timeZone)}` : ''}</span>`;
  }
}
customElements.define('jh-device-page', JhDevicePage);
