/**
 * The building blocks every eventbench dashboard shares, on Grafana's foundation SDK: one templated
 * Prometheus data source (`$datasource`) that every panel and variable uses, time-series and stat panels
 * that always carry a unit, and label-value variables whose "All" matches everything (`.*`).
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as common from '@grafana/grafana-foundation-sdk/common';

/** The only data source reference panels use (dashboard-linter: template-datasource / panel-datasource). */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** Grafana unit ids (https://grafana.com/docs: "standard options > unit"). */
export type Unit = 'ops' | 's' | 'bytes' | 'Bps' | 'short' | 'percent' | 'percentunit';

export interface Query {
  expr: string;
  legend: string;
}

export function newDashboard(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['eventbench'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-15m', to: 'now' })
    .refresh('5s')
    .timezone('browser')
    .withVariable(new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
}

/** A multi-value variable over one label's values; "All" is `.*`, which also matches series without the label. */
export function labelVariable(name: string, label: string, metricSelector: string, title: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(title)
    .datasource(DATASOURCE)
    .query(`label_values(${metricSelector}, ${label})`)
    .definition(`label_values(${metricSelector}, ${label})`)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' });
}

function targets(queries: Query[]): prometheus.DataqueryBuilder[] {
  return queries.map((q, i) =>
    new prometheus.DataqueryBuilder()
      .expr(q.expr)
      .legendFormat(q.legend)
      .range()
      .refId(String.fromCharCode(65 + i))
      .datasource(DATASOURCE),
  );
}

/** A time-series panel, 12 columns wide by default (two per row). */
export function graph(title: string, description: string, unit: Unit, queries: Query[], width = 12): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .min(0)
    .height(8)
    .span(width)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).showLegend(true).calcs(['mean', 'max', 'lastNotNull']));
  for (const t of targets(queries)) panel.withTarget(t);
  return panel;
}

/** A single-number panel (last value), 6 columns wide by default. */
export function single(title: string, description: string, unit: Unit, queries: Query[], width = 6): stat.PanelBuilder {
  const panel = new stat.PanelBuilder().title(title).description(description).datasource(DATASOURCE).unit(unit).height(4).span(width);
  for (const t of targets(queries)) panel.withTarget(t);
  return panel;
}

/**
 * A dashboard annotation from a Prometheus query on the templated data source: Grafana marks every
 * non-zero sample, and joins consecutive ones into a region (a fault window).
 */
export function promAnnotation(name: string, color: string, expr: string, titleFormat: string, textFormat: string): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name(name)
    .datasource(DATASOURCE)
    .enable(true)
    .iconColor(color)
    .expr(expr)
    .titleFormat(titleFormat)
    .textFormat(textFormat)
    .target(new prometheus.DataqueryBuilder().expr(expr).legendFormat(titleFormat).range().refId('Anno').datasource(DATASOURCE));
}

export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title);
}
