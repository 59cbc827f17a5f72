/** Building blocks of the report pages: tables, headline figures, thumbnails; all text via textContent. */
import type { ReportImage, ReportKind } from '../../../shared/protocol';
import { el, post } from './host';

export function table(head: string[], rows: (string | Node)[][], cls = ''): HTMLTableElement {
  return el('table', cls ? { class: cls } : {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));
}

export function section(title: string, ...children: Node[]): HTMLElement {
  return el('section', { class: 'report-section' }, el('h3', {}, title), ...children);
}

/** Big figures with a label and a note each (`title` attribute repeats the note for hover). */
export function figures(items: { label: string; value: string; note: string }[]): HTMLElement {
  return el('div', { class: 'figures' }, ...items.map((f) => el('div', { class: 'figure', title: f.note }, el('div', { class: 'figure-value' }, f.value), el('div', { class: 'figure-label' }, f.label), el('div', { class: 'figure-note muted' }, f.note))));
}

/** Thumbnails; a click (or Enter) on one with an action posts it. Images without a file show their name only. */
export function thumbnails(images: ReportImage[], caption: (i: ReportImage) => string, action?: (i: ReportImage) => void): HTMLElement {
  return el(
    'div',
    { class: 'thumbs' },
    ...images.map((i) => {
      const fig = el('figure', { class: 'thumb-cell', title: i.path }, i.url ? el('img', { class: 'report-thumb', src: i.url, alt: i.name }) : el('div', { class: 'report-thumb no-file muted' }, 'no file'), el('figcaption', {}, caption(i)));
      if (action && i.url) {
        fig.setAttribute('tabindex', '0');
        fig.setAttribute('role', 'button');
        fig.classList.add('clickable');
        fig.addEventListener('click', () => action(i));
        fig.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') action(i);
        });
      }
      return fig;
    }),
  );
}

/** Tells the host what was drawn (the host logs it; the real-VS-Code tests assert it). */
export function rendered(panel: ReportKind, counts: Record<string, number>): void {
  post({ type: 'reportRendered', panel, counts });
}
