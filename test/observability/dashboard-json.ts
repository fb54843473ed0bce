/** Reads Grafana dashboard JSON as the linters do: panels (rows included), their targets, the variables. */

export interface PanelJson {
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; datasource?: { type?: string; uid?: string } }[];
  fieldConfig?: { defaults?: { unit?: string } };
  panels?: PanelJson[];
}

export interface VariableJson {
  type: string;
  name: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
}

export interface DashboardJson {
  title: string;
  uid: string;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
}

export interface PanelQuery {
  panel: string;
  expr: string;
}

/** Every non-row panel, rows' collapsed children included. */
export function panels(json: unknown): PanelJson[] {
  const d = json as DashboardJson;
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

export function dashboardQueries(json: unknown): PanelQuery[] {
  return panels(json).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
}

export function variableQueries(json: unknown): { name: string; query: string }[] {
  return (json as DashboardJson).templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({ name: v.name, query: typeof v.query === 'string' ? v.query : (v.query?.query ?? '') }));
}
