/** Energy bars: kWh per 15 minutes, hour, day or month for one or several devices, stacked. */
import { html } from 'lit';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { query } from '../lib/api.js';
import { formatEnergy } from '../lib/format.js';
import { echarts, JhChartCard, type ThemeColours } from './charts.js';
import { bucketLabel, PERIODS, periodRange, type Period } from './periods.js';
import { deviceName, energyDevices } from './stubs.js';
import type { CardConfig, Device, Entity } from './types.js';
import { schemaParts } from './validate.js';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent]);

export interface EnergyBarsConfig extends CardConfig {
  type: 'energy-bars';
  devices: string[];
  interval: '15m' | 'hour' | 'day' | 'month';
  period: Period;
  stacked: boolean;
  name?: string;
}

export interface BarsData {
  /** Bucket starts (UTC ISO), ascending. */
  buckets: string[];
  series: { device: string; name: string; values: (number | null)[] }[];
}

/** Rows of several devices → one aligned table (a bucket one device lacks is null). Pure. */
export function alignSeries(rows: { device: string; name: string; data: { datetime: string; value: number }[] }[]): BarsData {
  const buckets = [...new Set(rows.flatMap((r) => r.data.map((d) => new Date(d.datetime).toISOString())))].sort();
  const index = new Map(buckets.map((b, i) => [b, i]));
  return {
    buckets,
    series: rows.map((r) => {
      const values: (number | null)[] = buckets.map(() => null);
      for (const d of r.data) values[index.get(new Date(d.datetime).toISOString())!] = d.value;
      return { device: r.device, name: r.name, values };
    }),
  };
}

export class EnergyBarsCard extends JhChartCard<EnergyBarsConfig, BarsData> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'devices'],
    properties: {
      type: { const: 'energy-bars' },
      name: schemaParts.name,
      devices: schemaParts.devices('Devices', 12),
      interval: { type: 'string', enum: ['15m', 'hour', 'day', 'month'], default: 'hour', title: 'Bar per' },
      period: { type: 'string', enum: [...PERIODS], default: 'today', title: 'Period' },
      stacked: { type: 'boolean', default: true, title: 'Stack the devices' },
    },
  };

  static getStubConfig(entities: Entity[], _devices: Device[]): EnergyBarsConfig {
    const devices = energyDevices(entities, 6);
    return { type: 'energy-bars', devices: devices.length ? devices : ['device'], interval: 'hour', period: 'today', stacked: true };
  }

  override getCardSize(): number { return 6; }

  protected async fetchData(c: EnergyBarsConfig): Promise<BarsData> {
    const hub = this.hub!;
    const range = periodRange(c.period, this.timeZone);
    const devices = await hub.devices().catch(() => [] as Device[]);
    const rows = await Promise.all(c.devices.map(async (device) => {
      const res = await hub.api<{ data: { datetime: string; value: number }[] }>(
        `/energy${query({ device, start: range.start, end: range.end, interval: c.interval, tz: this.timeZone })}`);
      return { device, name: deviceName(devices, device), data: res.data };
    }));
    return alignSeries(rows);
  }

  protected buildChartOption(c: EnergyBarsConfig, data: BarsData, t: ThemeColours) {
    const locale = this.locale;
    return {
      color: t.palette,
      animation: false,
      grid: { left: 48, right: 8, top: 28, bottom: 24 },
      legend: { top: 0, textStyle: { color: t.text }, type: 'scroll' },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? formatEnergy(v, locale) : '–') },
      xAxis: { type: 'category', data: data.buckets.map((b) => bucketLabel(b, c.interval, locale, this.timeZone)), axisLabel: { color: t.muted } },
      yAxis: { type: 'value', name: 'kWh', axisLabel: { color: t.muted }, splitLine: { lineStyle: { color: t.grid } } },
      series: data.series.map((s) => ({ type: 'bar', name: s.name, data: s.values, ...(c.stacked ? { stack: 'energy' } : {}) })),
    };
  }

  protected renderCard(c: EnergyBarsConfig) {
    const empty = this.data && this.data.buckets.length === 0;
    return html`<h2>${c.name ?? 'Energy'}</h2>${this.status()}
      ${empty ? html`<div class="muted">No energy recorded in this period</div>` : ''}
      <div class="chart" role="img" aria-label=${`${c.name ?? 'Energy'} per ${c.interval}`}></div>`;
  }
}

customElements.define('jh-energy-bars-card', EnergyBarsCard);
