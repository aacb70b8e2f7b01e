/** Energy share: each device's share of the energy over a period, as a pie or donut. */
import { html } from 'lit';
import { PieChart } from 'echarts/charts';
import { LegendComponent, TooltipComponent } from 'echarts/components';
import { query } from '../lib/api.js';
import { formatEnergy } from '../lib/format.js';
import { echarts, JhChartCard, type ThemeColours } from './charts.js';
import { periodRange, type LocalRange } from './periods.js';
import { deviceName } from './stubs.js';
import type { CardConfig, Device, Entity } from './types.js';
import { schemaParts } from './validate.js';

echarts.use([PieChart, LegendComponent, TooltipComponent]);

export interface PieConfig extends CardConfig {
  type: 'pie';
  period: 'today' | 'week' | 'month' | 'custom';
  start?: string;
  end?: string;
  devices?: string[];
  donut: boolean;
  /** Slices beyond this many are summed into "Other". */
  max_slices: number;
  name?: string;
}

/** Top rows → slices, the smallest beyond `max` summed as "Other". Pure. */
export function toSlices(rows: { device: string; kwh: number }[], names: (id: string) => string, max: number): { name: string; value: number }[] {
  const sorted = rows.filter((r) => r.kwh > 0).sort((a, b) => b.kwh - a.kwh);
  const head = sorted.slice(0, max).map((r) => ({ name: names(r.device), value: r.kwh }));
  const rest = sorted.slice(max).reduce((a, r) => a + r.kwh, 0);
  return rest > 0 ? [...head, { name: 'Other', value: rest }] : head;
}

const DATE = '^\\d{4}-\\d{2}-\\d{2}$';

type Slice = { name: string; value: number };

export class PieCard extends JhChartCard<PieConfig, Slice[]> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    if: { properties: { period: { const: 'custom' } }, required: ['period'] },
    then: { required: ['start', 'end'] },
    properties: {
      type: { const: 'pie' },
      name: schemaParts.name,
      period: { type: 'string', enum: ['today', 'week', 'month', 'custom'], default: 'today', title: 'Period' },
      start: { type: 'string', pattern: DATE, title: 'From (custom period)', description: 'a date such as 2026-11-01' },
      end: { type: 'string', pattern: DATE, title: 'Until, exclusive (custom period)', description: 'a date such as 2026-12-01' },
      devices: schemaParts.devices('Only these devices (default: all)', 100),
      donut: { type: 'boolean', default: true, title: 'Donut' },
      max_slices: { type: 'integer', minimum: 1, maximum: 30, default: 8, title: 'Largest slices shown' },
    },
  };

  static getStubConfig(_entities: Entity[], _devices: Device[]): PieConfig {
    return { type: 'pie', period: 'today', donut: true, max_slices: 8 };
  }

  override setConfig(config: CardConfig): void {
    const c = config as Partial<PieConfig>;
    if (c.period === 'custom' && typeof c.start === 'string' && typeof c.end === 'string' && c.start >= c.end) {
      throw new Error(`pie card: start (${c.start}) must be before end (${c.end})`);
    }
    super.setConfig(config);
  }

  override getCardSize(): number { return 5; }

  private range(c: PieConfig): LocalRange {
    return c.period === 'custom' ? { start: c.start!, end: c.end! } : periodRange(c.period, this.timeZone);
  }

  protected async fetchData(c: PieConfig) {
    const hub = this.hub!;
    const range = this.range(c);
    const [top, devices] = await Promise.all([
      hub.api<{ data: { device: string; kwh: number }[] }>(`/energy/top${query({ start: range.start, end: range.end, tz: this.timeZone, count: 1000 })}`),
      hub.devices().catch(() => [] as Device[]),
    ]);
    const rows = c.devices ? top.data.filter((r) => c.devices!.includes(r.device)) : top.data;
    return toSlices(rows, (id) => deviceName(devices, id), c.max_slices);
  }

  protected buildChartOption(c: PieConfig, data: Slice[], t: ThemeColours) {
    const locale = this.locale;
    return {
      color: t.palette,
      animation: false,
      tooltip: { trigger: 'item', valueFormatter: (v: unknown) => (typeof v === 'number' ? formatEnergy(v, locale) : '–') },
      legend: { bottom: 0, type: 'scroll', textStyle: { color: t.text } },
      series: [{ type: 'pie', radius: c.donut ? ['45%', '70%'] : '70%', center: ['50%', '45%'], data, label: { color: t.text } }],
    };
  }

  protected renderCard(c: PieConfig) {
    const total = this.data?.reduce((a, s) => a + s.value, 0);
    return html`<h2>${c.name ?? 'Energy share'}${total !== undefined ? html` <span class="muted">${formatEnergy(total, this.locale)}</span>` : ''}</h2>
      ${this.status()}
      ${this.data && this.data.length === 0 ? html`<div class="muted">No energy recorded in this period</div>` : ''}
      <div class="chart" role="img" aria-label=${`${c.name ?? 'Energy share'} per device`}></div>`;
  }
}

customElements.define('jh-pie-card', PieCard);
