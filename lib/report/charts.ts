/**
 * The report's figures: Vega-Lite specs compiled and rendered headlessly to SVG by Vega (the
 * `"none"` renderer needs neither a DOM nor a canvas), and SVG rasterised to PNG by resvg's
 * WebAssembly build.
 *
 * Permissions: none for the SVGs. resvg's Wasm module is loaded by a source-phase import (no file
 * read: see `resvg`), so the PNGs need only read access to a TrueType font for their text
 * (`FONT_FILES`, under /usr/share/fonts); without one they are drawn without text and
 * `svgToPng` says so.
 *
 * This module (npm imports) is for `cli.ts report` only: mod.ts must not import it.
 *
 * @module
 */

import * as vega from "vega";
import * as vl from "vega-lite";
import { initWasm, Resvg } from "@resvg/resvg-wasm";

/** A Vega-Lite spec (the subset the report uses is typed by vega-lite itself). */
export type ChartSpec = vl.TopLevelSpec;

/** Log axes cannot show 0: values at or below this are drawn at it (the tables keep them). */
export const LOG_FLOOR = 1e-10;

const CONFIG = {
  font: "sans-serif",
  view: { stroke: "#888" },
  title: { fontSize: 15, anchor: "start", offset: 10 },
  axis: { titleFontSize: 12, labelFontSize: 11, grid: true, gridColor: "#e6e6e6" },
  legend: { titleFontSize: 12, labelFontSize: 11, labelLimit: 260 },
  header: { titleFontSize: 12, labelFontSize: 12 },
  line: { strokeWidth: 1.8 },
} as const;

/**
 * Renders a Vega-Lite spec to SVG text.
 *
 * @param spec the spec (its `config` is merged over the report's defaults)
 * @param idPrefix prefixes every `id` in the SVG (and the references to it) so that several
 *   figures can be inlined in one HTML page without clashing clip paths
 */
export async function renderSvg(spec: ChartSpec, idPrefix = ""): Promise<string> {
  const compiled = vl.compile({
    ...spec,
    config: { ...CONFIG, ...(spec.config ?? {}) },
  } as ChartSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return idPrefix ? prefixIds(svg, idPrefix) : svg;
  } finally {
    view.finalize();
  }
}

function prefixIds(svg: string, prefix: string): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)"/g, (_, a: string, id: string) => `${a}${prefix}-${id}"`)
    .replace(
      /url\(#([^)]+)\)/g,
      (m, id: string) => (ids.has(id) ? `url(#${prefix}-${id})` : m),
    )
    .replace(
      /(href=")#([^"]+)"/g,
      (m, a: string, id: string) => (ids.has(id) ? `${a}#${prefix}-${id}"` : m),
    );
}

/** TrueType fonts tried for the PNGs' text, in order (Debian's fonts-dejavu-core first). */
export const FONT_FILES: readonly { path: string; family: string }[] = [
  { path: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", family: "DejaVu Sans" },
  { path: "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", family: "DejaVu Sans" },
  {
    path: "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    family: "Liberation Sans",
  },
  {
    path: "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    family: "Liberation Sans",
  },
  { path: "/usr/share/fonts/truetype/freefont/FreeSans.ttf", family: "FreeSans" },
];

interface Raster {
  fonts: Uint8Array[];
  family: string | null;
}

let raster: Promise<Raster> | null = null;

/**
 * resvg's Wasm module. A source-phase import (`import source`) gives Deno's module loader the
 * file, so no `--allow-read` of the npm cache is needed; TypeScript does not parse that syntax
 * yet, hence the one-line module as a data: URL (its bare specifier resolves through deno.json).
 */
async function resvg(): Promise<Raster> {
  const { default: module } = await import(
    "data:text/javascript,import source m from '@resvg/resvg-wasm/index_bg.wasm'; export default m;"
  ) as { default: WebAssembly.Module };
  await initWasm(module);
  const fonts: Uint8Array[] = [];
  let family: string | null = null;
  for (const f of FONT_FILES) {
    if (family !== null && f.family !== family) continue;
    // Without the permission, skip (no prompt in the middle of a report).
    const { state } = await Deno.permissions.query({ name: "read", path: f.path });
    if (state !== "granted") continue;
    try {
      fonts.push(await Deno.readFile(f.path));
      family = f.family;
    } catch {
      // Not installed: try the next.
    }
  }
  return { fonts, family };
}

/** The PNG renderer's font family, or null when none could be read (PNGs without text). */
export async function pngFontFamily(): Promise<string | null> {
  raster ??= resvg();
  return (await raster).family;
}

/**
 * Rasterises an SVG to PNG.
 *
 * @param svg the SVG text (e.g. from `renderSvg`)
 * @param scale pixels per SVG unit
 * @returns the PNG bytes
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  raster ??= resvg();
  const { fonts, family } = await raster;
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: family === null ? { fontBuffers: [] } : {
      fontBuffers: fonts,
      defaultFontFamily: family,
      sansSerifFamily: family,
    },
  });
  try {
    const image = r.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    r.free();
  }
}

/** A point of a learning curve. */
export interface CurvePoint {
  epoch: number;
  value: number;
  /** The line's colour (e.g. the method). */
  series: string;
  /** The line's dash (e.g. train / test / paper). */
  split: string;
  /** Facet (e.g. the dataset or property); omitted: one panel. */
  panel?: string;
}

const STROKE_LEGEND = { symbolType: "stroke", symbolStrokeWidth: 2, symbolSize: 300 };
const SPLIT_ORDER = ["train", "val", "test"];
const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3]];

