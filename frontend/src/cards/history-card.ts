/**
 * History: power over time with zoom. Short ranges read the raw samples (and append live states);
 * long ranges read the energy ledger's hourly or daily rollups and show their average power.
 */
import { html } from 'lit';
import { LineChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { query } from '../lib/api.js';
import { formatPower } from '../lib/format.js';
import { echarts, JhChartCard, type ThemeColours } from './charts.js';
import { firstPower } from './stubs.js';
import type { CardConfig, Device, Entity, EntityState } from './types.js';
import { schemaParts } from './validate.js';

echarts.use([LineChart, DataZoomComponent, GridComponent, LegendComponent, TooltipComponent]);

export interface HistoryConfig extends CardConfig { type: 'history'; entities: string[]; hours: number; name?: string }

/** Up to this many hours the card reads raw samples; beyond, rollups. */
export const RAW_MAX_HOURS = 48;

/** What to read for a range: raw samples, or rollups of this interval. Pure. */
export function historySource(hours: number): { kind: 'raw' } | { kind: 'rollup'; interval: 'hour' | 'day'; bucketHours: number } {
  if (hours <= RAW_MAX_HOURS) return { kind: 'raw' };
  return hours <= 24 * 62 ? { kind: 'rollup', interval: 'hour', bucketHours: 1 } : { kind: 'rollup', interval: 'day', bucketHours: 24 };
}

type Point = [number, number | null];
interface HistoryData { series: { entity: string; name: string; points: Point[] }[]; source: ReturnType<typeof historySource> }

const MAX_LIVE_POINTS = 20_000;

export class HistoryCard extends JhChartCard<HistoryConfig, HistoryData> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'entities'],
    properties: {
      type: { const: 'history' },
      name: schemaParts.name,
      entities: schemaParts.entities('Power entities', 8),
      hours: { type: 'number', exclusiveMinimum: 0, maximum: 24 * 366, default: 24, title: 'Hours back', description: `up to ${RAW_MAX_HOURS} h: every reading; longer: hourly or daily averages` },
    },
  };

  static getStubConfig(entities: Entity[], _devices: Device[]): HistoryConfig {
    const e = firstPower(entities);
    return { type: 'history', entities: [e?.id ?? 'device.power'], hours: 24 };
  }

  override getCardSize(): number { return 6; }
  protected override refreshMs = 5 * 60_000;

  /** Live readings redraw the chart at most this often (a day of samples is thousands of points). */
  static readonly REDRAW_MS = 1000;
  protected override redrawMs = HistoryCard.REDRAW_MS;
  // Only the series are replaced, so the zoom the user chose survives live updates.
  protected override chartMerge = { replaceMerge: ['series'] };

  protected override entityIds(): string[] {
    const c = this.config!;
    return historySource(c.hours).kind === 'raw' ? c.entities : [];
  }

  protected override statesChanged(changed: EntityState[]): void {
    const data = this.data;
    if (data && data.source.kind === 'raw') {
      for (const s of changed) {
        const series = data.series.find((x) => x.entity === s.entity_id);
        const t = Date.parse(s.last_changed);
        const last = series?.points[series.points.length - 1];
        if (series && (!last || t > last[0])) {
          series.points.push([t, s.available ? s.value : null]);
          if (series.points.length > MAX_LIVE_POINTS) series.points.shift();
        }
      }
    }
    super.statesChanged(changed);
  }

  protected async fetchData(c: HistoryConfig): Promise<HistoryData> {
    const hub = this.hub!;
    const end = Date.now();
    const start = end - c.hours * 3_600_000;
    const source = historySource(c.hours);
    const iso = (t: number) => new Date(t).toISOString();
    const devices = await hub.devices().catch(() => [] as Device[]);
    // "Kitchen fridge" for fridge.power; the key too when one device has several series here.
    const nameOf = (entity: string) => {
      const [device, key] = entity.split('.');
      const shared = c.entities.filter((e) => e.startsWith(`${device}.`)).length > 1;
      const name = devices.find((d) => d.id === device)?.name;
      return name ? (shared ? `${name} ${key}` : name) : entity;
    };
    const series = await Promise.all(c.entities.map(async (entity) => {
      if (source.kind === 'raw') {
        const points: Point[] = [];
        let from = iso(start);
        // Follow `next` pages so a busy entity's whole range shows.
        for (let page = 0; page < 10; page++) {
          const res = await hub.api<{ data: { datetime: string; value: number | null }[]; next: string | null }>(
            `/history${query({ entity, start: from, end: iso(end), limit: 10_000 })}`);
          for (const d of res.data) points.push([Date.parse(d.datetime), d.value]);
          if (!res.next) break;
          from = res.next;
        }
        return { entity, name: nameOf(entity), points };
      }
      const res = await hub.api<{ data: { datetime: string; value: number }[] }>(
        `/energy${query({ entity, start: iso(start), end: iso(end), interval: source.interval, tz: this.timeZone })}`);
      return { entity, name: nameOf(entity), points: res.data.map((d): Point => [Date.parse(d.datetime), (d.value * 1000) / source.bucketHours]) };
    }));
    return { series, source };
  }

  protected buildChartOption(_c: HistoryConfig, data: HistoryData, t: ThemeColours) {
    const locale = this.locale;
    const raw = data.source.kind === 'raw';
    return {
      color: t.palette,
      animation: false,
      grid: { left: 52, right: 12, top: 28, bottom: 56 },
      legend: { top: 0, textStyle: { color: t.text }, type: 'scroll' },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? formatPower(v, locale) : '–') },
      xAxis: { type: 'time', axisLabel: { color: t.muted } },
      yAxis: { type: 'value', name: raw ? 'W' : 'W (avg)', axisLabel: { color: t.muted }, splitLine: { lineStyle: { color: t.grid } } },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
      // A power reading holds until the next one, so raw samples are drawn as steps.
      series: data.series.map((s) => ({ type: 'line', name: s.name, data: s.points, showSymbol: false, connectNulls: false, ...(raw ? { step: 'end' } : {}) })),
    };
  }

  protected renderCard(c: HistoryConfig) {
    return html`<h2>${c.name ?? 'History'}</h2>${this.status()}
      <div class="chart" role="img" aria-label=${`${c.name ?? 'Power'} over the last ${c.hours} hours`}></div>`;
  }
}

customElements.define('jh-history-card', HistoryCard);
