/**
 * The staff page's satisfaction figures (GET /api/admin/stats `satisfaction`, docs/admin.md):
 * average and count of visitors' ratings over 30 days with their distribution, and ratings per
 * day and per week as bar charts stacked by score.
 */
import type { StatsView } from '../../src/web/admin/api-types';
import { renderBarChart } from './admin-charts';
import type { AdminStrings } from './admin-i18n';
import { format } from './i18n';

type Report = StatsView['satisfaction'];
type Period = Report['days'][number];

const SCORES = [1, 2, 3, 4, 5];

export function renderSatisfaction(
  report: Report,
  { t, lang, label, byId }: { t: AdminStrings; lang: string; label: (date: string) => string; byId: (id: string) => HTMLElement },
): void {
  const average = (a: number | null) => (a === null ? '–' : a.toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
  byId('stat-rating').textContent = average(report.overall.average);
  byId('stat-ratings').textContent = String(report.overall.count);
  byId('stat-distribution').textContent = [...SCORES]
    .reverse()
    .map((s) => `${s}★ ${report.overall.distribution[s - 1]}`)
    .join(' · ');

  const chart = (id: string, periods: Period[], name: (p: Period) => string, ariaLabel: string, labelEvery: number, header: string) =>
    renderBarChart(
      byId(id),
      periods.map((p) => ({
        label: label(p.date),
        title: format(t.ratingsOn, { label: name(p), count: p.count, average: average(p.average) }),
        values: p.distribution,
      })),
      {
        classes: SCORES.map((s) => `chart__bar--s${s}`),
        formatValue: (v) => String(Math.round(v)),
        ariaLabel,
        empty: t.noRatings,
        headers: [header, ...SCORES.map((s) => `${s}★`)],
        labelEvery,
      },
    );
  chart(
    'chart-satisfaction-days',
    report.days,
    (p) => label(p.date),
    format(t.chartSatisfactionDays, { count: report.overall.count, average: average(report.overall.average) }),
    5,
    t.day,
  );
  chart('chart-satisfaction-weeks', report.weeks, (p) => format(t.weekOf, { date: label(p.date) }), t.chartSatisfactionWeeks, 1, t.week);
}