/**
 * Learning curves on a log y axis: colour per series, dash per split, optional facets.
 *
 * @param o title, axis titles, points, facet columns, independent y scales per panel
 */
export function learningCurveSpec(o: {
  title: string;
  yTitle: string;
  points: CurvePoint[];
  colorTitle: string;
  /** Colour by the split too (one legend), when the series are the splits. */
  colorBySplit?: boolean;
  splitTitle?: string;
  panelTitle?: string;
  columns?: number;
  independentY?: boolean;
}): ChartSpec {
  const points = o.points.filter((p) => Number.isFinite(p.value) && p.value > 0);
  const rank = (s: string) => ((i) => (i < 0 ? SPLIT_ORDER.length : i))(SPLIT_ORDER.indexOf(s));
  const splits = [...new Set(points.map((p) => p.split))].sort((a, b) => rank(a) - rank(b));
  const faceted = points.some((p) => p.panel !== undefined);
  const encoding = {
    x: {
      field: "epoch",
      type: "quantitative",
      title: "epoch",
      axis: { format: "d", tickMinStep: 1 },
    },
    y: {
      field: "value",
      type: "quantitative",
      title: o.yTitle,
      scale: { type: "log" },
      axis: { format: "~g" },
    },
    color: {
      field: o.colorBySplit ? "split" : "series",
      type: "nominal",
      title: o.colorTitle,
      sort: null,
      legend: STROKE_LEGEND,
    },
    ...(splits.length > 1
      ? {
        strokeDash: {
          field: "split",
          type: "nominal",
          title: o.colorBySplit ? o.colorTitle : o.splitTitle ?? "curve",
          scale: { domain: splits, range: DASHES.slice(0, splits.length) },
          legend: STROKE_LEGEND,
        },
      }
      : {}),
    tooltip: [
      { field: "series", type: "nominal" },
      { field: "split", type: "nominal" },
      { field: "epoch", type: "quantitative" },
      { field: "value", type: "quantitative", format: ".4g" },
    ],
  };
  const mark = { type: "line", point: points.length < 60 ? { size: 18 } : false } as const;
  if (!faceted) {
    return {
      title: o.title,
      width: 560,
      height: 300,
      data: { values: points },
      mark,
      encoding,
    } as ChartSpec;
  }
  return {
    title: o.title,
    data: { values: points },
    facet: { field: "panel", type: "nominal", title: o.panelTitle ?? null, sort: null },
    columns: o.columns ?? 3,
    spec: { width: o.columns && o.columns > 3 ? 200 : 260, height: 190, mark, encoding },
    ...(o.independentY ? { resolve: { scale: { y: "independent" } } } : {}),
  } as ChartSpec;
}

/**
 * Figure 2: test MSE against the number of training systems, log–log, one line per method, with
 * the paper's Table-2 numbers (3,000 systems) as crosses where given.
 *
 * @param o title, our points, the paper's points
 */
