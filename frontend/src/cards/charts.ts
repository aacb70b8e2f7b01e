/**
 * ECharts, imported per chart type: this module brings only the core and the canvas renderer;
 * each card adds its chart and components (`use([BarChart, GridComponent])`), so a dashboard
 * downloads only what its cards draw. JhChartCard is the base of the cards that draw one chart.
 */
import type { PropertyValues } from 'lit';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { cardStyles } from './base.js';
import { DataCard } from './data-card.js';
import type { CardConfig } from './types.js';

echarts.use([CanvasRenderer]);

export type Chart = ReturnType<typeof echarts.init>;
export { echarts };

export interface ThemeColours { text: string; muted: string; grid: string; palette: string[] }

/** Colours read from the page's theme variables, so charts follow light and dark themes. */
export function themeColours(el: Element): ThemeColours {
  const s = getComputedStyle(el);
  const v = (name: string, fallback: string) => s.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--jh-card-fg', '#1d2430'),
    muted: v('--jh-muted', '#5f6b7a'),
    grid: v('--jh-border', '#d9dee7'),
    palette: [
      v('--jh-chart-1', '#1570ef'), v('--jh-chart-2', '#f79009'), v('--jh-chart-3', '#12b76a'), v('--jh-chart-4', '#9e77ed'),
      v('--jh-chart-5', '#f04438'), v('--jh-chart-6', '#0ba5ec'), v('--jh-chart-7', '#ee46bc'), v('--jh-chart-8', '#84adff'),
    ],
  };
}

/**
 * One chart inside a card's shadow root: created on first use, resized with its box, disposed when
 * the card leaves the page.
 */
export class ChartHost {
  chart?: Chart;
  private observer?: ResizeObserver;

  /** The chart on `el`, created (and observed for size changes) the first time. */
  on(el: HTMLElement): Chart {
    if (this.chart && this.chart.getDom() === el) return this.chart;
    this.dispose();
    this.chart = echarts.init(el, undefined, { renderer: 'canvas' });
    this.observer = new ResizeObserver(() => this.chart?.resize());
    this.observer.observe(el);
    return this.chart;
  }

  dispose(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    this.chart?.dispose();
    this.chart = undefined;
  }
}

const themeListeners = new Set<() => void>();
let themeObserver: MutationObserver | undefined;

/** Calls `fn` when the page switches theme (`data-theme` on <html>), so charts redraw in its colours. */
export function watchTheme(fn: () => void): () => void {
  themeListeners.add(fn);
  themeObserver ??= new MutationObserver(() => { for (const l of themeListeners) l(); });
  if (themeListeners.size === 1) themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class'] });
  return () => {
    themeListeners.delete(fn);
    if (themeListeners.size === 0) themeObserver?.disconnect();
  };
}

/** What the chart is given: ECharts options (loosely typed: each card imports only its own chart types). */
export type ChartOption = Record<string, unknown>;

/**
 * A data card that draws one ECharts chart into its `.chart` element: the chart is created on first
 * draw, follows its box's size and the page's theme, and is disposed when the card leaves the page.
 * A card says what to draw (`chartOption(config, data, colours)`) and renders a `.chart` element.
 */
export abstract class JhChartCard<C extends CardConfig, D> extends DataCard<C, D> {
  static override styles = cardStyles;

  /** The last option given to the chart (tests read the bars and slices from it). */
  chartOption?: ChartOption;
  /** How a new option meets the chart's: true = replace all (default); `{ replaceMerge: ['series'] }` keeps zoom. */
  protected chartMerge: boolean | { replaceMerge: string[] } = true;
  /** Redraw at most this often (ms); 0 = on every update. Live series with thousands of points set it. */
  protected redrawMs = 0;

  private host = new ChartHost();
  private offTheme?: () => void;
  private lastDraw = 0;
  private drawTimer?: ReturnType<typeof setTimeout>;

  /** The chart's option for this config and data, in the theme's colours. */
  protected abstract buildChartOption(config: C, data: D, colours: ThemeColours): ChartOption;

  override connectedCallback(): void {
    super.connectedCallback();
    this.offTheme = watchTheme(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.offTheme?.();
    this.offTheme = undefined;
    clearTimeout(this.drawTimer);
    this.drawTimer = undefined;
    this.host.dispose();
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const wait = this.lastDraw + this.redrawMs - Date.now();
    if (this.redrawMs > 0 && wait > 0) {
      this.drawTimer ??= setTimeout(() => { this.drawTimer = undefined; this.draw(); }, wait);
      return;
    }
    this.draw();
  }

  private draw(): void {
    const el = this.renderRoot.querySelector<HTMLElement>('.chart');
    if (!el || !this.config || this.data === undefined) return;
    this.chartOption = this.buildChartOption(this.config, this.data, themeColours(this));
    const chart = this.host.on(el);
    if (typeof this.chartMerge === 'boolean') chart.setOption(this.chartOption, this.chartMerge);
    else chart.setOption(this.chartOption, this.chartMerge);
    this.lastDraw = Date.now();
  }
}
