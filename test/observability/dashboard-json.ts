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

export interface AnnotationJson {
  name: string;
  builtIn?: number;
  expr?: string;
  datasource?: { type?: string; uid?: string };
  target?: { expr?: string; datasource?: { type?: string; uid?: string } };
}

export interface DashboardJson {
  title: string;
  uid: string;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  annotations?: { list?: AnnotationJson[] };
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

/** The dashboard's own annotation queries (Grafana's built-in "Annotations & Alerts" has no expression). */
export function annotations(json: unknown): AnnotationJson[] {
  return ((json as DashboardJson).annotations?.list ?? []).filter((a) => !a.builtIn);
}

/** Annotation queries as panel-like queries (`panel` is the annotation's name). */
export function annotationQueries(json: unknown): PanelQuery[] {
  return annotations(json).map((a) => ({ panel: `annotation ${a.name}`, expr: a.target?.expr ?? a.expr ?? '' }));
}
