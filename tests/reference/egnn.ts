/**
 * Float64 reference of the EGCL (paper eqs. 3–8, laid out as the reference code's `E_GCL` /
 * `E_GCL_vel`; see shared/spec/reference_implementation.md §1–2), the general EGNN
 * (egnn_clean's `embedding_in`, layers, `embedding_out`) and the N-body `EGNN_vel`, written
 * from the spec on the float64 tape of `tape64.ts`, so one forward gives the outputs and one
 * backward the gradients of Σ seed ⊙ output with respect to every parameter and input.
 *
 * Parameters come as a map from our names (`gcl_0.edge_mlp.0.weight`, …; weights in×out, i.e.
 * PyTorch's transposed) to values; the reference records which names it used, so a test can
 * check the model declares no parameter the layer does not use, and the other way round.
 *
 * Where the spec says so exactly: the coordinate normalisations are egnn_clean's
 * `d / (‖d‖ + 1e-8)` with the norm detached and gcl.py's `d / (‖d‖ + 1)` with gradient.
 *
 * @module
 */

import type { Activation } from "./linear.ts";
import { type Mat, Tape } from "./tape64.ts";

/** A batch of graphs as the reference needs it: edges sorted by receiver, CSR pointers. */
export interface ReferenceGraph {
  numNodes: number;
  /** Receiver i of each edge (non-decreasing). */
  receivers: ArrayLike<number>;
  /** Sender j of each edge. */
  senders: ArrayLike<number>;
  /** `numNodes + 1` pointers: node i receives edges `receiverPtr[i] .. receiverPtr[i+1]`. */
  receiverPtr: ArrayLike<number>;
}

/** Parameter values by name (weights in×out). */
export type ParameterMap = Map<string, ArrayLike<number>>;

/** The parameters of one evaluation as tape leaves, created on first use. */
export class Parameters {
  private readonly leaves = new Map<string, Mat>();

  constructor(readonly tape: Tape, readonly values: ParameterMap) {}

  /** The leaf for `name`, checking it holds rows × cols values. */
  get(name: string, rows: number, cols: number): Mat {
    let leaf = this.leaves.get(name);
    if (!leaf) {
      const v = this.values.get(name);
      if (!v) throw new Error(`reference: no parameter ${name}`);
      if (v.length !== rows * cols) {
        throw new Error(`reference: ${name} has ${v.length} values, expected ${rows}×${cols}`);
      }
      leaf = this.tape.leaf(v, rows, cols);
      this.leaves.set(name, leaf);
    }
    return leaf;
  }

  /** `act(x·W + b)` with `<name>.weight` (in×out) and, if `bias`, `<name>.bias`. */
  dense(name: string, x: Mat, out: number, act: Activation = "none", bias = true): Mat {
    const w = this.get(`${name}.weight`, x.cols, out);
    const b = bias ? this.get(`${name}.bias`, 1, out) : null;
    return this.tape.linear(x, w, b, act);
  }

  /** Names used so far. */
  get used(): string[] {
    return [...this.leaves.keys()];
  }

  /** Every used parameter's gradient (after `tape.backwardFrom`). */
  grads(): Map<string, Float64Array> {
    return new Map([...this.leaves].map(([name, leaf]) => [name, Float64Array.from(leaf.grad)]));
  }
}

/** Options of the reference EGCL; names and defaults as `EGCLOptions` in lib/egnn/egcl.ts. */
export interface ReferenceEGCLOptions {
  inputNf: number;
  outputNf: number;
  hiddenNf: number;
  edgesInD?: number;
  nodesAttDim?: number;
  act?: Activation;
  residual?: boolean;
  attention?: boolean;
  coordsAgg?: "mean" | "sum";
  coordsWeight?: number;
  normalize?: "none" | "detached" | "plusOne";
  tanh?: boolean;
  coordsRange?: number;
  clampMessages?: boolean;
  updateCoords?: boolean;
  velocity?: boolean;
}

