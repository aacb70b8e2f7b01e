/**
 * ECharts, imported per chart type: this module brings only the core and the canvas renderer;
 * each card adds its chart and components (`use([BarChart, GridComponent])`), so a dashboard
 * downloads only what its cards draw.
 */
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([CanvasRenderer]);

export type Chart = ReturnType<typeof echarts.init>;
export { echarts };

/** Colours read from the page's theme variables, so charts follow light and dark themes. */
export function themeColours(el: Element): { text: string; muted: string; grid: string; palette: string[] } {
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
