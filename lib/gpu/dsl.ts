/**
 * The small WGSL-generating DSL: a kernel is a declaration (name, workgroup size, compile-time
 * constants, one uniform struct of run-time sizes, typed storage or uniform-array bindings) plus
 * a WGSL body.
 *
 * The DSL writes the `@group`/`@binding` lines, the uniform struct, the constants and only the
 * helper functions the body calls. Nothing else in the code base writes bindings by hand.
 * Variants are cached by a key made of the kernel's name and its constants.
 *
 * In the body, `index` (u32) is the global linear invocation index (1-D dispatches larger than
 * 65,535 workgroups are folded into two dimensions), `groupIndex` the linear index of the
 * workgroup and `localIndex` the invocation's index inside it (for kernels that share
 * `var<workgroup>` memory between barriers), and `params` holds the run-time values
 * ("uniforms"). `params` is bound as read-only *storage*, not as a uniform buffer: Mesa 22.3's
 * lavapipe inlines uniform-buffer values used in branches and loops into the shader and
 * recompiles it at every dispatch (only its disk cache makes that bearable: with
 * `MESA_SHADER_CACHE_DISABLE=true` an N-body training step took 3 s instead of 0.4 s, and every
 * new batch shape is a new compile). Storage values are never inlined; a few storage reads per
 * invocation cost nothing measurable (N-body and QM9 steps unchanged with a warm cache).
 *
 * A binding with `access: "uniform"` is a read-only `var<uniform> name: array<vec4f, LEN>`: LEN
 * is computed from the constants by the declaration (`length`) and emitted as `const name_len`.
 * Uniform arrays need a 16-byte stride (hence vec4f only), a binding offset that is a multiple
 * of 256 and at most the adapter's `maxUniformBufferBindingSize` bytes (64 KiB on lavapipe);
 * `recordDispatch` checks all three. On Mesa's CPU adapter a uniform read costs ~1/12 of a
 * storage read (see kernels/matmul.ts).
 *
 * @module
 */

import { gpuSync } from "./device.ts";

/** The element type of a storage binding. */
export type ElementType = "f32" | "u32" | "i32" | "vec4f" | "vec2f";
/** A scalar type of a constant or a uniform. */
export type ScalarType = "u32" | "i32" | "f32" | "bool";
/** A constant's value: numbers, booleans, or strings used by a body generator. */
export type ConstantValue = number | boolean | string;

/** One binding: element type and access (and, for uniform arrays, the length). */
export interface BindingSpec {
  /** Element type of the WGSL array (`vec4f` for uniform arrays). */
  type: ElementType;
  /**
   * `read` binds read-only storage; `read_write`, writable storage; `uniform`, a read-only
   * uniform array of `length` elements.
   */
  access: "read" | "read_write" | "uniform";
  /** Uniform arrays only: the number of elements, from the variant's constants (≥ 1). */
  length?: (c: Record<string, ConstantValue>) => number;
}

/** A kernel declaration. */
export interface KernelSpec {
  /** Names the kernel in errors and statistics, e.g. `linear_forward`. */
  name: string;
  /** Invocations per workgroup (1-D). */
  workgroupSize: number;
  /**
   * Typed compile-time constants, emitted as WGSL `const`s. Constants whose type is omitted
   * here (strings, say) are only seen by a body generator.
   */
  constants?: Record<string, ScalarType>;
  /** Run-time values: one uniform struct `params`. */
  uniforms?: Record<string, Exclude<ScalarType, "bool">>;
  /** Storage and uniform-array bindings in binding order (after `params`). */
  bindings: Record<string, BindingSpec>;
  /** The body of `main`, or a generator of it from the constants. */
  body: string | ((c: Record<string, ConstantValue>) => string);
  /** Module-level WGSL (functions) the body uses, or a generator of it. */
  functions?: string | ((c: Record<string, ConstantValue>) => string);
}

