/** Log in, register, the first admin (onboarding) and log out. */
import { html, nothing } from 'lit';
import { JhPage, errorText, formData, pageStyles } from '../shared.js';

abstract class CredentialsPage extends JhPage {
  static override properties = { ...JhPage.properties, error: { state: true }, busy: { state: true } };
  declare error: string | undefined;
  declare busy: boolean;
  static override styles = [pageStyles];

  protected async submit(ev: Event, path: string, extra: (f: Record<string, string>) => Record<string, unknown> = () => ({})): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const f = formData(form);
    if (f.confirm !== undefined && f.confirm !== f.password) {
      this.error = 'The two passwords differ.';
      return;
    }
    this.busy = true;
    this.error = undefined;
    try {
      await this.ctx.client.post(path, { email: f.email, password: f.password, ...extra(f) });
      await this.ctx.signedIn(this.query.get('next') ?? '/');
    } catch (err) {
      this.error = errorText(err);
    } finally {
      this.busy = false;
    }
  }

  protected errorBlock() {
    return this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing;
  }
}

export class JhLoginPage extends CredentialsPage {
  override render() {
    return html`
      <section class="panel" style="max-width:28rem;margin:2rem auto">
        <h1>Log in to Joulehub</h1>
        <form class="stack" @submit=${(e: Event) => this.submit(e, '/auth/login')}>
          <label>Email <input name="email" type="email" autocomplete="username" required autofocus /></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
          ${this.errorBlock()}
          <button type="submit" ?disabled=${this.busy}>Log in</button>
        </form>
        <p class="muted">No account yet? <a href="/register">Register</a> (when the admin allows it).</p>
      </section>`;
  }
}

export class JhRegisterPage extends CredentialsPage {
  override render() {
    const invite = this.query.get('invite') ?? '';
    return html`
      <section class="panel" style="max-width:28rem;margin:2rem auto">
        <h1>Create an account</h1>
        <form class="stack" @submit=${(e: Event) => this.submit(e, '/auth/register', (f) => ({
          ...(f.name ? { name: f.name } : {}), ...(f.invite ? { invite: f.invite } : {}),
        }))}>
          <label>Name <input name="name" autocomplete="name" /></label>
          <label>Email <input name="email" type="email" autocomplete="username" required /></label>
          <label>Password (at least 8 characters) <input name="password" type="password" autocomplete="new-password" minlength="8" required /></label>
          <label>Repeat the password <input name="confirm" type="password" autocomplete="new-password" minlength="8" required /></label>
          <label>Invite code (unless registration is open) <input name="invite" .value=${invite} /></label>
          ${this.errorBlock()}
          <button type="submit" ?disabled=${this.busy}>Register</button>
        </form>
        <p class="muted">Already registered? <a href="/login">Log in</a>.</p>
      </section>`;
  }
}

export class JhOnboardingPage extends CredentialsPage {
  override render() {
    return html`
      <section class="panel" style="max-width:28rem;margin:2rem auto">
        <h1>Welcome to Joulehub</h1>
        <p>Create the first administrator account. It manages users and devices.</p>
        <form class="stack" @submit=${(e: Event) => this.submit(e, '/auth/onboarding', (f) => (f.name ? { name: f.name } : {}))}>
          <label>Name <input name="name" autocomplete="name" /></label>
          <label>Email <input name="email" type="email" autocomplete="username" required autofocus /></label>
          <label>Password (at least 8 characters) <input name="password" type="password" autocomplete="new-password" minlength="8" required /></label>
          <label>Repeat the password <input name="confirm" type="password" autocomplete="new-password" minlength="8" required /></label>
          ${this.errorBlock()}
          <button type="submit" ?disabled=${this.busy}>Create the admin account</button>
        </form>
      </section>`;
  }
}

export class JhLogoutPage extends JhPage {
  static override styles = [pageStyles];
  protected override load(): void {
    void this.ctx.signOut();
  }
  override render() {
    return html`<p role="status">Logging out…</p>`;
  }
}

customElements.define('jh-login-page', JhLoginPage);
customElements.define('jh-register-page', JhRegisterPage);
customElements.define('jh-onboarding-page', JhOnboardingPage);
customElements.define('jh-logout-page', JhLogoutPage);
