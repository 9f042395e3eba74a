/**
 * QM9 data for training: molecules read from the configured source, the uncharacterized ones
 * excluded, a seeded split, and each split packed into flat arrays (atoms' features and
 * positions, targets in the paper's units) with the training set's mean and mean absolute
 * deviation per property (the reference's normalisation).
 *
 * @module
 */

import { join } from "node:path";
import type { Molecule } from "../../qm9/molecule.ts";
import { readXyzMolecules } from "../../qm9/xyz.ts";
import { attachLabels, readLabelsCsv } from "../../qm9/labels.ts";
import { readReleaseDirectory } from "../../qm9/release.ts";
import { readReferenceNpz } from "../../qm9/npz_dataset.ts";
import { readUncharacterized } from "../../qm9/uncharacterized.ts";
import { nodeFeatures, type Qm9Property, targetValue } from "../../qm9/targets.ts";
import { Random } from "../../random.ts";
import { labelColumns, type Qm9Config } from "./config.ts";

/** One split packed for batching. */
export interface Qm9Split {
  /** Molecules. */
  count: number;
  /** GDB-9 ids. */
  ids: Int32Array;
  /** `count + 1` atom offsets. */
  atomPtr: Uint32Array;
  /** Atomic numbers, all atoms. */
  charges: Uint8Array;
  /** atoms × 15 node features. */
  features: Float32Array;
  /** atoms × 3 positions (Å). */
  positions: Float32Array;
  /** count × properties targets in the paper's units. */
  targets: Float64Array;
}

/** The three splits and the normalisation. */
export interface Qm9Data {
  properties: Qm9Property[];
  train: Qm9Split;
  val: Qm9Split;
  test: Qm9Split;
  /** Training mean per property. */
  mean: Float64Array;
  /** Training mean absolute deviation per property. */
  mad: Float64Array;
  /** What was read, for the log and the results. */
  summary: { read: number; excluded: number; used: number; source: string };
}

/**
 * Packs molecules into a split.
 *
 * @param mols the molecules
 * @param properties the targets to extract
 * @param where names the source in errors
 */
export function packSplit(mols: Molecule[], properties: Qm9Property[], where: string): Qm9Split {
  const count = mols.length;
  const atomPtr = new Uint32Array(count + 1);
  for (let m = 0; m < count; m++) atomPtr[m + 1] = atomPtr[m] + mols[m].charges.length;
  const atoms = atomPtr[count];
  const charges = new Uint8Array(atoms);
  const features = new Float32Array(atoms * 15);
  const positions = new Float32Array(atoms * 3);
  const targets = new Float64Array(count * properties.length);
  const ids = new Int32Array(count);
  for (let m = 0; m < count; m++) {
    const mol = mols[m], a0 = atomPtr[m];
    ids[m] = mol.id;
    charges.set(mol.charges, a0);
    nodeFeatures(mol.charges, features.subarray(a0 * 15, (a0 + mol.charges.length) * 15));
    positions.set(mol.positions, a0 * 3);
    properties.forEach((p, k) => targets[m * properties.length + k] = targetValue(mol, p, where));
  }
  return { count, ids, atomPtr, charges, features, positions, targets };
}

/**
 * A seeded split of `n` items: a permutation, then the first `train` for training, the next
 * `test` for testing and the rest for validation (fractions ≤ 1 become floor(f·n), the
 * reference's `int(0.1·N)`).
 *
 * @param n items
 * @param train a fraction or a count
 * @param test a fraction or a count
 * @param seed the permutation's seed
 * @returns item indices of each split (each ascending)
 * @example 10 items, 80/10/10
 * ```ts
 * import { splitIndices } from "./data.ts";
 * const s = splitIndices(10, 0.8, 0.1, 0);
 * console.log(s.train.length, s.val.length, s.test.length); // 8 1 1
 * ```
 */