/** Helper functions available to every body; only those called are emitted. */
const HELPERS: Record<string, { code: string; uses?: string[] }> = {
  sigmoid: { code: "fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }" },
  silu: { code: "fn silu(x: f32) -> f32 { return x * sigmoid(x); }", uses: ["sigmoid"] },
  siluGrad: {
    code: "fn siluGrad(x: f32) -> f32 { let s = sigmoid(x); return s * (1.0 + x * (1.0 - s)); }",
    uses: ["sigmoid"],
  },
  softplus: {
    code: "fn softplus(x: f32) -> f32 { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }",
  },
  safeSqrt: {
    // sqrt(r² + ε), never sqrt(r²) + ε: finite gradients at coincident points.
    code: "fn safeSqrt(r2: f32) -> f32 { return sqrt(r2 + 1e-8); }",
  },
  ceilDiv: { code: "fn ceilDiv(a: u32, b: u32) -> u32 { return (a + b - 1u) / b; }" },
};

function helpersUsedBy(code: string): string[] {
  const out: string[] = [];
  const visit = (name: string) => {
    if (out.includes(name)) return;
    for (const dep of HELPERS[name].uses ?? []) visit(dep);
    out.push(name);
  };
  for (const name of Object.keys(HELPERS)) {
    if (new RegExp(`\\b${name}\\s*\\(`).test(code)) visit(name);
  }
  return out;
}

function wgslConstant(name: string, type: ScalarType, value: ConstantValue, kernel: string) {
  if (type === "bool") {
    if (typeof value !== "boolean") {
      throw new Error(`kernel ${kernel}: constant ${name} must be a boolean, got ${value}`);
    }
    return `const ${name}: bool = ${value};`;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`kernel ${kernel}: constant ${name} must be a finite number, got ${value}`);
  }
  if (type === "f32") {
    return `const ${name}: f32 = ${Number.isInteger(value) ? value + ".0" : value};`;
  }
  if (!Number.isInteger(value) || (type === "u32" && value < 0)) {
    throw new Error(`kernel ${kernel}: constant ${name} must be a ${type}, got ${value}`);
  }
  return `const ${name}: ${type} = ${value}${type === "u32" ? "u" : "i"};`;
}

let nextVariantId = 1;

/** One compiled (or compiling) variant of a kernel: the spec with its constants bound. */
export class KernelVariant {
  /** The cache key: the kernel's name and its constants as JSON. */
  readonly key: string;
  /** A number unique to this variant in the process (short cache keys of bind groups). */
  readonly id: number = nextVariantId++;
  /** The generated WGSL module. */
  readonly code: string;
  /** Whether the spec declares uniforms (then binding 0 is the uniform struct). */
  readonly hasUniforms: boolean;
  /** Bytes of the uniform struct: 4 per value, rounded up to a multiple of 16 (at least 16). */
  readonly uniformBytes: number;
  /** The uniform struct's fields in declaration order, with their types. */
  readonly uniformFields: readonly (readonly [string, Exclude<ScalarType, "bool">])[];
  /** Names of the bindings (storage and uniform arrays), in binding order. */
  readonly bindingNames: string[];
  /** Storage bindings (the uniform struct is one: it is read-only storage). */
  readonly storageBindingCount: number;
  /** Uniform-array bindings. */
  readonly uniformBindingCount: number;
  /**
   * Per binding: bytes of a uniform array (its length × 16), bound exactly; `null` for storage.
   */
  readonly uniformArrayBytes: (number | null)[];
  /** The compute pipeline, once `ready()` has resolved. */
  pipeline: GPUComputePipeline | null = null;
  /** The bind group layout, once `ready()` has resolved. */
  layout: GPUBindGroupLayout | null = null;
  private compiling: Promise<void> | null = null;

