// Sortable, paged tables: real <th> headers, sorting by a button in each column header
// (so it works from the keyboard: Tab to it, Enter or Space), aria-sort on the sorted
// column, and pages of a fixed number of rows so that 10,000 rows stay quick.
import { h, num, type Child } from './dom.js';

export type SortValue = number | string | bigint;

export interface Column<T> {
  key: string;
  label: string;
  /** Right-aligned, sorted most first on the first press. */
  numeric?: boolean;
  /** The value sorted by, and shown when there is no cell(). */
  value: (row: T) => SortValue;
  cell?: (row: T) => Child;
  /** This column's cell is the row's header (<th scope="row">). */
  rowHeader?: boolean;
  sortable?: boolean;
}

export interface TableOptions<T> {
  id: string;
  caption: Child;
  columns: Column<T>[];
  rows: T[];
  /** Rows per page (default 100). */
  pageSize?: number;
  sort?: { key: string; dir: 'ascending' | 'descending' };
  /** Shown instead of the table when there are no rows. */
  empty?: string;
}

export interface SortableTable<T> {
  element: HTMLElement;
  /** Shows only the rows pred accepts (all with undefined), from the first page. */
  setFilter(pred: ((row: T) => boolean) | undefined): void;
}

function compare(a: SortValue, b: SortValue): number {
  if (typeof a === 'string' || typeof b === 'string') return String(a).localeCompare(String(b), 'en', { numeric: true });
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortableTable<T>(o: TableOptions<T>): SortableTable<T> {
  const pageSize = o.pageSize ?? 100;
  let sort = o.sort ?? null;
  let filter: ((row: T) => boolean) | undefined;
  let page = 0;
  let view: T[] = [];

  const wrap = h('div', { class: 'table-block', id: o.id });
  const status = h('p', { class: 'pager-status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const buttons = new Map<string, HTMLButtonElement>();
  const ths = new Map<string, HTMLTableCellElement>();
  const headRow = h('tr', null, o.columns.map((c) => {
    const th = h('th', { scope: 'col', class: c.numeric ? 'num' : null });
    ths.set(c.key, th);
    if (c.sortable === false) th.append(c.label);
    else {
      const b = h('button', { type: 'button', class: 'sort', 'data-key': c.key, onclick: () => sortBy(c.key) },
        c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, ''));
      buttons.set(c.key, b);
      th.append(b);
    }
    return th;
  }));
  const table = h('table', { class: 'data' }, h('caption', null, o.caption), h('thead', null, headRow), tbody);
  const nav = (label: string, to: () => number) => h('button', { type: 'button', class: 'page', onclick: () => { page = to(); draw(); } }, label);
  const pages = () => Math.max(1, Math.ceil(view.length / pageSize));
  const first = nav('First', () => 0);
  const prev = nav('Previous', () => Math.max(0, page - 1));
  const next = nav('Next', () => Math.min(pages() - 1, page + 1));
  const last = nav('Last', () => pages() - 1);
  const pager = h('nav', { class: 'pager', 'aria-label': `Pages of ${typeof o.caption === 'string' ? o.caption : 'the table'}` }, first, prev, next, last);
  const emptyNote = h('p', { class: 'empty' }, o.empty ?? 'None.');
  wrap.append(h('div', { class: 'scroll' }, table), status, pager, emptyNote);

  function sortBy(key: string) {
    const col = o.columns.find((c) => c.key === key)!;
    const dir = sort?.key === key ? (sort.dir === 'ascending' ? 'descending' : 'ascending') : col.numeric ? 'descending' : 'ascending';
    sort = { key, dir };
    page = 0;
    refresh();
  }

  function refresh() {
    view = filter ? o.rows.filter(filter) : o.rows.slice();
    if (sort) {
      const col = o.columns.find((c) => c.key === sort!.key);
      if (col) {
        const sign = sort.dir === 'ascending' ? 1 : -1;
        const keyed = view.map((row, i) => ({ row, v: col.value(row), i }));
        keyed.sort((a, b) => sign * compare(a.v, b.v) || a.i - b.i);
        view = keyed.map((k) => k.row);
      }
    }
    for (const c of o.columns) {
      const th = ths.get(c.key)!;
      const b = buttons.get(c.key);
      const on = sort?.key === c.key;
      if (on) th.setAttribute('aria-sort', sort!.dir);
      else th.removeAttribute('aria-sort');
      if (b) b.querySelector('.sort-mark')!.textContent = on ? (sort!.dir === 'ascending' ? ' ▲' : ' ▼') : ' ↕';
    }
    draw();
  }

  function draw() {
    const from = page * pageSize;
    const rows = view.slice(from, from + pageSize);
    tbody.replaceChildren(...rows.map((row) => h('tr', null, o.columns.map((c) => {
      const content = c.cell ? c.cell(row) : fmt(c.value(row));
      return c.rowHeader ? h('th', { scope: 'row', class: c.numeric ? 'num' : null }, content) : h('td', { class: c.numeric ? 'num' : null }, content);
    }))));
    const n = view.length;
    const paged = o.rows.length > pageSize;
    const filtered = n !== o.rows.length ? ` (${num(o.rows.length)} in all)` : '';
    status.textContent = paged || filtered
      ? `Rows ${num(n ? from + 1 : 0)}–${num(Math.min(n, from + pageSize))} of ${num(n)}${filtered}${paged ? `, page ${num(page + 1)} of ${num(pages())}` : ''}`
      : '';
    status.hidden = !status.textContent;
    pager.hidden = !paged;
    first.disabled = prev.disabled = page === 0;
    next.disabled = last.disabled = page >= pages() - 1;
    table.hidden = o.rows.length === 0;
    emptyNote.hidden = o.rows.length !== 0;
  }

  refresh();
  return {
    element: wrap,
    setFilter(pred) {
      filter = pred;
      page = 0;
      refresh();
    },
  };
}

function fmt(v: SortValue): string {
  return typeof v === 'number' ? num(v) : String(v);
}
