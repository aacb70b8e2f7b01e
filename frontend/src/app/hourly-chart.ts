/**
 * <jh-hourly-chart>: energy per hour of one day as bars (ECharts, bar chart only, SVG renderer so
 * the bars are real elements), the device's maximum hourly consumption as a line, and the same
 * figures as a table for screen readers.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { formatEnergy, formatTime } from '../lib/format.js';

echarts.use([BarChart, GridComponent, TooltipComponent, MarkLineComponent, SVGRenderer]);

export interface HourBar { start: number; kwh: number }

export class JhHourlyChart extends LitElement {
  static override properties = {
    bars: { attribute: false },
    max: { attribute: false },
    locale: { attribute: false },
    timeZone: { attribute: false },
    label: { attribute: false },
  };
  declare bars: HourBar[];
  declare max: number | null;
  declare locale: string;
  declare timeZone: string;
  declare label: string;
  private chart: ReturnType<typeof echarts.init> | undefined;
  private observer: ResizeObserver | undefined;
  private readonly onTheme = () => this.draw();

  constructor() {
    super();
    this.bars = [];
    this.max = null;
    this.locale = navigator.language;
    this.timeZone = 'UTC';
    this.label = 'Energy per hour';
  }

  static override styles = css`
    :host { display: block; }
    .chart { width: 100%; height: 280px; }
    .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('jh-theme-changed', this.onTheme);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('jh-theme-changed', this.onTheme);
    this.observer?.disconnect();
    this.chart?.dispose();
    this.chart = undefined;
  }

  protected override updated(_changed: PropertyValues<this>): void {
    this.draw();
  }

  private draw(): void {
    const el = this.renderRoot.querySelector<HTMLElement>('.chart');
    if (!el) return;
    if (!this.chart || this.chart.getDom() !== el) {
      this.chart?.dispose();
      this.chart = echarts.init(el, undefined, { renderer: 'svg' });
      this.observer?.disconnect();
      this.observer = new ResizeObserver(() => this.chart?.resize());
      this.observer.observe(el);
    }
    const s = getComputedStyle(this);
    const v = (name: string, fallback: string) => s.getPropertyValue(name).trim() || fallback;
    const text = v('--jh-fg', '#1d2430');
    const grid = v('--jh-border', '#d3d9e2');
    const labels = this.bars.map((b) => formatTime(b.start, this.locale, this.timeZone));
    this.chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: {
        trigger: 'axis',
        valueFormatter: (value: unknown) => formatEnergy(Number(value), this.locale),
      },
      xAxis: {
        type: 'category', data: labels,
        axisLabel: { color: text, interval: labels.length > 12 ? 2 : 0 },
        axisLine: { lineStyle: { color: grid } },
      },
      yAxis: {
        type: 'value', name: 'kWh', nameTextStyle: { color: text },
        axisLabel: { color: text }, splitLine: { lineStyle: { color: grid } },
        ...(this.max !== null ? { max: (ext: { max: number }) => Math.max(ext.max, this.max! * 1.1) } : {}),
      },
      series: [{
        type: 'bar', name: 'Energy', data: this.bars.map((b) => b.kwh),
        itemStyle: { color: v('--jh-accent', '#1f6feb') },
        markLine: this.max !== null ? {
          symbol: 'none', silent: true,
          lineStyle: { color: v('--jh-bad', '#b42318'), type: 'dashed' },
          label: { formatter: `max ${formatEnergy(this.max, this.locale)}`, color: v('--jh-bad', '#b42318') },
          data: [{ yAxis: this.max }],
        } : undefined,
      }],
    }, { notMerge: true });
  }

  override render() {
    const total = this.bars.reduce((a, b) => a + b.kwh, 0);
    return html`
      <div class="chart" role="img" aria-label="${this.label}: ${this.bars.length} hours, ${formatEnergy(total, this.locale)} in total"></div>
      <table class="sr-only" data-testid="hourly-table">
        <caption>${this.label}</caption>
        <thead><tr><th scope="col">Hour</th><th scope="col">Energy</th></tr></thead>
        <tbody>${this.bars.map((b) => html`<tr><td>${formatTime(b.start, this.locale, this.timeZone)}</td><td data-kwh=${b.kwh}>${formatEnergy(b.kwh, this.locale)}</td></tr>`)}</tbody>
      </table>
      ${this.bars.length === 0 ? html`<p>No hours.</p>` : nothing}`;
  }
}
customElements.define('jh-hourly-chart', JhHourlyChart);
