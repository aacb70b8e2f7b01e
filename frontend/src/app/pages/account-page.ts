/** The user's own account: who they are, locale and time zone, change password, theme. */
import { html, nothing } from 'lit';
import { browserLocale, browserTimeZone, currentZoneName, formatDateTime, formatPower, timeZoneChoices } from '../../lib/format.js';
import { JhPage, errorText, formData, pageStyles } from '../shared.js';
import { setTheme, themeChoice, type ThemeChoice } from '../theme.js';

interface Preferences { locale: string | null; time_zone: string | null }

/** Offered in the locale field's list; any other BCP 47 tag can be typed. */
const COMMON_LOCALES = [
  'en-GB', 'en-US', 'de-DE', 'de-AT', 'de-CH', 'fr-FR', 'it-IT', 'es-ES', 'nl-NL', 'pl-PL', 'pt-PT', 'pt-BR',
  'sv-SE', 'da-DK', 'nb-NO', 'fi-FI', 'cs-CZ', 'ja-JP', 'zh-CN', 'hi-IN', 'ne-NP',
];

/** A short error for a locale the browser does not take, or undefined when it is fine (or empty). */
function localeProblem(tag: string): string | undefined {
  if (!tag) return undefined;
  try {
    Intl.getCanonicalLocales(tag);
    return undefined;
  } catch {
    return `"${tag}" is not a language tag (like en-GB or de-DE).`;
  }
}

export class JhAccountPage extends JhPage {
  static override properties = {
    ...JhPage.properties,
    message: { state: true }, error: { state: true },
    prefs: { state: true }, prefsMessage: { state: true }, prefsError: { state: true }, saving: { state: true },
  };
  declare message: string | undefined;
  declare error: string | undefined;
  declare prefs: Preferences | undefined;
  declare prefsMessage: string | undefined;
  declare prefsError: string | undefined;
  declare saving: boolean;
  static override styles = [pageStyles];

  protected override async load(): Promise<void> {
    if (this.prefs) return; // the shell hands a new ctx on each of its renders; the values only change here
    try {
      this.prefs = (await this.ctx.client.get<{ preferences?: Preferences }>('/auth/me')).preferences ?? { locale: null, time_zone: null };
    } catch (err) {
      this.prefsError = errorText(err);
    }
  }

  private async savePreferences(ev: Event): Promise<void> {
    ev.preventDefault();
    const f = formData(ev.target as HTMLFormElement);
    const locale = f.locale?.trim() ?? '';
    this.prefsMessage = this.prefsError = undefined;
    const problem = localeProblem(locale);
    if (problem) {
      this.prefsError = problem;
      return;
    }
    this.saving = true;
    try {
      const body = { locale: locale || null, time_zone: f.time_zone || null };
      const me = await this.ctx.client.patch<{ preferences: Preferences }>('/auth/me', body);
      this.prefs = me.preferences;
      await this.ctx.reloadUser();
      this.prefsMessage = 'Saved. Numbers and times now follow these settings on every browser you use.';
    } catch (err) {
      this.prefsError = errorText(err);
    } finally {
      this.saving = false;
    }
  }

  private async changePassword(ev: Event): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const f = formData(form);
    this.message = this.error = undefined;
    if (f.new_password !== f.confirm) {
      this.error = 'The two new passwords differ.';
      return;
    }
    try {
      await this.ctx.client.post('/auth/password', { current_password: f.current_password, new_password: f.new_password });
      form.reset();
      this.message = 'Password changed. Your other sessions were logged out.';
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private renderPreferences() {
    const p = this.prefs;
    const browserZone = currentZoneName(browserTimeZone());
    const list = timeZoneChoices();
    // A stored zone this browser does not list (another alias) stays selectable.
    if (p?.time_zone && !list.includes(p.time_zone)) list.unshift(p.time_zone);
    const { locale, timeZone } = this.ctx;
    return html`
      <section class="panel" aria-labelledby="prefs-title">
        <h2 id="prefs-title" style="margin-top:0">Language and time zone</h2>
        <p class="muted" data-testid="prefs-sample">Shown now as: ${formatPower(1234.5, locale)} · ${formatDateTime(Date.now(), locale, timeZone)} (${timeZone})</p>
        ${p ? html`
          <form class="stack" @submit=${this.savePreferences}>
            <label>Number and date format (language tag)
              <input name="locale" list="locale-options" autocomplete="off" spellcheck="false" maxlength="64"
                .value=${p.locale ?? ''} placeholder=${`Browser's: ${browserLocale()}`} aria-describedby="locale-help" />
            </label>
            <datalist id="locale-options">${COMMON_LOCALES.map((l) => html`<option value=${l}></option>`)}</datalist>
            <small id="locale-help" class="muted">Like de-DE or en-GB. Leave empty to use your browser's (${browserLocale()}).</small>
            <label for="pref-zone">Time zone</label>
            <select id="pref-zone" name="time_zone" style="margin-top:-0.5rem">
              <option value="" ?selected=${!p.time_zone}>Browser's (${browserZone})</option>
              ${list.map((z) => html`<option value=${z} ?selected=${p.time_zone === z}>${z.replaceAll('_', ' ')}</option>`)}
            </select>
            ${this.prefsError ? html`<p class="error" role="alert">${this.prefsError}</p>` : nothing}
            ${this.prefsMessage ? html`<p role="status">${this.prefsMessage}</p>` : nothing}
            <button type="submit" ?disabled=${this.saving}>Save language and time zone</button>
          </form>`
        : this.prefsError ? html`<p class="error" role="alert">${this.prefsError}</p>` : html`<p aria-busy="true">Loading…</p>`}
      </section>`;
  }

  override render() {
    const u = this.ctx.user;
    return html`
      <h1>Account</h1>
      <div class="panel">
        <p>Logged in as <strong>${u?.email}</strong> (${u?.role}). Numbers are shown for ${this.ctx.locale}, times in ${this.ctx.timeZone}.</p>
        <label class="inline">Theme
          <select @change=${(e: Event) => setTheme((e.target as HTMLSelectElement).value as ThemeChoice)}>
            ${(['auto', 'light', 'dark'] as const).map((t) => html`<option value=${t} ?selected=${themeChoice() === t}>${t === 'auto' ? 'Same as the system' : t}</option>`)}
          </select>
        </label>
      </div>
      ${this.renderPreferences()}
      <section class="panel">
        <h2 style="margin-top:0">Change password</h2>
        <form class="stack" @submit=${this.changePassword}>
          <label>Current password <input name="current_password" type="password" autocomplete="current-password" required /></label>
          <label>New password (at least 8 characters) <input name="new_password" type="password" autocomplete="new-password" minlength="8" required /></label>
          <label>Repeat the new password <input name="confirm" type="password" autocomplete="new-password" minlength="8" required /></label>
          ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
          ${this.message ? html`<p role="status">${this.message}</p>` : nothing}
          <button type="submit">Change password</button>
        </form>
      </section>`;
  }
}
customElements.define('jh-account-page', JhAccountPage);
