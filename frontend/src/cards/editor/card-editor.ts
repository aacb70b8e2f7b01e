/**
 * The generic card editor (loaded lazily): a form drawn from the card's JSON Schema, or the config
 * as YAML. Every valid change fires `config-changed` {detail: {config}}; the dashboard validates it
 * through the card's own setConfig before saving.
 */
import { LitElement, css, html } from 'lit';
import { parse, stringify, YAMLParseError } from 'yaml';
import type { CardConfig, Device, Entity, HubConnection } from '../types.js';
import { fieldsOf, parseField, withOption, type Field } from './form-model.js';

export class CardEditor extends LitElement {
  static override properties = {
    hub: { attribute: false },
    schema: { attribute: false },
    mode: { state: true },
    problem: { state: true },
  };

  declare hub?: HubConnection;
  declare schema?: Record<string, unknown>;
  declare mode: 'form' | 'yaml';
  declare problem?: string;
  private config: CardConfig = { type: '' };
  private yamlText = '';
  private entities: Entity[] = [];
  private devices: Device[] = [];

  constructor() {
    super();
    this.mode = 'form';
  }

  static override styles = css`
    :host { display: block; font: 14px/1.4 var(--jh-font, system-ui, sans-serif); color: var(--jh-card-fg, #1d2430); }
    .tabs { display: flex; gap: 4px; margin-bottom: 10px; }
    .tabs button[aria-pressed=true] { background: var(--jh-accent, #1570ef); color: #fff; }
    label { display: block; margin: 8px 0 2px; font-weight: 600; }
    small { display: block; color: var(--jh-muted, #5f6b7a); }
    input, select, textarea { box-sizing: border-box; width: 100%; font: inherit; padding: 5px 6px; border: 1px solid var(--jh-border, #b9c0cc);
      border-radius: 6px; background: var(--jh-surface, #fff); color: inherit; }
    input[type=checkbox] { width: auto; }
    textarea { font-family: ui-monospace, monospace; min-height: 220px; }
    .problem { color: var(--jh-bad, #b42318); margin-top: 6px; }
  `;

  setConfig(config: CardConfig): void {
    this.config = { ...config };
    this.yamlText = stringify(this.config);
    this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadChoices();
  }

  private async loadChoices(): Promise<void> {
    if (!this.hub) return;
    [this.entities, this.devices] = await Promise.all([
      this.hub.entities().catch(() => []), this.hub.devices().catch(() => []),
    ]);
    this.requestUpdate();
  }

  private emit(config: CardConfig): void {
    this.config = config;
    this.dispatchEvent(new CustomEvent('config-changed', { detail: { config }, bubbles: true, composed: true }));
  }

  private setField(field: Field, value: unknown): void {
    this.problem = undefined;
    this.emit(withOption(this.config, field.key, value));
    this.yamlText = stringify(this.config);
  }

  private onText(field: Field, text: string): void {
    try {
      this.setField(field, parseField(field, text));
    } catch (err) {
      this.problem = (err as Error).message;
    }
  }

  private onYaml(text: string): void {
    this.yamlText = text;
    try {
      const value = parse(text, { prettyErrors: true });
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('The YAML must be a mapping of options (type: …)');
      this.problem = undefined;
      this.emit(value as CardConfig);
    } catch (err) {
      this.problem = err instanceof YAMLParseError ? `YAML line ${err.linePos?.[0]?.line ?? '?'}: ${err.message.split('\n')[0]}` : (err as Error).message;
    }
  }

  private control(f: Field) {
    const id = `f-${f.key}`;
    const v = this.config[f.key];
    const text = v === undefined ? '' : Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    const placeholder = f.default !== undefined ? `default: ${Array.isArray(f.default) ? f.default.join(', ') : String(f.default)}` : '';
    switch (f.kind) {
      case 'boolean':
        return html`<label><input id=${id} type="checkbox" .checked=${v === undefined ? f.default === true : v === true}
          @change=${(e: Event) => this.setField(f, (e.target as HTMLInputElement).checked)}> ${f.title}</label>`;
      case 'enum':
        return html`<label for=${id}>${f.title}</label><select id=${id} @change=${(e: Event) => this.onText(f, (e.target as HTMLSelectElement).value)}>
          ${f.required ? '' : html`<option value="" ?selected=${v === undefined}>${placeholder || '—'}</option>`}
          ${f.options!.map((o) => html`<option value=${String(o)} ?selected=${v === o}>${String(o)}</option>`)}</select>`;
      case 'entities': case 'devices': {
        const items = f.kind === 'devices' ? this.devices.map((d) => ({ id: d.id, label: `${d.name} (${d.id})` }))
          : this.entities.map((e) => ({ id: e.id, label: `${e.id} — ${e.kind}` }));
        if (items.length === 0) break;
        const chosen = new Set(Array.isArray(v) ? (v as string[]) : []);
        return html`<label for=${id}>${f.title}</label><select id=${id} multiple size=${Math.min(6, items.length)}
          @change=${(e: Event) => {
            const values = [...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value);
            this.setField(f, values.length ? values : undefined);
          }}>${items.map((i) => html`<option value=${i.id} ?selected=${chosen.has(i.id)}>${i.label}</option>`)}</select>`;
      }
      default:
        break;
    }
    const list = f.kind === 'entity' ? 'entity-ids' : undefined;
    return html`<label for=${id}>${f.title}</label>
      <input id=${id} .value=${text} placeholder=${placeholder} list=${list ?? ''}
        inputmode=${f.kind === 'number' || f.kind === 'integer' ? 'decimal' : 'text'}
        @change=${(e: Event) => this.onText(f, (e.target as HTMLInputElement).value)}>`;
  }

  override render() {
    const fields = this.schema ? fieldsOf(this.schema) : [];
    return html`
      <div class="tabs" role="group" aria-label="Edit as">
        <button type="button" aria-pressed=${this.mode === 'form'} @click=${() => { this.mode = 'form'; }}>Form</button>
        <button type="button" aria-pressed=${this.mode === 'yaml'} @click=${() => { this.yamlText = stringify(this.config); this.mode = 'yaml'; }}>YAML</button>
      </div>
      ${this.mode === 'yaml'
        ? html`<label for="yaml">Card options (YAML)</label><textarea id="yaml" spellcheck="false" .value=${this.yamlText}
            @input=${(e: Event) => this.onYaml((e.target as HTMLTextAreaElement).value)}></textarea>`
        : html`${fields.map((f) => html`<div class="field">${this.control(f)}${f.description ? html`<small>${f.description}</small>` : ''}</div>`)}
            <datalist id="entity-ids">${this.entities.map((e) => html`<option value=${e.id}>${e.kind}</option>`)}</datalist>`}
      ${this.problem ? html`<div class="problem" role="alert">${this.problem}</div>` : ''}`;
  }
}

if (!customElements.get('jh-card-editor')) customElements.define('jh-card-editor', CardEditor);