export function sweepSpec(o: {
  title: string;
  points: { size: number; mse: number; method: string }[];
  paper: { size: number; mse: number; method: string }[];
}): ChartSpec {
  const ours = o.points.filter((p) => p.mse > 0).map((p) => ({ ...p, source: "ours" }));
  const paper = o.paper.map((p) => ({ ...p, source: "paper, Table 2" }));
  const x = {
    field: "size",
    type: "quantitative",
    title: "training systems",
    scale: { type: "log" },
    axis: { format: "~s" },
  };
  const y = {
    field: "mse",
    type: "quantitative",
    title: "test MSE",
    scale: { type: "log" },
    axis: { format: "~g" },
  };
  const color = { field: "method", type: "nominal", title: "method", sort: null };
  const shape = {
    field: "source",
    type: "nominal",
    title: "source",
    scale: { domain: ["ours", "paper, Table 2"], range: ["circle", "cross"] },
  };
  return {
    title: o.title,
    width: 560,
    height: 320,
    layer: [
      {
        data: { values: ours },
        mark: { type: "line", point: { filled: true, size: 40 } },
        encoding: { x, y, color, shape },
      },
      ...(paper.length > 0
        ? [{
          data: { values: paper },
          mark: { type: "point", size: 140, strokeWidth: 2.5, filled: false },
          encoding: { x, y, color, shape },
        }]
        : []),
    ],
  } as ChartSpec;
}

/**
 * Figure 5 (right): F1 against the edge probability p_e of the over-fitted Erdős–Rényi graphs.
 *
 * @param o title and points
 */
export function overfitSpec(o: {
  title: string;
  points: { p_e: number; f1: number; encoder: string }[];
}): ChartSpec {
  return {
    title: o.title,
    width: 560,
    height: 300,
    data: { values: o.points.filter((p) => Number.isFinite(p.f1)) },
    mark: { type: "line", point: { filled: true, size: 40 } },
    encoding: {
      x: { field: "p_e", type: "quantitative", title: "edge probability p_e" },
      y: {
        field: "f1",
        type: "quantitative",
        title: "F1 (training graphs)",
        scale: { domain: [0, 1] },
      },
      color: { field: "encoder", type: "nominal", title: "encoder", sort: null },
    },
  } as ChartSpec;
}

/**
 * The equivariance check: grouped bars of the worst relative error per transformation and
 * model on a log axis, with the pass threshold as a dashed line.
 *
 * @param o title, errors, the threshold
 */
export function checkSpec(o: {
  title: string;
  errors: { model: string; transform: string; error: number }[];
  tolerance: number;
}): ChartSpec {
  const values = o.errors.map((e) => ({
    ...e,
    shown: Math.max(Number.isFinite(e.error) ? e.error : 1, LOG_FLOOR),
    note: e.error === 0 ? "0" : Number.isFinite(e.error) ? `<${LOG_FLOOR.toExponential(0)}` : "NaN",
  }));
  const top = 10 ** Math.max(0, Math.ceil(Math.log10(Math.max(...values.map((v) => v.shown)))));
  const y = {
    field: "shown",
    type: "quantitative",
    title: "worst error / output spread",
    scale: { type: "log", domain: [LOG_FLOOR, top] },
    axis: { format: ".0e" },
  };
  const x = {
    field: "transform",
    type: "nominal",
    title: "transformation",
    sort: null,
    axis: { labelAngle: 0 },
  };
  const xOffset = { field: "model", type: "nominal", sort: null };
  const color = {
    field: "model",
    type: "nominal",
    title: "model",
    sort: null,
    legend: { symbolType: "square" },
  };
  const threshold = [{ shown: o.tolerance, label: `threshold ${o.tolerance.toExponential(0)}` }];
  return {
    title: o.title,
    width: 560,
    height: 300,
    layer: [
      {
        data: { values },
        mark: { type: "bar" },
        encoding: {
          x,
          xOffset,
          y,
          y2: { datum: LOG_FLOOR },
          color,
          tooltip: [
            { field: "model", type: "nominal" },
            { field: "transform", type: "nominal" },
            { field: "error", type: "quantitative", format: ".3e" },
          ],
        },
      },
      {
        // Values at the floor (exact zeros) would be invisible bars: label them.
        data: { values: values.filter((v) => !(v.error > LOG_FLOOR)) },
        mark: { type: "text", dy: -8, fontSize: 11 },
        encoding: { x, xOffset, y, color, text: { field: "note" } },
      },
      {
        data: { values: threshold },
        mark: { type: "rule", color: "#c00", strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y },
      },
      {
        data: { values: threshold },
        mark: { type: "text", color: "#c00", align: "right", dy: -7, x: 555 },
        encoding: { y, text: { field: "label" } },
      },
    ],
  } as ChartSpec;
}