  /** Generates the WGSL of `spec` with `constants` bound; `ready()` compiles it. */
  constructor(readonly spec: KernelSpec, readonly constants: Record<string, ConstantValue>) {
    this.key = spec.name + JSON.stringify(constants);
    this.bindingNames = Object.keys(spec.bindings);
    this.uniformArrayBytes = Object.entries(spec.bindings).map(([name, b]) =>
      b.access === "uniform" ? uniformArrayLength(spec, name, b, constants) * 16 : null
    );
    this.uniformBindingCount = this.uniformArrayBytes.filter((u) => u !== null).length;
    this.storageBindingCount = this.uniformArrayBytes.length - this.uniformBindingCount;
    const uniforms = Object.entries(spec.uniforms ?? {});
    this.uniformFields = uniforms;
    this.hasUniforms = uniforms.length > 0;
    this.uniformBytes = Math.max(16, Math.ceil((uniforms.length * 4) / 16) * 16);
    this.code = generate(spec, constants);
  }

  /**
   * Writes the uniform struct's bytes (values in declaration order) at `offset` of `view`
   * (`uniformBytes` of them): `recordDispatch` does it for every dispatch, into one staging buffer
   * per submission.
   */
  packUniformsInto(values: Record<string, number>, view: DataView, offset: number): void {
    for (const [name, type] of this.uniformFields) {
      const v = values[name];
      if (typeof v !== "number" || Number.isNaN(v)) {
        throw new Error(`kernel ${this.spec.name}: uniform ${name} is missing or not a number`);
      }
      if (type === "f32") view.setFloat32(offset, v, true);
      else if (type === "u32") {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
          throw new Error(`kernel ${this.spec.name}: uniform ${name} must be a u32, got ${v}`);
        }
        view.setUint32(offset, v, true);
      } else view.setInt32(offset, v, true);
      offset += 4;
    }
  }

  /** Compiles the variant once; a body that does not compile gives an error naming the kernel. */
  ready(): Promise<void> {
    if (this.pipeline) return Promise.resolve();
    if (!this.compiling) this.compiling = this.compile();
    return this.compiling;
  }

  /** Builds the shader module, layout and pipeline; WGSL errors are reported with their lines. */
  private async compile(): Promise<void> {
    const { device } = gpuSync();
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: this.spec.name, code: this.code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0) {
      await device.popErrorScope();
      const lines = this.code.split("\n");
      const detail = errors.map((m) => {
        const firstLine = m.message.trim().split("\n")[0];
        const src = lines[m.lineNum - 1]?.trim() ?? "";
        return `line ${m.lineNum}:${m.linePos}: ${firstLine}\n    ${src}`;
      }).join("\n");
      this.compiling = null;
      throw new Error(`kernel ${this.spec.name} does not compile:\n${detail}`);
    }
    const entries: GPUBindGroupLayoutEntry[] = [];
    let binding = 0;
    if (this.hasUniforms) {
      entries.push({
        binding: binding++,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: "read-only-storage", hasDynamicOffset: false },
      });
    }
    for (const b of Object.values(this.spec.bindings)) {
      entries.push({
        binding: binding++,
        visibility: GPUShaderStage.COMPUTE,
        buffer: {
          type: b.access === "uniform"
            ? "uniform"
            : b.access === "read"
            ? "read-only-storage"
            : "storage",
        },
      });
    }
    const layout = device.createBindGroupLayout({ label: this.spec.name, entries });
    const pipeline = device.createComputePipeline({
      label: this.spec.name,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
    });
    const err = await device.popErrorScope();
    if (err) {
      this.compiling = null;
      throw new Error(`kernel ${this.spec.name} does not build a pipeline: ${err.message}`);
    }
    this.layout = layout;
    this.pipeline = pipeline;
  }
}

/** The element count of a uniform array binding, validated (vec4f, a positive integer). */
function uniformArrayLength(
  spec: KernelSpec,
  name: string,
  b: BindingSpec,
  constants: Record<string, ConstantValue>,
): number {
  if (b.type !== "vec4f") {
    throw new Error(
      `kernel ${spec.name}: uniform binding ${name} must be vec4f (uniform arrays need a ` +
        `16-byte stride), got ${b.type}`,
    );
  }
  const len = b.length?.(constants);
  if (len === undefined || !Number.isInteger(len) || len < 1) {
    throw new Error(
      `kernel ${spec.name}: uniform binding ${name} needs a length ≥ 1 from its constants, ` +
        `got ${len}`,
    );
  }
  return len;
}

