/**
 * Energy flow: grid, solar, battery and home, with arrows that move in the direction power flows.
 * Sign convention of the hub: positive power flows into the home (grid import, PV production,
 * battery discharge); the home's use is their sum unless a home entity is given.
 */
import { css, html, svg } from 'lit';
import { formatPower } from '../lib/format.js';
import { JhCard, cardStyles } from './base.js';
import { roleEntity } from './stubs.js';
import type { CardConfig, Device, Entity } from './types.js';
import { schemaParts } from './validate.js';

export interface EnergyFlowConfig extends CardConfig { type: 'energy-flow'; grid?: string; pv?: string; battery?: string; home?: string; name?: string }

type Source = 'grid' | 'pv' | 'battery';
const SOURCES: Source[] = ['grid', 'pv', 'battery'];
const LABEL: Record<Source | 'home', string> = { grid: 'Grid', pv: 'Solar', battery: 'Battery', home: 'Home' };
const POS: Record<Source | 'home', [number, number]> = { pv: [150, 30], grid: [40, 120], battery: [260, 120], home: [150, 200] };

/** Below this many watts a line counts as idle (no arrow). */
const IDLE_W = 5;

/** Flows of the diagram from the readings. Pure. */
export function flows(values: Partial<Record<Source | 'home', number>>): { source: Source; watts: number }[] & { home?: number } {
  const out = SOURCES.filter((s) => values[s] !== undefined).map((s) => ({ source: s, watts: values[s]! })) as { source: Source; watts: number }[] & { home?: number };
  out.home = values.home ?? (out.length ? out.reduce((a, f) => a + f.watts, 0) : undefined);
  return out;
}

export class EnergyFlowCard extends JhCard<EnergyFlowConfig> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    anyOf: [{ required: ['grid'] }, { required: ['pv'] }, { required: ['battery'] }],
    'x-anyOf-message': 'set at least one of "grid", "pv" and "battery" (power entities)',
    properties: {
      type: { const: 'energy-flow' },
      name: schemaParts.name,
      grid: schemaParts.entity('Grid power (import > 0)'),
      pv: schemaParts.entity('Solar power (production > 0)'),
      battery: schemaParts.entity('Battery power (discharge > 0)'),
      home: schemaParts.entity('Home consumption (default: the sum)'),
    },
  };

  static override styles = [cardStyles, css`
    svg { width: 100%; height: calc(100% - 30px); min-height: 180px; }
    .node { fill: var(--jh-card-bg, #fff); stroke: var(--jh-border, #b9c0cc); stroke-width: 2; }
    .node.grid { stroke: var(--jh-chart-6, #0ba5ec); } .node.pv { stroke: var(--jh-chart-2, #f79009); }
    .node.battery { stroke: var(--jh-chart-3, #12b76a); } .node.home { stroke: var(--jh-accent, #1570ef); }
    text { fill: var(--jh-card-fg, #1d2430); font-size: 11px; text-anchor: middle; }
    .line { stroke: var(--jh-border, #b9c0cc); stroke-width: 2; fill: none; }
    .flow { stroke: var(--jh-accent, #1570ef); stroke-width: 3; fill: none; stroke-dasharray: 6 10; animation: run linear infinite; }
    .flow.reverse { animation-direction: reverse; }
    @keyframes run { to { stroke-dashoffset: -32; } }
    @media (prefers-reduced-motion: reduce) { .flow { animation: none; } }
  `];

  static getStubConfig(entities: Entity[], _devices: Device[]): EnergyFlowConfig {
    const c: EnergyFlowConfig = { type: 'energy-flow' };
    for (const s of SOURCES) { const id = roleEntity(entities, s); if (id) c[s] = id; }
    if (!c.grid && !c.pv && !c.battery) c.grid = entities.find((e) => e.kind === 'power')?.id ?? 'grid.power';
    return c;
  }

  override getCardSize(): number { return 5; }

  protected override entityIds(): string[] {
    const c = this.config!;
    return [c.grid, c.pv, c.battery, c.home].filter((x): x is string => !!x);
  }

  private value(id: string | undefined): number | undefined {
    const s = this.state(id);
    return s && s.available && s.value !== null ? s.value : undefined;
  }

  protected renderCard(c: EnergyFlowConfig) {
    const values: Partial<Record<Source | 'home', number>> = {};
    for (const k of [...SOURCES, 'home'] as const) { const v = this.value(c[k]); if (v !== undefined) values[k] = v; }
    const f = flows(values);
    const configured = SOURCES.filter((s) => c[s]);
    const node = (k: Source | 'home', watts: number | undefined) => {
      const [x, y] = POS[k];
      return svg`<g class="node-group" data-node=${k}><circle class="node ${k}" cx=${x} cy=${y} r="27"/>
        <text x=${x} y=${y - 3}>${LABEL[k]}</text><text class="watts" x=${x} y=${y + 12}>${watts === undefined ? '–' : formatPower(watts, this.locale)}</text></g>`;
    };
    const line = (s: Source) => {
      const [x1, y1] = POS[s]; const [x2, y2] = POS.home;
      const w = values[s];
      const moving = w !== undefined && Math.abs(w) >= IDLE_W;
      // Faster dashes for more power: 2.5 s at 100 W down to 0.5 s from 5 kW.
      const seconds = moving ? Math.max(0.5, Math.min(2.5, 2.5 - Math.log10(Math.abs(w!) / 100) * 1.2)) : 0;
      return svg`<path class="line" d="M${x1} ${y1} L${x2} ${y2}"/>
        ${moving ? svg`<path class="flow ${w! < 0 ? 'reverse' : ''}" data-flow=${s} data-direction=${w! < 0 ? 'from-home' : 'to-home'}
          style=${`animation-duration:${seconds.toFixed(2)}s`} d="M${x1} ${y1} L${x2} ${y2}"/>` : ''}`;
    };
    const summary = configured.map((s) => `${LABEL[s]} ${values[s] === undefined ? 'unavailable' : formatPower(values[s]!, this.locale)}`).join(', ');
    return html`${c.name ? html`<h2>${c.name}</h2>` : ''}
      <svg viewBox="0 0 300 235" role="img" aria-label=${`Energy flow: ${summary}; home ${f.home === undefined ? 'unknown' : formatPower(f.home, this.locale)}`}>
        ${configured.map(line)}
        ${configured.map((s) => node(s, values[s]))}
        ${node('home', f.home)}
      </svg>`;
  }
}

customElements.define('jh-energy-flow-card', EnergyFlowCard);
