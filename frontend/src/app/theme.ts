/** Light/dark theme: follows the system unless the user picked one (kept in localStorage). */
export type ThemeChoice = 'auto' | 'light' | 'dark';

const KEY = 'joulehub.theme';

export function themeChoice(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'auto';
}

function systemDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

/** The theme in effect now. */
export function effectiveTheme(choice: ThemeChoice = themeChoice()): 'light' | 'dark' {
  return choice === 'auto' ? (systemDark() ? 'dark' : 'light') : choice;
}

export function applyTheme(choice: ThemeChoice = themeChoice()): void {
  document.documentElement.dataset.theme = effectiveTheme(choice);
}

export function setTheme(choice: ThemeChoice): void {
  if (choice === 'auto') localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  applyTheme(choice);
  window.dispatchEvent(new CustomEvent('jh-theme-changed', { detail: effectiveTheme(choice) }));
}

/** Applies the theme now and whenever the system's changes (while the choice is auto). */
export function initTheme(): void {
  applyTheme();
  if (typeof matchMedia === 'function') {
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      if (themeChoice() === 'auto') setTheme('auto');
    });
  }
}