function generate(spec: KernelSpec, constants: Record<string, ConstantValue>): string {
  const out: string[] = [`// kernel ${spec.name} ${JSON.stringify(constants)}`];
  for (const [name, type] of Object.entries(spec.constants ?? {})) {
    if (!(name in constants)) throw new Error(`kernel ${spec.name}: constant ${name} not given`);
    out.push(wgslConstant(name, type, constants[name], spec.name));
  }
  out.push(`const WORKGROUP_SIZE: u32 = ${spec.workgroupSize}u;`);
  let binding = 0;
  const uniforms = Object.entries(spec.uniforms ?? {});
  if (uniforms.length > 0) {
    out.push(`struct Params { ${uniforms.map(([n, t]) => `${n}: ${t},`).join(" ")} }`);
    // Read-only storage, not uniform: see the module's note on lavapipe's uniform inlining.
    out.push(`@group(0) @binding(${binding++}) var<storage, read> params: Params;`);
  }
  for (const [name, b] of Object.entries(spec.bindings)) {
    if (b.access === "uniform") {
      const len = uniformArrayLength(spec, name, b, constants);
      out.push(`const ${name}_len: u32 = ${len}u;`);
      out.push(`@group(0) @binding(${binding++}) var<uniform> ${name}: array<${b.type}, ${len}>;`);
      continue;
    }
    out.push(
      `@group(0) @binding(${binding++}) var<storage, ${b.access}> ${name}: array<${b.type}>;`,
    );
  }
  const body = typeof spec.body === "function" ? spec.body(constants) : spec.body;
  const functions = typeof spec.functions === "function"
    ? spec.functions(constants)
    : spec.functions ?? "";
  for (const h of helpersUsedBy(body + "\n" + functions)) out.push(HELPERS[h].code);
  if (functions) out.push(functions);
  out.push(
    `@compute @workgroup_size(${spec.workgroupSize})`,
    `fn main(`,
    `  @builtin(global_invocation_id) gid: vec3u,`,
    `  @builtin(num_workgroups) nwg: vec3u,`,
    `  @builtin(workgroup_id) wid: vec3u,`,
    `  @builtin(local_invocation_index) localIndex: u32,`,
    `) {`,
    `  let index = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;`,
    `  let groupIndex = wid.x + wid.y * nwg.x;`,
    body,
    `}`,
  );
  return out.join("\n");
}

/** A declared kernel; `variant(constants)` gives the cached compiled form. */
export class Kernel {
  private readonly variants = new Map<string, KernelVariant>();
  /** Wraps a declaration; the workgroup size must be a positive integer. */
  constructor(readonly spec: KernelSpec) {
    if (!Number.isInteger(spec.workgroupSize) || spec.workgroupSize < 1) {
      throw new Error(`kernel ${spec.name}: workgroupSize must be a positive integer`);
    }
  }

  /** The variant for these constants, generated once and cached by name + constants. */
  variant(constants: Record<string, ConstantValue> = {}): KernelVariant {
    const key = JSON.stringify(constants);
    let v = this.variants.get(key);
    if (!v) {
      v = new KernelVariant(this.spec, constants);
      this.variants.set(key, v);
    }
    return v;
  }
}

/**
 * Declares a kernel.
 *
 * @param spec the declaration: name, workgroup size, constants, uniforms, bindings, body
 * @returns the kernel, whose variants are generated and compiled on first use
 * @example Declare a kernel that scales a vector
 * ```ts
 * import { defineKernel } from "./dsl.ts";
 * const scale = defineKernel({
 *   name: "scale",
 *   workgroupSize: 64,
 *   uniforms: { n: "u32", factor: "f32" },
 *   bindings: { x: { type: "f32", access: "read_write" } },
 *   body: "if (index < params.n) { x[index] = x[index] * params.factor; }",
 * });
 * console.log(scale.variant().code.includes("@binding(1)")); // true
 * ```
 */
export function defineKernel(spec: KernelSpec): Kernel {
  return new Kernel(spec);
}