/** Inputs of one layer on the tape. */
export interface ReferenceEGCLInput {
  h: Mat;
  x: Mat;
  graph: ReferenceGraph;
  edgeAttr?: Mat | null;
  nodeAttr?: Mat | null;
  vel?: Mat | null;
}

/** One EGCL (eqs. 3–8) with parameters under `prefix`. */
export function egcl(
  p: Parameters,
  prefix: string,
  options: ReferenceEGCLOptions,
  input: ReferenceEGCLInput,
): { h: Mat; x: Mat } {
  const o = {
    edgesInD: 0,
    nodesAttDim: 0,
    act: "silu" as Activation,
    residual: true,
    attention: false,
    coordsAgg: "mean",
    coordsWeight: 1,
    normalize: "none",
    tanh: false,
    coordsRange: 1,
    clampMessages: true,
    updateCoords: true,
    velocity: false,
    ...options,
  };
  const t = p.tape;
  const { h, x, graph } = input;
  const H = o.hiddenNf;
  const name = (s: string) => (prefix ? `${prefix}.${s}` : s);

  // x_i − x_j and ‖x_i − x_j‖² (squared, never normalised)
  let diff = t.sub(t.gather(x, graph.receivers), t.gather(x, graph.senders));
  const radial = t.rowSquaredNorm(diff);
  if (o.normalize === "detached") {
    // egnn_clean: d / (sqrt(radial).detach() + 1e-8): a constant factor, no gradient
    const inv = radial.value.map((r) => 1 / (Math.sqrt(r) + 1e-8));
    diff = t.mul(diff, t.leaf(inv, radial.rows, 1));
  } else if (o.normalize === "plusOne") {
    // gcl.py norm_diff: d / (sqrt(radial) + 1), gradient through the norm
    const f = (r: number) => 1 / (Math.sqrt(r) + 1);
    const df = (r: number) => -0.5 / (Math.sqrt(r) * (Math.sqrt(r) + 1) ** 2);
    diff = t.mul(diff, t.map(radial, f, df));
  }

  // eq. 3: m_ij = φe([h_i, h_j, ‖x_i − x_j‖², a_ij]); φe = Linear → act → Linear → act
  const parts = [t.gather(h, graph.receivers), t.gather(h, graph.senders), radial];
  if (o.edgesInD > 0) {
    if (!input.edgeAttr) throw new Error("reference egcl: edgesInD > 0 but no edgeAttr");
    parts.push(input.edgeAttr);
  }
  let m = p.dense(name("edge_mlp.0"), t.concat(parts), H, o.act);
  m = p.dense(name("edge_mlp.2"), m, H, o.act);

  // eq. 8: m_ij ← m_ij · sigmoid(Linear(m_ij))
  if (o.attention) m = t.mul(m, p.dense(name("att_mlp.0"), m, 1, "sigmoid"));

  // eq. 4: x_i ← x_i + coords_weight · agg_j clamp((x_i − x_j) φx(m_ij))
  let xNew = x;
  if (o.updateCoords) {
    let phi = p.dense(name("coord_mlp.0"), m, H, o.act);
    phi = p.dense(name("coord_mlp.2"), phi, 1, o.tanh ? "tanh" : "none", false);
    if (o.tanh && o.coordsRange !== 1) phi = t.scale(phi, o.coordsRange);
    let trans = t.mul(diff, phi);
    if (o.clampMessages) trans = t.clamp(trans, -100, 100);
    let agg = t.segmentSum(trans, graph.receiverPtr, o.coordsAgg === "mean");
    if (o.coordsWeight !== 1) agg = t.scale(agg, o.coordsWeight);
    xNew = t.add(x, agg);
  }
  // eq. 7: + φv(h_i) · v_i (the layer's input h, the network's input velocity)
  if (o.velocity) {
    if (!input.vel) throw new Error("reference egcl: velocity layer needs vel");
    const phiV = p.dense(name("coord_mlp_vel.2"), p.dense(name("coord_mlp_vel.0"), h, H, o.act), 1);
    xNew = t.add(xNew, t.mul(input.vel, phiV));
  }

  // eq. 5: m_i = Σ_j m_ij (always a sum); eq. 6: h_i ← [h_i +] φh([h_i, m_i, node_attr_i])
  const nodeIn = [h, t.segmentSum(m, graph.receiverPtr)];
  if (o.nodesAttDim > 0) {
    if (!input.nodeAttr) throw new Error("reference egcl: nodesAttDim > 0 but no nodeAttr");
    nodeIn.push(input.nodeAttr);
  }
  let hNew = p.dense(name("node_mlp.0"), t.concat(nodeIn), H, o.act);
  hNew = p.dense(name("node_mlp.2"), hNew, o.outputNf);
  if (o.residual) hNew = t.add(h, hNew);
  return { h: hNew, x: xNew };
}

