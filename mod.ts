/**
 * egnn-webgpu: E(n) Equivariant Graph Neural Networks (Satorras, Hoogeboom, Welling, ICML 2021)
 * on Deno's WebGPU. This module re-exports the public API.
 *
 * @example A one-layer model trained for one step
 * ```ts
 * import { Adam, fromArray, getGpu, linear, mseLoss, ParameterSet, trainStep } from "./mod.ts";
 * await getGpu();
 * const ps = new ParameterSet();
 * const w = ps.add("w", [2, 1], new Float32Array([0.5, -0.5]));
 * ps.build();
 * const opt = new Adam(ps, { lr: 0.01 });
 * const x = fromArray([1, 2, 3, 4], [2, 2]).keep();
 * const y = fromArray([1, 0], [2, 1]).keep();
 * await trainStep(() => mseLoss(linear(x, w, null), y), opt);
 * ```
 *
 * @module
 */

export { type AdapterDescription, type DeviceLimits, getGpu, type Gpu } from "./lib/gpu/device.ts";
export {
  type BindingSpec,
  type ConstantValue,
  defineKernel,
  type ElementType,
  Kernel,
  type KernelSpec,
  KernelVariant,
  type ScalarType,
} from "./lib/gpu/dsl.ts";
export {
  type BufferSlice,
  type CommandStats,
  recordClear,
  recordCopy,
  recordDispatch,
  resetStats,
  stats,
  submit,
} from "./lib/gpu/commands.ts";
export { type BufferPool, bufferPool, type PoolStats } from "./lib/gpu/pool.ts";
export {
  type DType,
  empty,
  endStep,
  fromArray,
  liveTemporaries,
  read,
  readMany,
  Tensor,
  unusedBinding,
  writeTensor,
} from "./lib/gpu/tensor.ts";
export {
  backward,
  gradOf,
  gradSlot,
  needsGrad,
  noGrad,
  recordOp,
  resetTape,
} from "./lib/gpu/tape.ts";
export { ParameterSet } from "./lib/gpu/parameters.ts";
export { Adam, type AdamOptions, cosineLr } from "./lib/gpu/optim.ts";
export { trainStep } from "./lib/gpu/step.ts";
export {
  describeKernelProfile,
  forgetKernelProfile,
  KERNEL_PROFILES,
  type KernelProfile,
  kernelProfile,
  profileFor,
  profileLabel,
  resultAdapterLabel,
  withKernelProfile,
} from "./lib/gpu/tuning.ts";
export {
  autotuneKernelProfile,
  type AutotuneOptions,
  type AutotuneResult,
  type CandidateTiming,
  formatAutotuneTable,
  type LayerTiming,
  type LayerTrial,
  relativeError,
  tunedEntryOf,
  TUNING_CANDIDATES,
} from "./lib/gpu/autotune.ts";
export {
  parseTuningCache,
  readTunedProfile,
  type TunedEntry,
  TUNING_VERSION,
  type TuningCacheFile,
  tuningCachePath,
  tuningKey,
  writeTunedEntry,
} from "./lib/gpu/tuning_cache.ts";
export { linear } from "./lib/gpu/kernels/linear.ts";
export { edgeLinear } from "./lib/gpu/kernels/edge_linear.ts";
export {
  type CoordinateGraph,
  coordinateUpdate,
  type CoordinateUpdateOptions,
  edgeDifferences,
} from "./lib/gpu/kernels/egcl_coords.ts";
export { type Activation, matmul, type MatmulOptions } from "./lib/gpu/kernels/matmul.ts";
export {
  activation,
  add,
  type Broadcast,
  full,
  mapInto,
  mul,
  scale,
  sub,
} from "./lib/gpu/kernels/elementwise.ts";
export { columnSum, squaredNormAll, sumAll } from "./lib/gpu/kernels/reduce.ts";
export {
  appendSegmentSum,
  gatherRows,
  type RowIndex,
  rowIndex,
  segmentMean,
  type Segments,
  segments,
  segmentSum,
} from "./lib/gpu/kernels/segment.ts";
export { concat, copyColumns, rowBlock } from "./lib/gpu/kernels/columns.ts";
export { rowSquaredNorm } from "./lib/gpu/kernels/rownorm.ts";
export {
  AbsErrorMeter,
  bceWithLogitsLoss,
  ConfusionMeter,
  l1Loss,
  LossMeter,
  type LossMeterReading,
  mseLoss,
  type Reduction,
} from "./lib/gpu/kernels/losses.ts";
export { clamp, clampedMul, unary } from "./lib/gpu/kernels/elementwise.ts";
export { rowSum } from "./lib/gpu/kernels/reduce.ts";
export { Random, type RandomStream } from "./lib/random.ts";
export { NumpyRandom } from "./lib/sim/numpy_random.ts";
export {
  type EdgeList,
  type EdgeListGraph,
  fromEdgeLists,
  fullyConnected,
  GraphBatch,
  type GraphBatchInit,
  knnGraph,
  radiusGraph,
  type Rows,
} from "./lib/egnn/graph.ts";
export { type DeviceGraph, uploadGraph } from "./lib/egnn/device_graph.ts";
export { applyDense, type Dense, dense, type DenseOptions } from "./lib/egnn/nn.ts";
export { EGCL, type EGCLInput, type EGCLOptions, egclSwitches } from "./lib/egnn/egcl.ts";
export { type DisposableLayerTrial, wholeLayerTrial } from "./lib/egnn/egcl_trial.ts";
export { EGNN, type EGNNOptions, EGNNVel, type EGNNVelOptions } from "./lib/egnn/egnn.ts";
export { GCL, type GCLOptions, GNN, type GNNOptions } from "./lib/egnn/baselines/gnn.ts";
export {
  RadialField,
  RadialFieldLayer,
  type RadialFieldLayerOptions,
  type RadialFieldOptions,
} from "./lib/egnn/baselines/radial_field.ts";
export { LinearBaseline, LinearVelBaseline } from "./lib/egnn/baselines/linear.ts";
export {
  gaussianRbf,
  type Interaction,
  SchNet,
  type SchNetOptions,
  shiftedSoftplus,
} from "./lib/egnn/baselines/schnet.ts";
export {
  type Checkpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  importTorchNpz,
  loadCheckpoint,
  saveCheckpoint,
} from "./lib/io/checkpoint.ts";
export { type NpyArray, parseNpy, writeNpy } from "./lib/io/npy.ts";
export { readNpz, writeNpz } from "./lib/io/npz.ts";
export { writeFileAtomic } from "./lib/io/atomic.ts";
export { profileReport, setProfiling } from "./lib/gpu/commands.ts";
export { QM9Model, type QM9ModelOptions } from "./lib/egnn/qm9_model.ts";
export { GNNEncoder, type GNNEncoderOptions } from "./lib/egnn/baselines/noise_gnn.ts";
export {
  type AutoencoderKind,
  GraphAutoencoder,
  type GraphAutoencoderOptions,
} from "./lib/egnn/autoencoder.ts";
export {
  chargedForces,
  type ChargedParticlesConfig,
  type ChargedParticlesOptions,
  type ParticleState,
  sampleInitialState,
  sampleTrajectory,
  simulate,
  skipTrajectory,
  type Trajectory,
} from "./lib/sim/nbody.ts";
export {
  generateNBodyDataset,
  loadOrGenerateNBodyDataset,
  NBODY_SMALL,
  NBODY_SWEEP,
  type NBodyCacheOptions,
  type NBodyDataset,
  type NBodyDatasetOptions,
  type NBodyGeneratedParams,
  type NBodyReferenceParams,
  type NBodySplit,
  readReferenceNBodyDataset,
  type ReferenceNBodyOptions,
} from "./lib/sim/nbody_dataset.ts";
export { elementNumber, ELEMENTS, type Molecule, QM9_PROPERTIES } from "./lib/qm9/molecule.ts";
export { readXyzMolecules } from "./lib/qm9/xyz.ts";
export {
  parseReleaseXyz,
  readReleaseDirectory,
  readReleaseRecords,
  type ReleaseRecord,
} from "./lib/qm9/release.ts";
export {
  attachLabels,
  type Labels,
  type LabelsCsvOptions,
  type MissingLabels,
  readLabelsCsv,
} from "./lib/qm9/labels.ts";
export { readUncharacterized } from "./lib/qm9/uncharacterized.ts";
export { readReferenceNpz, type ReferenceNpz } from "./lib/qm9/npz_dataset.ts";
export {
  ATOM_REFERENCES,
  HARTREE_TO_EV,
  nodeFeatures,
  PROPERTY_INFO,
  type PropertyInfo,
  type Qm9Property,
  TABLE3_PROPERTIES,
  targetValue,
} from "./lib/qm9/targets.ts";

