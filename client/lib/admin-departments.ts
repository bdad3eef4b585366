import { formatDuration } from './admin-format';
import type { AdminStrings } from './admin-i18n';
import type { DepartmentStatsView, DepartmentView } from './admin-api';

/** A department key as pages name one (`?department=`); anything else from the address is ignored. */
export const departmentKeyFrom = (v: string | null): string => (v && /^[a-z0-9-]{1,40}$/.test(v) ? v : '');

/**
 * The page's department filter (docs/admin.md): one select above the thread list and one above the
 * stats, both showing the same choice, offered only when the viewer reads more than one department
 * (the server's session says which). Names go in with textContent.
 */
export function createDepartmentFilter(fields: Array<{ wrapper: HTMLElement; select: HTMLSelectElement }>) {
  let known: DepartmentView[] = [];
  return {
    /** Fills the selects with the viewer's departments and shows them when there are several; returns the choice kept. */
    offer(departments: DepartmentView[], chosen: string): string {
      known = departments;
      const kept = departments.some((d) => d.key === chosen) ? chosen : '';
      for (const { wrapper, select } of fields) {
        for (const d of departments) {
          const option = document.createElement('option');
          option.value = d.key;
          option.textContent = d.name;
          select.appendChild(option);
        }
        select.value = kept;
        wrapper.hidden = departments.length < 2;
      }
      return kept;
    },
    /** Both selects show `key` ('' for every department). */
    show(key: string): void {
      for (const { select } of fields) select.value = key;
    },
    /** Whether threads should carry their department's name (the viewer reads several). */
    several: () => known.length > 1,
  };
}

/** The stats' line per department (a table), shown when there is more than one. */
export function renderDepartmentTable(table: HTMLTableElement, rows: DepartmentStatsView[], t: AdminStrings): void {
  table.hidden = rows.length < 2;
  const body = table.tBodies[0] ?? table.createTBody();
  body.textContent = '';
  for (const d of rows) {
    const tr = body.insertRow();
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = d.name;
    tr.appendChild(name);
    const median = d.medianFirstResponseMs === null ? '–' : formatDuration(d.medianFirstResponseMs, t);
    for (const value of [String(d.openThreads), String(d.closedThreads), median]) tr.insertCell().textContent = value;
  }
}
