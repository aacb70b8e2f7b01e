import { LitElement, html } from 'lit';

/** The application shell: header, navigation and the routed page. */
export class JhApp extends LitElement {
  override render() {
    return html`<main><h1>Joulehub</h1></main>`;
  }
}
customElements.define('jh-app', JhApp);