/** Options of the reference general EGNN; names and defaults as `EGNNOptions`. */
export interface ReferenceEGNNOptions {
  inNodeNf: number;
  hiddenNf: number;
  outNodeNf: number;
  inEdgeNf?: number;
  nLayers?: number;
  act?: Activation;
  residual?: boolean;
  attention?: boolean;
  normalize?: "none" | "detached" | "plusOne";
  tanh?: boolean;
  coordsAgg?: "mean" | "sum";
  updateCoords?: boolean;
}

/** egnn_clean's EGNN: `embedding_in`, `gcl_0 … gcl_{L−1}` (no clamp), `embedding_out`. */
export function egnn(
  p: Parameters,
  o: ReferenceEGNNOptions,
  h: Mat,
  x: Mat,
  graph: ReferenceGraph,
  edgeAttr: Mat | null,
): { h: Mat; x: Mat } {
  const H = o.hiddenNf;
  let hh = p.dense("embedding_in", h, H);
  let xx = x;
  for (let l = 0; l < (o.nLayers ?? 4); l++) {
    ({ h: hh, x: xx } = egcl(p, `gcl_${l}`, {
      inputNf: H,
      outputNf: H,
      hiddenNf: H,
      edgesInD: o.inEdgeNf ?? 0,
      act: o.act ?? "silu",
      residual: o.residual ?? true,
      attention: o.attention ?? false,
      normalize: o.normalize ?? "none",
      tanh: o.tanh ?? false,
      coordsAgg: o.coordsAgg ?? "mean",
      updateCoords: o.updateCoords ?? true,
      clampMessages: false,
    }, { h: hh, x: xx, graph, edgeAttr }));
  }
  return { h: p.dense("embedding_out", hh, o.outNodeNf), x: xx };
}

/** Options of the reference EGNN_vel; names and defaults as `EGNNVelOptions`. */
export interface ReferenceEGNNVelOptions {
  inNodeNf?: number;
  inEdgeNf?: number;
  hiddenNf?: number;
  nLayers?: number;
  attention?: boolean;
  normDiff?: boolean;
  tanh?: boolean;
  coordsWeight?: number;
}

/** The N-body EGNN_vel: `embedding` Linear(inNodeNf→H), L × E_GCL_vel; returns x. */
export function egnnVel(
  p: Parameters,
  o: ReferenceEGNNVelOptions,
  h: Mat,
  x: Mat,
  vel: Mat,
  graph: ReferenceGraph,
  edgeAttr: Mat | null,
): Mat {
  const H = o.hiddenNf ?? 64;
  let hh = p.dense("embedding", h, H);
  let xx = x;
  for (let l = 0; l < (o.nLayers ?? 4); l++) {
    ({ h: hh, x: xx } = egcl(p, `gcl_${l}`, {
      inputNf: H,
      outputNf: H,
      hiddenNf: H,
      edgesInD: o.inEdgeNf ?? 2,
      act: "silu",
      residual: true,
      attention: o.attention ?? false,
      normalize: o.normDiff ? "plusOne" : "none",
      tanh: o.tanh ?? false,
      coordsWeight: o.coordsWeight ?? 1,
      clampMessages: true,
      velocity: true,
    }, { h: hh, x: xx, graph, edgeAttr, vel }));
  }
  return xx;
}