// SE(3)-equivariant baselines (Tensor Field Network, SE(3)-Transformer): spherical harmonics,
// Wigner D, Clebsch–Gordan coefficients and the kernel basis; the device ops; the layers.
export { sphericalBasis } from "./lib/gpu/kernels/spherical_basis.ts";
export {
  type BasisProjection,
  contractRadial,
  equivariantMessage,
  projectOnBasis,
} from "./lib/gpu/kernels/equivariant_message.ts";
export { layerNorm } from "./lib/gpu/kernels/layer_norm.ts";
export { fibreLinear } from "./lib/gpu/kernels/fibre_linear.ts";
export { view } from "./lib/gpu/kernels/view.ts";
export { rowDot, segmentSoftmax } from "./lib/gpu/kernels/attention.ts";
export {
  type Normalization,
  polyAdd,
  polyEval,
  polyGrad,
  polyMul,
  type Polynomial,
  polyScale,
  sphericalHarmonicPolynomials,
  sphericalHarmonics,
  type Term,
} from "./lib/egnn/se3/spherical_harmonics.ts";
export {
  gaussLegendre,
  randomRotation,
  rotate,
  rotationFromQuaternion,
  type SphereQuadrature,
  sphereQuadrature,
  wignerD,
} from "./lib/egnn/se3/wigner.ts";
export {
  type BasisColumn,
  basisColumns,
  type BasisLayout,
  basisLayout,
  type BasisPair,
  basisPair,
  clebschGordan,
  clebschGordanResidual,
  kernelBasis,
} from "./lib/egnn/se3/clebsch_gordan.ts";
export {
  type EdgeGeometry,
  edgeGeometry,
  type Features,
  type Fibre,
  fibre,
  type FibreType,
  kaimingLinear,
  layerNormParams,
  type Linear,
  maxType,
  RadialFunction,
} from "./lib/egnn/se3/fibre.ts";
export {
  featuresOf,
  NormNonlinearity,
  type NormNonlinearityOptions,
  SE3Conv,
  type SE3ConvOptions,
  SE3PartialConv,
} from "./lib/egnn/se3/conv.ts";
export { TFN, type TFNOptions } from "./lib/egnn/se3/tfn.ts";
export {
  SE3Attention,
  type SE3AttentionOptions,
  SE3Transformer,
  type SE3TransformerOptions,
} from "./lib/egnn/se3/se3_transformer.ts";
