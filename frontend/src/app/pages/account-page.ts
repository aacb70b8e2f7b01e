/** The user's own account: who they are, change password, theme. */
import { html, nothing } from 'lit';
import { JhPage, errorText, formData, pageStyles } from '../shared.js';
import { setTheme, themeChoice, type ThemeChoice } from '../theme.js';

export class JhAccountPage extends JhPage {
  static override properties = { ...JhPage.properties, message: { state: true }, error: { state: true } };
  declare message: string | undefined;
  declare error: string | undefined;
  static override styles = [pageStyles];

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
