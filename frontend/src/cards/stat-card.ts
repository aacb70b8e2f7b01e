/** Statistic: current power, today's or this month's energy of some devices or entities, with a trend. */
import { css, html } from 'lit';
import { query } from '../lib/api.js';
import { formatEnergy, formatNumber, formatPower } from '../lib/format.js';
import { cardStyles, sumStates } from './base.js';
import { DataCard } from './data-card.js';
import { soFarAndBefore, trendPercent, type LocalRange } from './periods.js';
import { energyDevices, firstPower } from './stubs.js';
import type { CardConfig, Device, Entity, EntityState } from './types.js';
import { schemaParts } from './validate.js';

export interface StatConfig extends CardConfig {
  type: 'stat';
  stat: 'power' | 'today_kwh' | 'month_kwh';
  entity?: string;
  entities?: string[];
  devices?: string[];
  name?: string;
}

interface EnergyFigures { current: number; previous: number }

export class StatCard extends DataCard<StatConfig, EnergyFigures | null> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    anyOf: [{ required: ['entity'] }, { required: ['entities'] }, { required: ['devices'] }],
    'x-anyOf-message': 'set "entity", "entities" or "devices"',
    properties: {
      type: { const: 'stat' },
      name: schemaParts.name,
      stat: { type: 'string', enum: ['power', 'today_kwh', 'month_kwh'], default: 'power', title: 'Figure', description: "current power, today's energy or this month's energy" },
      entity: schemaParts.entity('Entity'),
      entities: schemaParts.entities('Entities (summed)', 50),
      devices: schemaParts.devices('Devices (summed)', 50),
    },
  };

  static override styles = [cardStyles, css`
    .trend { font-size: 13px; margin-left: 6px; }
    .up { color: var(--jh-bad, #b42318); }
    .down { color: var(--jh-ok, #067647); }
  `];

  static getStubConfig(entities: Entity[], _devices: Device[]): StatConfig {
    const devices = energyDevices(entities, 8);
    if (devices.length > 0) return { type: 'stat', stat: 'today_kwh', devices, name: 'Energy today' };
    const e = firstPower(entities);
    return { type: 'stat', stat: 'power', entity: e?.id ?? 'device.power' };
  }

  override getCardSize(): number { return 2; }

  /** Power entities of the configured devices (looked up once per config). */
  private devicePower: string[] = [];
  private lastPower?: number;
  private powerDelta?: number;

  protected override configChanged(): void {
    this.devicePower = [];
    this.lastPower = undefined;
    this.powerDelta = undefined;
    super.configChanged();
  }

  protected override entityIds(): string[] {
    const c = this.config!;
    if (c.stat !== 'power') return [];
    return c.entities ?? (c.entity ? [c.entity] : this.devicePower);
  }

  protected override statesChanged(changed: EntityState[]): void {
    const before = this.lastPower;
    const now = this.powerValue();
    if (before !== undefined && now !== undefined && now !== before) this.powerDelta = now - before;
    this.lastPower = now;
    super.statesChanged(changed);
  }

  private powerValue(): number | undefined {
    return sumStates(this.entityIds().map((id) => this.state(id)));
  }

  protected async fetchData(c: StatConfig): Promise<EnergyFigures | null> {
    const hub = this.hub!;
    if (c.stat === 'power') {
      if (!c.entity && !c.entities && c.devices) {
        const all = await hub.entities();
        this.devicePower = all.filter((e) => e.kind === 'power' && c.devices!.includes(e.device_id)).map((e) => e.id);
        this.resubscribe();
      }
      this.lastPower = this.powerValue();
      return null;
    }
    const { current, previous } = soFarAndBefore(c.stat === 'today_kwh' ? 'today' : 'month', this.timeZone);
    const interval = c.stat === 'today_kwh' ? '15m' : 'hour';
    const targets = c.devices?.map((d) => ({ device: d })) ?? (c.entities ?? [c.entity!]).map((e) => ({ entity: e }));
    const sum = async (range: LocalRange) => {
      const rows = await Promise.all(targets.map((t) => hub.api<{ data: { value: number }[] }>(
        `/energy${query({ ...t, start: range.start, end: range.end, interval, tz: this.timeZone })}`)));
      return rows.reduce((acc, r) => acc + r.data.reduce((a, x) => a + x.value, 0), 0);
    };
    const [cur, prev] = await Promise.all([sum(current), sum(previous)]);
    return { current: cur, previous: prev };
  }

  protected renderCard(c: StatConfig) {
    const title = c.name ?? (c.stat === 'power' ? 'Power' : c.stat === 'today_kwh' ? 'Energy today' : 'Energy this month');
    if (c.stat === 'power') {
      const v = this.powerValue();
      const d = this.powerDelta;
      return html`<h2>${title}</h2>${this.status()}
        <div><span class="big">${v === undefined ? '–' : formatPower(v, this.locale)}</span>
        ${d !== undefined && v !== undefined ? html`<span class="trend ${d > 0 ? 'up' : 'down'}" title="change since the previous reading">${d > 0 ? '▲' : '▼'} ${formatPower(Math.abs(d), this.locale)}</span>` : ''}</div>`;
    }
    const data = this.data;
    const trend = data ? trendPercent(data.current, data.previous) : undefined;
    const than = c.stat === 'today_kwh' ? 'yesterday by this time' : 'last month by this day';
    return html`<h2>${title}</h2>${this.status()}
      <div><span class="big">${data ? formatEnergy(data.current, this.locale) : '–'}</span>
      ${trend !== undefined ? html`<span class="trend ${trend > 0 ? 'up' : 'down'}" title=${`compared with ${than}`}>${trend > 0 ? '▲' : '▼'} ${formatNumber(Math.abs(trend), this.locale, 0)}%</span>` : ''}</div>
      ${data ? html`<div class="muted">${formatEnergy(data.previous, this.locale)} ${than}</div>` : ''}`;
  }
}

customElements.define('jh-stat-card', StatCard);
