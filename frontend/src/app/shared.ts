/** Styles and helpers the pages share: layout, forms with labels, buttons, tables, focus rings. */
import { LitElement, css, type PropertyValues } from 'lit';
import type { AppContext } from './context.js';

export const pageStyles = css`
  :host { display: block; color: var(--jh-fg); }
  *, *::before, *::after { box-sizing: border-box; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
  a { color: var(--jh-accent); }
  .muted { color: var(--jh-muted); }
  .panel {
    background: var(--jh-surface); border: 1px solid var(--jh-border); border-radius: var(--jh-radius);
    padding: 1rem; margin-bottom: 1rem;
  }
  form.stack { display: grid; gap: 0.75rem; max-width: 26rem; }
  label { display: grid; gap: 0.25rem; font-weight: 500; }
  label.inline { display: inline-flex; align-items: center; gap: 0.5rem; font-weight: 400; }
  input, select, textarea {
    font: inherit; color: inherit; background: var(--jh-bg); border: 1px solid var(--jh-border);
    border-radius: 6px; padding: 0.45rem 0.6rem; min-height: 2.5rem;
  }
  button, .button {
    font: inherit; border: 1px solid var(--jh-accent); background: var(--jh-accent); color: var(--jh-accent-fg);
    border-radius: 6px; padding: 0.45rem 0.9rem; min-height: 2.5rem; cursor: pointer; text-decoration: none;
    display: inline-flex; align-items: center; gap: 0.35rem;
  }
  button.secondary { background: transparent; color: var(--jh-accent); }
  button.danger { background: transparent; color: var(--jh-bad); border-color: var(--jh-bad); }
  button:disabled { opacity: 0.55; cursor: default; }
  :is(a, button, input, select, textarea, [tabindex]):focus-visible { outline: 3px solid var(--jh-focus); outline-offset: 2px; }
  .error { color: var(--jh-bad); background: var(--jh-bad-bg); border-radius: 6px; padding: 0.5rem 0.75rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid var(--jh-border); vertical-align: middle; }
  th { font-weight: 600; color: var(--jh-muted); font-size: 0.85rem; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .row { display: flex; gap: 0.5rem; flex-wrap: wrap; align-items: center; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .table-wrap { overflow-x: auto; }
  @media (max-width: 640px) {
    .hide-narrow { display: none; }
    th, td { padding: 0.4rem 0.3rem; }
  }
`;

/** A routed page: gets the app context and the route's params. */
export class JhPage extends LitElement {
  static override properties = {
    ctx: { attribute: false },
    params: { attribute: false },
    query: { attribute: false },
  };
  declare ctx: AppContext;
  declare params: Record<string, string>;
  declare query: URLSearchParams;

  constructor() {
    super();
    this.params = {};
    this.query = new URLSearchParams();
  }

  /** Runs when the page is shown with new params (override to load data). */
  protected load(): void | Promise<void> {}

  /** The live connection came back: a page whose loading failed tries again. */
  reconnected(): void {
    if ((this as { error?: unknown }).error) void this.load();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('params') || changed.has('ctx')) && this.ctx) void this.load();
  }
}

/** The message of an error for a user: the server's problem detail, or the error's message. */
export function errorText(err: unknown): string {
  const e = err as { describe?: () => string; message?: string };
  return typeof e?.describe === 'function' ? e.describe() : String(e?.message ?? err);
}

/** Form fields by name. */
export function formData(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form).entries()) out[k] = typeof v === 'string' ? v : '';
  return out;
}
