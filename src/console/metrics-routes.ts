/** The team's figures as charts (server-rendered SVG) and tables; the same counts are in /metrics as time series. */
import type { FastifyInstance } from 'fastify';
import { ENVIRONMENT_NAMES } from '../config/index.ts';
import { barChart } from './charts.ts';
import { page, teamGuard, type ConsoleDeps } from './context.ts';

const days = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)} days`);

export function registerMetricsRoutes(app: FastifyInstance, d: ConsoleDeps) {
  app.get('/metrics', async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (!t) return;
    await d.onboarding.flushEvents();
    const [onboarding, environments] = await Promise.all([
      d.onboarding.onboardingMetrics(),
      Promise.all(ENVIRONMENT_NAMES.map((e) => d.onboarding.environmentMetrics(e))),
    ]);
    const charts = {
      stages: barChart(
        'Partners per stage',
        onboarding.perStage.map((s) => ({ label: s.stage, value: s.count })),
      ),
      conversion: barChart(
        'Conversion between stages',
        onboarding.conversion.map((c) => ({
          label: `${c.from} to ${c.to}`,
          value: Math.round((c.rate ?? 0) * 100),
          text: c.rate === null ? 'no partners yet' : `${Math.round(c.rate * 100)}%`,
        })),
        { colour: '#007f3b' },
      ),
      times: barChart(
        'Median days in each stage',
        onboarding.times.map((s) => ({ label: s.stage, value: s.median ?? 0, text: `${days(s.median)} (90th percentile ${days(s.p90)})` })),
        { colour: '#330072' },
      ),
    };
    const envCharts = environments.map((e) => ({
      ...e,
      chart: barChart(
        `Logins per client in ${e.env}`,
        e.perClient
          .slice(0, 10)
          .map((c) => ({ label: c.name, value: c.logins, text: `${c.logins} (errors ${(c.errorRate * 100).toFixed(1)}%)` })),
      ),
    }));
    return page(d, reply, 'console/metrics.njk', {
      title: 'Metrics',
      team: t,
      csrf: t.csrf,
      onboarding,
      charts,
      environments: envCharts,
      days,
    });
  });
}
