/**
 * A small history router: paths map to route names and params; links use real hrefs (open in new tab, keyboard
 * and screen readers work) and are intercepted for client-side navigation.
 */
import { useEffect, useState } from 'react';

export interface RouteMatch {
  name: string;
  params: Record<string, string>;
}

export interface RouteDef {
  name: string;
  /** "/customers/:customer" */
  pattern: string;
}

export function matchRoute(routes: readonly RouteDef[], pathname: string): RouteMatch | null {
  const parts = pathname.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const r of routes) {
    const pat = r.pattern.split('/').filter(Boolean);
    if (pat.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pat.length; i++) {
      const p = pat[i]!;
      const v = parts[i]!;
      if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(v);
      else if (p !== v) {
        ok = false;
        break;
      }
    }
    if (ok) return { name: r.name, params };
  }
  return null;
}

const listeners = new Set<() => void>();

export function navigate(to: string): void {
  if (`${location.pathname}${location.search}` === to) return;
  history.pushState(null, '', to);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

export function useLocation(): { pathname: string; search: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((t) => t + 1);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return { pathname: location.pathname, search: new URLSearchParams(location.search) };
}

/** Click handler for in-app links: plain left clicks navigate in place; modified clicks keep browser behaviour. */
export function onLinkClick(e: React.MouseEvent<HTMLAnchorElement>): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const href = e.currentTarget.getAttribute('href');
  if (!href?.startsWith('/') || e.currentTarget.target) return;
  e.preventDefault();
  navigate(href);
}
