/**
 * A small History API router: a table of path patterns (`/devices/:id`) to page names, links
 * intercepted so navigation never reloads the page, and `navigate()` for code.
 */
export interface Route {
  pattern: string;
  page: string;
  /** Reachable without logging in. */
  public?: boolean;
  admin?: boolean;
}

export interface Match {
  route: Route;
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
}

export function matchRoute(routes: readonly Route[], url: string): Match | undefined {
  const u = new URL(url, 'http://x');
  const parts = u.pathname.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const route of routes) {
    const pat = route.pattern.split('/').filter(Boolean);
    if (pat.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pat.length; i++) {
      const p = pat[i]!;
      if (p.startsWith(':')) {
        try {
          params[p.slice(1)] = decodeURIComponent(parts[i]!);
        } catch {
          ok = false;
        }
      } else if (p !== parts[i]) ok = false;
      if (!ok) break;
    }
    if (ok) return { route, params, query: u.searchParams, path: u.pathname + u.search };
  }
  return undefined;
}

export type RouteListener = (url: string) => void;

export class Router {
  private readonly listeners = new Set<RouteListener>();

  constructor() {
    window.addEventListener('popstate', () => this.emit());
    // Same-origin links navigate in place (a modified click still opens a new tab).
    document.addEventListener('click', (ev) => {
      if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      const a = ev.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
      if (!a || !a.href || a.target || a.hasAttribute('download')) return;
      const url = new URL(a.href);
      if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
      ev.preventDefault();
      this.navigate(url.pathname + url.search + url.hash);
    });
  }

  get current(): string {
    return location.pathname + location.search;
  }

  navigate(url: string, opts: { replace?: boolean } = {}): void {
    if (url === this.current && !opts.replace) return;
    if (opts.replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    this.emit();
  }

  onChange(fn: RouteListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of [...this.listeners]) fn(this.current);
  }
}
