/**
 * NumPy `.npy` arrays: parse (versions 1–3; little- and big-endian f2/f4/f8, i1–i8, u1–u8, bool;
 * C or Fortran order) and write (little-endian, C order, version 1).
 *
 * @module
 */

/** A parsed array: data as float64 (or the original typed array via `raw`) plus its shape. */
export interface NpyArray {
  /** Dimensions (empty for a scalar). */
  shape: number[];
  /** The dtype descriptor, e.g. `<f8`. */
  dtype: string;
  /** Values in C (row-major) order as float64. */
  data: Float64Array;
}

function fail(where: string, msg: string): never {
  throw new Error(`${where}: ${msg}`);
}

/**
 * Parses an `.npy` file's bytes.
 *
 * @param bytes the file's contents
 * @param where names the file in errors
 * @returns shape, dtype and values (row-major, float64)
 * @example Round trip through writeNpy
 * ```ts
 * import { parseNpy, writeNpy } from "./npy.ts";
 * const a = parseNpy(writeNpy(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]));
 * console.log(a.shape, a.data[5]); // [ 2, 3 ] 6
 * ```
 */
export function parseNpy(bytes: Uint8Array, where = "npy"): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) {
    fail(where, "not a NumPy .npy file (bad magic string)");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number, start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    start = 12;
  } else fail(where, `unsupported .npy version ${major}`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, start + headerLen),
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) {
    fail(where, `header is not of the form {'descr': …, 'fortran_order': …, 'shape': (…)}`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(where, `bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr === "|b1" ? "|u1" : descr);
  if (!m) fail(where, `unsupported dtype ${descr} (expected float, int, uint or bool)`);
  const little = m[1] !== ">";
  const kind = m[2], size = Number(m[3]);
  const offset = start + headerLen;
  if (bytes.length < offset + count * size) {
    fail(where, `${bytes.length - offset} data bytes for shape (${shape}) of ${descr}`);
  }
  const data = new Float64Array(count);
  const read = (p: number): number => {
    if (kind === "f") {
      if (size === 8) return view.getFloat64(p, little);
      if (size === 4) return view.getFloat32(p, little);
      if (size === 2) return halfToFloat(view.getUint16(p, little));
    } else if (kind === "i") {
      if (size === 1) return view.getInt8(p);
      if (size === 2) return view.getInt16(p, little);
      if (size === 4) return view.getInt32(p, little);
      if (size === 8) return Number(view.getBigInt64(p, little));
    } else {
      if (size === 1) return view.getUint8(p);
      if (size === 2) return view.getUint16(p, little);
      if (size === 4) return view.getUint32(p, little);
      if (size === 8) return Number(view.getBigUint64(p, little));
    }
    return fail(where, `unsupported dtype ${descr}`);
  };
  for (let i = 0; i < count; i++) data[i] = read(offset + i * size);
  return { shape, dtype: descr, data: fortran === "True" ? fortranToC(data, shape) : data };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function fortranToC(data: Float64Array, shape: number[]): Float64Array {
  const out = new Float64Array(data.length);
  const n = shape.length;
  const idx = new Array(n).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0, stride = 1;
    for (let d = 0; d < n; d++) {
      f += idx[d] * stride;
      stride *= shape[d];
    }
    out[c] = data[f];
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Writes an array as `.npy` (version 1, little-endian, C order): f8 for Float64Array, f4 for
 * Float32Array, i4/u4 for Int32Array/Uint32Array.
 *
 * @param data the values in C order
 * @param shape the dimensions
 * @returns the file's bytes
 */
export function writeNpy(
  data: Float64Array | Float32Array | Int32Array | Uint32Array,
  shape: number[],
): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`writeNpy: ${data.length} values for shape (${shape})`);
  }
  const descr = data instanceof Float64Array
    ? "<f8"
    : data instanceof Float32Array
    ? "<f4"
    : data instanceof Int32Array
    ? "<i4"
    : "<u4";
  const shapeText = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  // Typed arrays are little-endian on every platform Deno runs on.
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
