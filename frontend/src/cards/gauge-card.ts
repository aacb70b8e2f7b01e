/** Gauge: live power of an entity (or the sum of several) against a maximum, drawn as an SVG arc. */
import { css, html, svg } from 'lit';
import { formatPower } from '../lib/format.js';
import { JhCard, cardStyles, sumStates } from './base.js';
import { firstPower, deviceName } from './stubs.js';
import type { CardConfig, Device, Entity } from './types.js';
import { schemaParts } from './validate.js';

export interface GaugeConfig extends CardConfig {
  type: 'gauge';
  entity?: string;
  entities?: string[];
  name?: string;
  min: number;
  max: number;
  /** Power (W) from which the arc turns amber and red. */
  warning?: number;
  critical?: number;
}

const ARC = 251.33; // length of the half circle of radius 80
// The offset is rounded to 0.1 (0.04 % of the arc): a change too small to see is no repaint.

export class GaugeCard extends JhCard<GaugeConfig> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    anyOf: [{ required: ['entity'] }, { required: ['entities'] }],
    'x-anyOf-message': 'set "entity" (one power entity) or "entities" (several, summed)',
    properties: {
      type: { const: 'gauge' },
      name: schemaParts.name,
      entity: schemaParts.entity('Power entity'),
      entities: schemaParts.entities('Power entities (summed)', 20),
      min: { type: 'number', default: 0, title: 'Minimum (W)' },
      max: { type: 'number', exclusiveMinimum: 0, default: 3600, title: 'Maximum (W)' },
      warning: { type: 'number', title: 'Amber from (W)' },
      critical: { type: 'number', title: 'Red from (W)' },
    },
  };

  static override styles = [cardStyles, css`
    svg { width: 100%; max-height: 150px; display: block; }
    .track { stroke: var(--jh-track, #e6e9ef); }
    .center { text-align: center; margin-top: -36px; }
    /* A box of fixed size whose inside is laid out alone (contain: strict): the value changing a few
       times a second relayouts and repaints only this box, never the card or the dashboard. */
    .value-text { display: block; height: 40px; line-height: 40px; contain: strict; white-space: nowrap; }
  `];

  static getStubConfig(entities: Entity[], devices: Device[]): GaugeConfig {
    const e = firstPower(entities);
    const max = devices.find((d) => d.id === e?.device_id)?.max_power_w ?? 3600;
    return { type: 'gauge', ...(e ? { entity: e.id, name: deviceName(devices, e.device_id) } : { entity: 'device.power' }), min: 0, max };
  }

  override setConfig(config: CardConfig): void {
    const c = config as Partial<GaugeConfig>;
    if (typeof c.max === 'number' && typeof c.min === 'number' && c.max <= c.min) {
      throw new Error(`gauge card: max (${c.max}) must be greater than min (${c.min})`);
    }
    super.setConfig(config);
  }

  override getCardSize(): number { return 4; }

  protected override entityIds(): string[] {
    const c = this.config!;
    return c.entities ?? (c.entity ? [c.entity] : []);
  }

  /** The summed value shown, or undefined when no entity has one. */
  get value(): number | undefined {
    return sumStates(this.entityIds().map((id) => this.state(id)));
  }

  protected renderCard(c: GaugeConfig) {
    const value = this.value;
    const ratio = value === undefined ? 0 : Math.min(1, Math.max(0, (value - c.min) / (c.max - c.min)));
    const colour = value !== undefined && c.critical !== undefined && value >= c.critical ? 'var(--jh-bad, #d92d20)'
      : value !== undefined && c.warning !== undefined && value >= c.warning ? 'var(--jh-warn, #f79009)'
        : 'var(--jh-accent, #1570ef)';
    const label = value === undefined ? 'unavailable' : formatPower(value, this.locale);
    return html`
      ${c.name ? html`<h2>${c.name}</h2>` : ''}
      <svg viewBox="0 0 200 110" role="meter" aria-label=${`${c.name ?? 'Power'}: ${label}`}
        aria-valuemin=${c.min} aria-valuemax=${c.max} aria-valuenow=${value ?? c.min}>
        ${svg`<path class="track" d="M20 100 A80 80 0 0 1 180 100" fill="none" stroke-width="16" stroke-linecap="round"/>
        <path class="value" d="M20 100 A80 80 0 0 1 180 100" fill="none" stroke=${colour} stroke-width="16" stroke-linecap="round"
          stroke-dasharray=${ARC} stroke-dashoffset=${(ARC * (1 - ratio)).toFixed(1)}/>`}
      </svg>
      <div class="center"><span class="big value-text ${value === undefined ? 'muted' : ''}">${label}</span>
        <div class="muted">of ${formatPower(c.max, this.locale)}</div></div>`;
  }
}

customElements.define('jh-gauge-card', GaugeCard);