export function splitIndices(
  n: number,
  train: number,
  test: number,
  seed: number,
): { train: number[]; val: number[]; test: number[] } {
  const nTrain = train <= 1 ? Math.floor(train * n) : train;
  const nTest = test <= 1 ? Math.floor(test * n) : test;
  if (nTrain + nTest >= n) {
    throw new Error(
      `split: ${nTrain} training + ${nTest} test molecules leave no validation set of ${n}`,
    );
  }
  const perm = Array.from({ length: n }, (_, i) => i);
  new Random(seed).shuffle(perm);
  const asc = (a: number[]) => a.sort((x, y) => x - y);
  return {
    train: asc(perm.slice(0, nTrain)),
    test: asc(perm.slice(nTrain, nTrain + nTest)),
    val: asc(perm.slice(nTrain + nTest)),
  };
}

/** Mean and mean absolute deviation of each column of a count × k array. */
export function meanMad(
  targets: Float64Array,
  k: number,
): { mean: Float64Array; mad: Float64Array } {
  const n = targets.length / k;
  const mean = new Float64Array(k), mad = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) mean[j] += targets[i * k + j] / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) mad[j] += Math.abs(targets[i * k + j] - mean[j]) / n;
  }
  return { mean, mad };
}

async function collect(it: AsyncIterable<Molecule>): Promise<Molecule[]> {
  const out: Molecule[] = [];
  for await (const m of it) out.push(m);
  return out;
}

/**
 * Reads, filters, splits and packs the data a config names. Everything is checked before any
 * training starts: a missing file, a molecule without a label, a non-numeric value fail here.
 *
 * @param cfg the config
 * @returns the splits and normalisation
 */
export async function loadQm9Data(cfg: Qm9Config): Promise<Qm9Data> {
  const d = cfg.data;
  const dir = d.path;
  try {
    const st = await Deno.stat(dir);
    if (!st.isDirectory) throw new Error("not a directory");
  } catch (e) {
    throw new Error(
      `data.path: ${dir} is not a readable directory (${(e as Error).message}); give the QM9 ` +
        `data directory with --data <dir> or --set data.path=...`,
    );
  }
  const excluded = d.uncharacterized === null
    ? new Set<number>()
    : await readUncharacterized(join(dir, d.uncharacterized));
  let excludedCount = 0;
  const keep = (ms: Molecule[]) => {
    const kept = ms.filter((m) => !excluded.has(m.id));
    excludedCount += ms.length - kept.length;
    return d.limit === null ? kept : kept.slice(0, d.limit);
  };
  const props = cfg.properties;
  if (d.format === "npz") {
    const read = async (f: string) => (await readReferenceNpz(join(dir, f))).molecules;
    const [tr, va, te] = await Promise.all(["train.npz", "valid.npz", "test.npz"].map(read));
    const train = packSplit(keep(tr), props, join(dir, "train.npz"));
    const { mean, mad } = meanMad(train.targets, props.length);
    return {
      properties: props,
      train,
      val: packSplit(keep(va), props, join(dir, "valid.npz")),
      test: packSplit(keep(te), props, join(dir, "test.npz")),
      mean,
      mad,
      summary: {
        read: tr.length + va.length + te.length,
        excluded: excludedCount,
        used: train.count,
        source: `${dir}/{train,valid,test}.npz`,
      },
    };
  }
  let all: Molecule[];
  let source: string;
  if (d.format === "release") {
    all = await collect(readReleaseDirectory(dir));
    source = `${dir}/dsgdb9nsd_*.xyz`;
  } else {
    const xyzPath = join(dir, d.xyz), csvPath = join(dir, d.labels);
    const labels = await readLabelsCsv(csvPath, {
      required: props,
      idColumn: d.idColumn,
      columns: labelColumns(cfg),
    });
    all = await collect(attachLabels(readXyzMolecules(xyzPath), labels, { where: csvPath }));
    source = `${xyzPath} + ${csvPath}`;
  }
  const used = keep(all);
  const s = splitIndices(used.length, cfg.split.train, cfg.split.test, cfg.split.seed);
  const pick = (idx: number[]) => idx.map((i) => used[i]);
  const train = packSplit(pick(s.train), props, source);
  const { mean, mad } = meanMad(train.targets, props.length);
  return {
    properties: props,
    train,
    val: packSplit(pick(s.val), props, source),
    test: packSplit(pick(s.test), props, source),
    mean,
    mad,
    summary: { read: all.length, excluded: excludedCount, used: used.length, source },
  };
}
