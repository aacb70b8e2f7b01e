import { html } from 'lit';
import { JhPage, pageStyles } from '../shared.js';

export class JhNotFoundPage extends JhPage {
  static override styles = [pageStyles];
  override render() {
    return html`<h1>Page not found</h1><p>There is no page at <code>${location.pathname}</code>. <a href="/">Go to your dashboards</a>.</p>`;
  }
}
customElements.define('jh-not-found-page', JhNotFoundPage);