/** A host matrix: row-major values and width. */
export interface HostMatrix {
  value: ArrayLike<number>;
  cols: number;
}

/** What one reference evaluation gives. */
export interface ReferenceResult {
  /** The model's output, row-major, `rows × cols`. */
  output: Float64Array;
  rows: number;
  cols: number;
  /** d(Σ seed ⊙ output)/d(parameter) for every parameter used (empty without a seed). */
  paramGrads: Map<string, Float64Array>;
  /** d(Σ seed ⊙ output)/d(input) for every input (empty without a seed). */
  inputGrads: Map<string, Float64Array>;
  /** Parameter names the model used. */
  used: string[];
}

/** A model on the tape: inputs by name → one output matrix. */
export type ReferenceModel = (p: Parameters, inputs: Map<string, Mat>) => Mat;

/**
 * Evaluates a model in float64 and, given a seed of the output's size, back-propagates
 * Σ seed ⊙ output to every parameter and input.
 */
export function evaluate(
  model: ReferenceModel,
  params: ParameterMap,
  inputs: Record<string, HostMatrix>,
  seed?: ArrayLike<number>,
): ReferenceResult {
  const tape = new Tape();
  const p = new Parameters(tape, params);
  const leaves = new Map(
    Object.entries(inputs).map((
      [k, m],
    ) => [k, tape.leaf(m.value, m.value.length / m.cols, m.cols)]),
  );
  const out = model(p, leaves);
  const result: ReferenceResult = {
    output: out.value,
    rows: out.rows,
    cols: out.cols,
    paramGrads: new Map(),
    inputGrads: new Map(),
    used: p.used,
  };
  if (seed) {
    tape.backwardFrom(out, seed);
    result.paramGrads = p.grads();
    result.inputGrads = new Map([...leaves].map(([k, m]) => [k, Float64Array.from(m.grad)]));
  }
  return result;
}

/** A model's input `name` on the tape; throws if it was not given. */
export function input(inputs: Map<string, Mat>, name: string): Mat {
  const m = inputs.get(name);
  if (!m) throw new Error(`reference: input ${name} missing`);
  return m;
}

/** A model's optional input `name` on the tape, or null if it was not given. */
export function optional(inputs: Map<string, Mat>, name: string): Mat | null {
  return inputs.get(name) ?? null;
}

/**
 * One EGCL as a model: inputs `h`, `x` and optionally `edgeAttr`, `nodeAttr`, `vel`; output
 * `[h_out, x_out]` side by side (N × (outputNf + n)).
 */
export function egclModel(
  graph: ReferenceGraph,
  prefix: string,
  o: ReferenceEGCLOptions,
): ReferenceModel {
  return (p, xs) => {
    const out = egcl(p, prefix, o, {
      h: input(xs, "h"),
      x: input(xs, "x"),
      graph,
      edgeAttr: optional(xs, "edgeAttr"),
      nodeAttr: optional(xs, "nodeAttr"),
      vel: optional(xs, "vel"),
    });
    return p.tape.concat([out.h, out.x]);
  };
}

/** The general EGNN as a model: inputs `h`, `x`, optional `edgeAttr`; output `[h_out, x_out]`. */
export function egnnModel(graph: ReferenceGraph, o: ReferenceEGNNOptions): ReferenceModel {
  return (p, xs) => {
    const out = egnn(p, o, input(xs, "h"), input(xs, "x"), graph, optional(xs, "edgeAttr"));
    return p.tape.concat([out.h, out.x]);
  };
}

/** EGNN_vel as a model: inputs `h`, `x`, `vel`, optional `edgeAttr`; output x_out. */
export function egnnVelModel(graph: ReferenceGraph, o: ReferenceEGNNVelOptions): ReferenceModel {
  return (p, xs) =>
    egnnVel(
      p,
      o,
      input(xs, "h"),
      input(xs, "x"),
      input(xs, "vel"),
      graph,
      optional(xs, "edgeAttr"),
    );
}
