import { escapeHtml } from '../domain/html';
import { inLanguage } from '../domain/language';

/**
 * How /threads and /stats name a department when there are several (docs/departments.md), in
 * English and Turkish. HTML (those answers use parse mode HTML): department names are escaped.
 */
const en = {
  heading: (name: string) => `🏷 Department: <b>${escapeHtml(name)}</b>`,
  breakdownTitle: '<b>By department</b> (median first response over 30 days):',
  breakdownLine: (d: { name: string; open: number; closed: number; median: string }) =>
    `• ${escapeHtml(d.name)}: ${d.open} open · ${d.closed} closed · ${d.median}`,
};

export type DepartmentViewTexts = typeof en;

const tr: DepartmentViewTexts = {
  heading: (name) => `🏷 Departman: <b>${escapeHtml(name)}</b>`,
  breakdownTitle: '<b>Departmanlara göre</b> (30 günde medyan ilk yanıt):',
  breakdownLine: (d) => `• ${escapeHtml(d.name)}: ${d.open} açık · ${d.closed} kapalı · ${d.median}`,
};

export const departmentViewTexts = (language: string | undefined): DepartmentViewTexts => inLanguage(language, { en, tr });
