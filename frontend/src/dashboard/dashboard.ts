/**
 * <jh-dashboard>: the user's dashboards as a grid of cards, live through the hub connection, and
 * edit mode (pick a card, remove, move and resize by drag and drop or buttons, edit options in a
 * form or YAML, undo, save through the API). A card that cannot load shows an error card; the
 * rest of the dashboard always renders.
 */
import { LitElement, css, html, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { BUILTIN_CARDS, configTypeFor, loadCardClass, loadCustomCardModules, registerBuiltinCards, type CardModuleResult } from '../cards/registry.js';
import type { CardConfig, CardEditorElement, CustomCardEntry, HubConnection } from '../cards/types.js';
import { validateCardConfig } from '../cards/validate.js';
import { DRAG_TYPE, GAP_PX, ROW_PX, type CardAction, type CardSlot } from './card-slot.js';
import './card-slot.js';
import { DashboardModel, GRID_COLUMNS, type DashboardDoc } from './model.js';

interface Summary { id: string; title: string; position: number; version: number; card_count: number }

/** Default width (columns) of a newly added card per type. */
const NEW_CARD_WIDTH: Record<string, number> = { 'energy-bars': 12, history: 12, 'device-list': 6, 'energy-flow': 6, pie: 6, notifications: 6 };

export class JhDashboard extends LitElement {
  static override properties = {
    hub: { attribute: false },
    dashboardId: { attribute: 'dashboard-id' },
    editing: { type: Boolean, reflect: true },
    list: { state: true },
    model: { state: true },
    problem: { state: true },
    notice: { state: true },
    moduleErrors: { state: true },
  };

  declare hub?: HubConnection;
  /** Which dashboard to show; default the first. */
  declare dashboardId?: string;
  declare editing: boolean;
  declare list?: Summary[];
  declare model?: DashboardModel;
  declare problem?: string;
  declare notice?: string;
  declare moduleErrors: CardModuleResult[];
  /** Changes on every model change, so the grid re-renders (the model itself is mutable). */
  private revision = 0;
  private started?: HubConnection;
  private columnPx = 80;
  private resizeObserver?: ResizeObserver;
  private editingCard?: { id: string; draft: CardConfig; problem?: string; editor?: CardEditorElement };
  private customModules: Promise<CardModuleResult[]> = Promise.resolve([]);

  constructor() {
    super();
    this.editing = false;
    this.moduleErrors = [];
  }

  static override styles = css`
    :host { display: block; color: var(--jh-fg, #1d2430); font: 14px/1.4 var(--jh-font, system-ui, sans-serif); }
    header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 12px; }
    nav { display: flex; flex-wrap: wrap; gap: 4px; flex: 1; }
    nav button[aria-current=page] { font-weight: 700; border-color: var(--jh-accent, #1570ef); }
    button { font: inherit; padding: 5px 10px; border-radius: 6px; border: 1px solid var(--jh-border, #b9c0cc);
      background: var(--jh-surface, #f8f9fb); color: inherit; cursor: pointer; }
    button:focus-visible, input:focus-visible { outline: 3px solid var(--jh-focus, #84adff); outline-offset: 1px; }
    button.primary { background: var(--jh-accent, #1570ef); color: #fff; border-color: transparent; }
    button[disabled] { opacity: 0.5; cursor: default; }
    .grid { display: grid; grid-template-columns: repeat(${GRID_COLUMNS}, minmax(0, 1fr)); grid-auto-rows: ${ROW_PX}px;
      gap: ${GAP_PX}px; grid-auto-flow: row dense; }
    @media (max-width: 640px) {
      .grid { grid-template-columns: minmax(0, 1fr); }
      .grid > jh-card-slot { grid-column: 1 / -1 !important; }
    }
    .problem { color: var(--jh-bad, #b42318); margin: 8px 0; }
    .notice { color: var(--jh-muted, #5f6b7a); margin: 8px 0; }
    .empty { padding: 24px; text-align: center; color: var(--jh-muted, #5f6b7a); border: 1px dashed var(--jh-border, #b9c0cc); border-radius: 10px; }
    dialog { max-width: min(640px, 94vw); width: 100%; border: 1px solid var(--jh-border, #b9c0cc); border-radius: 12px;
      background: var(--jh-card-bg, #fff); color: var(--jh-card-fg, #1d2430); }
    dialog::backdrop { background: rgb(0 0 0 / 0.4); }
    .picker { list-style: none; padding: 0; margin: 0; display: grid; gap: 6px; }
    .picker button { width: 100%; text-align: left; }
    .picker small { display: block; color: var(--jh-muted, #5f6b7a); }
    .title-input { font: inherit; font-size: 16px; padding: 4px 6px; }
    .actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 12px; }
  `;

  protected override willUpdate(changed: PropertyValues): void {
    if ((changed.has('hub') || changed.has('dashboardId')) && this.hub && this.isConnected) void this.start();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hub) void this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
  }

  /** Resolves when the dashboard shown has loaded (tests await it). */
  ready: Promise<void> = Promise.resolve();

  /** The dashboard id last asked for (undefined = the first one). */
  private requested?: string;

  private start(): Promise<void> {
    const hub = this.hub!;
    if (this.started === hub && this.requested === this.dashboardId) return this.ready;
    const first = this.started !== hub;
    this.started = hub;
    registerBuiltinCards();
    if (first) {
      this.customModules = loadCustomCardModules(hub);
      void this.customModules.then((results) => { this.moduleErrors = results.filter((r) => r.error); });
    }
    return this.go(this.dashboardId);
  }

  /** Loads and shows a dashboard (undefined = the first). */
  private go(id: string | undefined): Promise<void> {
    this.requested = id;
    this.ready = this.load(id);
    return this.ready;
  }

  private async load(id?: string): Promise<void> {
    const hub = this.hub!;
    this.problem = undefined;
    try {
      // Third-party modules load meanwhile; a slot of a custom card waits for them (registry.ts).
      const list = (await hub.api<{ data: Summary[] }>('/dashboards')).data;
      this.list = list;
      const target = id && list.some((d) => d.id === id) ? id : list[0]?.id;
      if (id && target !== id) this.notice = `Dashboard "${id}" does not exist; showing "${list[0]?.title ?? ''}"`;
      if (!target) { this.model = undefined; return; }
      const doc = await hub.api<DashboardDoc>(`/dashboards/${encodeURIComponent(target)}`);
      this.model = new DashboardModel(doc);
      this.revision++;
    } catch (err) {
      this.problem = `The dashboard could not be loaded: ${(err as Error).message}`;
    }
  }

  protected override updated(): void {
    const grid = this.renderRoot.querySelector<HTMLElement>('.grid');
    if (grid && !this.resizeObserver) {
      this.resizeObserver = new ResizeObserver(() => {
        this.columnPx = (grid.clientWidth - GAP_PX * (GRID_COLUMNS - 1)) / GRID_COLUMNS;
        for (const s of grid.querySelectorAll<CardSlot>('jh-card-slot')) s.columnPx = this.columnPx;
      });
      this.resizeObserver.observe(grid);
    }
  }

  private changed(): void {
    this.revision++;
    this.requestUpdate();
  }

  // ----- edit mode -----

  startEditing(): void { this.editing = true; this.notice = undefined; }

  cancelEditing(): void {
    this.model?.revert();
    this.editing = false;
    this.changed();
  }

  undo(): void {
    if (this.model?.undo()) this.changed();
  }

  async save(): Promise<boolean> {
    const m = this.model;
    if (!m || !this.hub) return false;
    this.problem = undefined;
    try {
      const doc = await this.hub.api<DashboardDoc>(`/dashboards/${encodeURIComponent(m.id)}`, { method: 'PUT', body: m.toSave() });
      m.markSaved(doc);
      this.editing = false;
      this.notice = 'Saved';
      this.list = this.list?.map((d) => (d.id === doc.id ? { ...d, title: doc.title, version: doc.version } : d));
      this.changed();
      return true;
    } catch (err) {
      const status = (err as { status?: number }).status;
      this.problem = status === 409
        ? `${(err as Error).message}. Your changes are still here; copy what you need, then cancel and edit again.`
        : `Not saved: ${(err as { describe?: () => string }).describe?.() ?? (err as Error).message}`;
      return false;
    }
  }

  private onCardAction(e: CustomEvent<CardAction>): void {
    const m = this.model;
    if (!m) return;
    const a = e.detail;
    try {
      if (a.action === 'move') m.move(a.id, a.to);
      else if (a.action === 'resize') m.resize(a.id, a.w, a.h);
      else if (a.action === 'remove') m.remove(a.id);
      else if (a.action === 'edit') { void this.openEditor(a.id); return; }
    } catch (err) {
      this.problem = (err as Error).message;
    }
    this.changed();
  }

  private onDragOver(e: DragEvent): void {
    if (!this.editing || !e.dataTransfer?.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    const slot = (e.composedPath().find((n) => (n as Element).localName === 'jh-card-slot')) as CardSlot | undefined;
    for (const s of this.renderRoot.querySelectorAll('jh-card-slot')) s.classList.toggle('drop-target', s === slot);
  }

  private onDrop(e: DragEvent): void {
    const id = e.dataTransfer?.getData(DRAG_TYPE);
    for (const s of this.renderRoot.querySelectorAll('jh-card-slot')) s.classList.remove('drop-target');
    if (!this.editing || !id || !this.model) return;
    e.preventDefault();
    const slot = (e.composedPath().find((n) => (n as Element).localName === 'jh-card-slot')) as CardSlot | undefined;
    const to = slot ? slot.index : this.model.cards.length - 1;
    this.model.move(id, to);
    this.changed();
  }

  // ----- card picker -----

  /** Every card the picker offers: built-in ones and those third-party modules registered. */
  pickerEntries(): CustomCardEntry[] {
    registerBuiltinCards();
    return [...(window.customCards ?? [])];
  }

  private openPicker(): void {
    this.requestUpdate();
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLDialogElement>('dialog.picker-dialog')?.showModal());
  }

  /** Adds a card of this element type with a stub config from the user's entities. */
  async addCard(elementName: string): Promise<string | undefined> {
    const m = this.model;
    if (!m || !this.hub) return undefined;
    this.renderRoot.querySelector<HTMLDialogElement>('dialog.picker-dialog')?.close();
    const type = configTypeFor(elementName);
    let config: CardConfig = { type };
    try {
      const cls = await loadCardClass(type);
      if (cls.getStubConfig) {
        const [entities, devices] = await Promise.all([this.hub.entities().catch(() => []), this.hub.devices().catch(() => [])]);
        config = { ...cls.getStubConfig(entities, devices), type };
      }
    } catch { /* the slot will show why this card cannot load */ }
    const id = m.add(config, NEW_CARD_WIDTH[type] ?? 4);
    this.changed();
    return id;
  }

  // ----- card editor -----

  private async openEditor(id: string): Promise<void> {
    const m = this.model;
    const p = m?.cards.find((c) => c.id === id);
    if (!p || !this.hub) return;
    this.editingCard = { id, draft: p.config };
    try {
      const cls = await loadCardClass(p.config.type);
      const editor = cls.getConfigElement ? await cls.getConfigElement() : undefined;
      if (editor) {
        editor.hub = this.hub;
        (editor as unknown as { schema?: unknown }).schema = cls.configSchema;
        editor.setConfig(p.config);
        editor.addEventListener('config-changed', (e) => this.draftChanged((e as CustomEvent<{ config: CardConfig }>).detail.config));
        this.editingCard.editor = editor;
      }
    } catch (err) {
      this.editingCard.problem = `No editor for this card: ${(err as Error).message}. Remove it or fix its type.`;
    }
    this.requestUpdate();
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLDialogElement>('dialog.editor-dialog')?.showModal();
  }

  private async draftChanged(config: CardConfig): Promise<void> {
    if (!this.editingCard) return;
    this.editingCard.draft = config;
    this.editingCard.problem = await this.checkConfig(config);
    this.requestUpdate();
  }

  /** The card's own verdict on a config (schema and its extra checks), or undefined when it is fine. */
  async checkConfig(config: CardConfig): Promise<string | undefined> {
    try {
      const cls = await loadCardClass(config.type);
      validateCardConfig(cls.configSchema, config);
      new cls().setConfig(config);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  private applyEdit(): void {
    const e = this.editingCard;
    if (!e || e.problem || !this.model) return;
    this.model.setConfig(e.id, e.draft);
    this.closeEditor();
    this.changed();
  }

  private closeEditor(): void {
    this.renderRoot.querySelector<HTMLDialogElement>('dialog.editor-dialog')?.close();
    this.editingCard = undefined;
    this.requestUpdate();
  }

  // ----- several dashboards -----

  async show(id: string): Promise<void> {
    if (this.model?.dirty && !confirm('Leave without saving your changes?')) return;
    this.editing = false;
    this.dashboardId = id;
    this.dispatchEvent(new CustomEvent('dashboard-changed', { detail: { id }, bubbles: true, composed: true }));
  }

  async createDashboard(): Promise<void> {
    if (!this.hub) return;
    try {
      const n = (this.list?.length ?? 0) + 1;
      const doc = await this.hub.api<DashboardDoc>('/dashboards', { method: 'POST', body: { title: `Dashboard ${n}` } });
      this.dashboardId = doc.id;
      await this.go(doc.id);
      this.editing = true;
    } catch (err) {
      this.problem = `No new dashboard: ${(err as Error).message}`;
    }
  }

  async deleteDashboard(): Promise<void> {
    const m = this.model;
    if (!m || !this.hub || !confirm(`Delete the dashboard "${m.title}"?`)) return;
    try {
      await this.hub.api(`/dashboards/${encodeURIComponent(m.id)}`, { method: 'DELETE' });
      this.editing = false;
      this.dashboardId = undefined;
      await this.go(undefined);
    } catch (err) {
      this.problem = `Not deleted: ${(err as Error).message}`;
    }
  }

  // ----- rendering -----

  private renderHeader() {
    const m = this.model;
    const tabs = html`<nav aria-label="Dashboards">${(this.list ?? []).map((d) => html`
      <button type="button" aria-current=${d.id === m?.id ? 'page' : 'false'} @click=${() => this.show(d.id)}>${d.id === m?.id ? m.title : d.title}</button>`)}</nav>`;
    if (!this.editing) {
      return html`<header>${tabs}<button type="button" @click=${() => this.startEditing()} ?disabled=${!m}>Edit dashboard</button></header>`;
    }
    return html`<header>
      <label>Title <input class="title-input" .value=${m?.title ?? ''} maxlength="100"
        @change=${(e: Event) => { m?.rename((e.target as HTMLInputElement).value.trim() || m.title); this.changed(); }}></label>
      <button type="button" @click=${() => this.openPicker()}>Add card</button>
      <button type="button" @click=${() => this.undo()} ?disabled=${!m?.canUndo}>Undo</button>
      <button type="button" class="primary" @click=${() => this.save()} ?disabled=${!m?.dirty}>Save</button>
      <button type="button" @click=${() => this.cancelEditing()}>Cancel</button>
      <button type="button" @click=${() => this.createDashboard()}>New dashboard</button>
      <button type="button" @click=${() => this.deleteDashboard()}>Delete dashboard</button>
    </header>`;
  }

  private renderPicker() {
    const entries = this.pickerEntries();
    return html`<dialog class="picker-dialog" aria-labelledby="picker-title">
      <h2 id="picker-title">Add a card</h2>
      <ul class="picker">${entries.map((e) => html`<li><button type="button" data-type=${e.type} @click=${() => this.addCard(e.type)}>
        <strong>${e.name}</strong>${BUILTIN_CARDS.some((b) => b.type === e.type) ? '' : html` <small>third-party: ${e.type}</small>`}
        ${e.description ? html`<small>${e.description}</small>` : ''}</button></li>`)}</ul>
      <div class="actions"><button type="button" @click=${(ev: Event) => (ev.target as Element).closest('dialog')?.close()}>Close</button></div>
    </dialog>`;
  }

  private renderEditorDialog() {
    const e = this.editingCard;
    return html`<dialog class="editor-dialog" aria-labelledby="editor-title" @close=${() => { this.editingCard = undefined; }}>
      <h2 id="editor-title">Card options</h2>
      ${e?.editor ?? ''}
      ${e?.problem ? html`<div class="problem" role="alert">${e.problem}</div>` : ''}
      <div class="actions">
        <button type="button" @click=${() => this.closeEditor()}>Cancel</button>
        <button type="button" class="primary" ?disabled=${!e || !!e.problem} @click=${() => this.applyEdit()}>Apply</button>
      </div>
    </dialog>`;
  }

  protected override render() {
    const m = this.model;
    return html`
      ${this.renderHeader()}
      ${this.problem ? html`<div class="problem" role="alert">${this.problem}</div>` : ''}
      ${this.notice ? html`<div class="notice" role="status">${this.notice}</div>` : ''}
      ${this.moduleErrors.map((r) => html`<div class="problem" role="alert">${r.error}</div>`)}
      ${m && m.cards.length === 0 ? html`<div class="empty">This dashboard has no cards yet${this.editing ? '' : ' — choose "Edit dashboard" to add some'}.</div>` : ''}
      <div class="grid" @card-action=${(e: CustomEvent<CardAction>) => this.onCardAction(e)}
        @dragover=${(e: DragEvent) => this.onDragOver(e)} @drop=${(e: DragEvent) => this.onDrop(e)}>
        ${repeat(m?.cards ?? [], (p) => p.id, (p, i) => html`<jh-card-slot .hub=${this.hub} .placement=${p} .index=${i}
          .columnPx=${this.columnPx} ?editing=${this.editing}></jh-card-slot>`)}
      </div>
      ${this.editing ? this.renderPicker() : ''}
      ${this.renderEditorDialog()}`;
  }
}

if (!customElements.get('jh-dashboard')) customElements.define('jh-dashboard', JhDashboard);
