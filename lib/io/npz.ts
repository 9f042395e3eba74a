/**
 * NumPy `.npz` archives (zip files of `.npy` members): read stored and deflated members (the
 * latter with the built-in `DecompressionStream`), write stored archives. No npm dependency.
 *
 * @module
 */

import { type NpyArray, parseNpy, writeNpy } from "./npy.ts";

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate-raw"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Reads every member of an `.npz` archive.
 *
 * @param bytes the archive's contents
 * @param where names the file in errors
 * @returns arrays by name (the `.npy` suffix removed)
 * @example Round trip
 * ```ts
 * import { readNpz, writeNpz } from "./npz.ts";
 * const bytes = writeNpz({ w: { data: new Float32Array([1, 2]), shape: [2] } });
 * console.log((await readNpz(bytes)).get("w")?.data); // Float64Array(2) [ 1, 2 ]
 * ```
 */
export async function readNpz(bytes: Uint8Array, where = "npz"): Promise<Map<string, NpyArray>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: the last PK\5\6 record.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${where}: not a zip archive (no end of central directory)`);
  let entries = view.getUint16(eocd + 10, true);
  let cd = view.getUint32(eocd + 16, true);
  if (entries === 0xffff || cd === 0xffffffff) {
    // Zip64: the locator sits just before the end record.
    const loc = eocd - 20;
    if (view.getUint32(loc, true) !== 0x07064b50) throw new Error(`${where}: bad zip64 locator`);
    const z = Number(view.getBigUint64(loc + 8, true));
    entries = Number(view.getBigUint64(z + 32, true));
    cd = Number(view.getBigUint64(z + 48, true));
  }
  const out = new Map<string, NpyArray>();
  for (let e = 0; e < entries; e++) {
    if (view.getUint32(cd, true) !== 0x02014b50) throw new Error(`${where}: bad central directory`);
    const method = view.getUint16(cd + 10, true);
    let compSize = view.getUint32(cd + 20, true);
    const nameLen = view.getUint16(cd + 28, true);
    const extraLen = view.getUint16(cd + 30, true);
    const commentLen = view.getUint16(cd + 32, true);
    let local = view.getUint32(cd + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(cd + 46, cd + 46 + nameLen));
    // Zip64 extra field holds the 64-bit sizes/offset when the 32-bit ones are saturated.
    let x = cd + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = view.getUint16(x, true), len = view.getUint16(x + 2, true);
      if (id === 0x0001) {
        let p = x + 4;
        if (view.getUint32(cd + 24, true) === 0xffffffff) p += 8;
        if (compSize === 0xffffffff) {
          compSize = Number(view.getBigUint64(p, true));
          p += 8;
        }
        if (local === 0xffffffff) local = Number(view.getBigUint64(p, true));
      }
      x += 4 + len;
    }
    cd = xEnd + commentLen;
    const lNameLen = view.getUint16(local + 26, true);
    const lExtraLen = view.getUint16(local + 28, true);
    const dataStart = local + 30 + lNameLen + lExtraLen;
    const raw = bytes.subarray(dataStart, dataStart + compSize);
    let member: Uint8Array;
    if (method === 0) member = raw;
    else if (method === 8) member = await inflateRaw(raw);
    else throw new Error(`${where}: member ${name} uses unsupported compression ${method}`);
    const key = name.endsWith(".npy") ? name.slice(0, -4) : name;
    out.set(key, parseNpy(member, `${where}:${name}`));
  }
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Writes arrays as an uncompressed `.npz` archive (as `np.savez`).
 *
 * @param arrays name → values and shape
 * @returns the archive's bytes
 */
export function writeNpz(
  arrays: Record<
    string,
    { data: Float64Array | Float32Array | Int32Array | Uint32Array; shape: number[] }
  >,
): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [key, a] of Object.entries(arrays)) {
    const name = enc.encode(key + ".npy");
    const body = writeNpy(a.data, a.shape);
    const crc = crc32(body);
    const lh = new Uint8Array(30 + name.length);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, body.length, true);
    lv.setUint16(26, name.length, true);
    lh.set(name, 30);
    const ch = new Uint8Array(46 + name.length);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, body.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    ch.set(name, 46);
    locals.push(lh, body);
    centrals.push(ch);
    offset += lh.length + body.length;
  }
  const cdSize = centrals.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
