"""The reference's N-body data set, regenerated with NumPy's legacy random stream.

The reference makes the paper's 3,000-sample data with

    python generate_dataset.py --num-train 10000 --seed 43 --sufix small

(`ChargedParticlesSim` of NRI extended to 3-D; ../shared/spec/reference_implementation.md §3). This
script repeats that generator's random draws call for call, in the same order and shapes, from one
`np.random.seed(seed)`: per simulation `choice` of five charges, `randn(3, 5)` positions,
`randn(3, 5)` velocity directions, then after the integration the two `randn(49, 3, 5)` noise arrays
(multiplied by noise_var = 0, but drawn). NumPy's legacy stream is frozen, so the draws are the
reference's own. The integration (a kick, then drift, sample, kick for 4,999 steps; the forces from
|a|² + |b|² − 2a·b, clipped to ±100 per component; the one reflection into the box at t = 0) runs
vectorised over all kept simulations at once, in float64 like the reference. Sums of three or five
terms may round in another order than the reference's per-simulation code, so a close encounter can
make a trajectory drift apart in its last digits; the statistics of the set do not move.

Only the simulations the experiment reads are integrated: the first `--keep-train` (3,000) of the
`--num-train` (10,000) training simulations, and all 2,000 validation and 2,000 test ones. The
other training simulations still consume their draws, so validation and test are the reference's.

Writes `loc_`, `vel_` (N, 49, 3, 5), `edges_` (N, 5, 5) and `charges_` (N, 5, 1) for train, valid
and test, float64 `.npy`, with the reference's names (suffix `_charged5_initvel1small`), into
`--out`; then prints the statistics that ../shared/spec/nbody_reference_figures.md gives for the
reference's files. Train on the result with

    deno run -A cli.ts --config configs/nbody_reference_data.json --set 'data.path="<out>"'

Usage: python3 bench/torch/reference_nbody_generator.py --out /tmp/nbody_reference  (about 1 min)
"""

import argparse
import os
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--seed", type=int, default=43)
p.add_argument("--num-train", type=int, default=10000)
p.add_argument("--num-valid", type=int, default=2000)
p.add_argument("--num-test", type=int, default=2000)
p.add_argument("--keep-train", type=int, default=3000)
p.add_argument("--length", type=int, default=5000)
p.add_argument("--sample-freq", type=int, default=100)
p.add_argument("--suffix", default="_charged5_initvel1small")
p.add_argument("--fixture", help="also write frames 30 and 40 and the charges as JSON (tests)")
args = p.parse_args()

N_BALLS, DIM = 5, 3
BOX = 5.0
LOC_STD = 1.0 * (N_BALLS / 5.0) ** (1.0 / 3.0)
VEL_NORM = 0.5
DT = 0.001
MAX_F = 0.1 / DT
CHARGE_TYPES = np.array([-1.0, 0.0, 1.0])
T_SAVE = args.length // args.sample_freq - 1

np.random.seed(args.seed)


def draw(keep):
    """One simulation's draws, in the reference's order; the initial state if kept."""
    charges = np.random.choice(CHARGE_TYPES, size=(N_BALLS, 1), p=[0.5, 0.0, 0.5])
    loc = np.random.randn(DIM, N_BALLS) * LOC_STD
    vel = np.random.randn(DIM, N_BALLS)
    # integration happens here in the reference; it draws nothing
    np.random.randn(T_SAVE, DIM, N_BALLS)  # loc noise × noise_var (= 0)
    np.random.randn(T_SAVE, DIM, N_BALLS)  # vel noise × noise_var (= 0)
    if not keep:
        return None
    v_norm = np.sqrt((vel**2).sum(axis=0)).reshape(1, -1)
    vel = vel * VEL_NORM / v_norm
    return charges, loc, vel


splits = [
    ("train", args.num_train, args.keep_train),
    ("valid", args.num_valid, args.num_valid),
    ("test", args.num_test, args.num_test),
]
kept = {}
for name, total, keep in splits:
    states = [draw(i < keep) for i in range(total)]
    kept[name] = [s for s in states if s is not None]

names = [n for n, _, _ in splits]
counts = [len(kept[n]) for n in names]
charges = np.stack([s[0] for n in names for s in kept[n]])  # (S, 5, 1)
loc = np.stack([s[1] for n in names for s in kept[n]])  # (S, 3, 5)
vel = np.stack([s[2] for n in names for s in kept[n]])
edges = charges @ charges.transpose(0, 2, 1)  # (S, 5, 5), diagonal q_i² = 1

# _clamp at t = 0 (in place, so the running state is reflected too)
over = loc > BOX
loc[over] = 2 * BOX - loc[over]
vel[over] = -np.abs(vel[over])
under = loc < -BOX
loc[under] = -2 * BOX - loc[under]
vel[under] = np.abs(vel[under])

diag = np.eye(N_BALLS, dtype=bool)


def forces(x):
    a = x.transpose(0, 2, 1)  # (S, 5, 3)
    norm = (a**2).sum(axis=2)
    d2 = norm[:, :, None] + norm[:, None, :] - 2 * (a @ a.transpose(0, 2, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        size = edges / np.power(d2, 1.5)
    size[:, diag] = 0.0
    diff = x[:, :, :, None] - x[:, :, None, :]  # (S, 3, 5, 5): x_i − x_j
    f = (size[:, None, :, :] * diff).sum(axis=-1)
    return np.clip(f, -MAX_F, MAX_F)


S = loc.shape[0]
loc_out = np.zeros((S, T_SAVE, DIM, N_BALLS))
vel_out = np.zeros((S, T_SAVE, DIM, N_BALLS))
loc_out[:, 0], vel_out[:, 0] = loc, vel
t0 = time.time()
vel = vel + DT * forces(loc)
counter = 0
for i in range(1, args.length):
    loc = loc + DT * vel
    if i % args.sample_freq == 0:
        loc_out[:, counter], vel_out[:, counter] = loc, vel
        counter += 1
    vel = vel + DT * forces(loc)
print(f"integrated {S} simulations × {args.length} steps in {time.time() - t0:.1f} s")

os.makedirs(args.out, exist_ok=True)
start = 0
for name, count in zip(names, counts):
    sl = slice(start, start + count)
    start += count
    for field, arr in (("loc", loc_out), ("vel", vel_out), ("edges", edges), ("charges", charges)):
        path = os.path.join(args.out, f"{field}_{name}{args.suffix}.npy")
        np.save(path + ".tmp.npy", arr[sl])
        os.replace(path + ".tmp.npy", path)
print(f"wrote {', '.join(f'{n} {c}' for n, c in zip(names, counts))} to {args.out}")
if args.fixture:
    import json
    fx = {"command": "python3 bench/torch/reference_nbody_generator.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None and k != "fixture"),
        "note": "frames 30 and 40, (N, 5, 3) row-major; charges (N, 5); NumPy's legacy stream"}
    start = 0
    for name, count in zip(names, counts):
        sl = slice(start, start + count)
        start += count
        fx[name] = {
            "x30": loc_out[sl, 30].transpose(0, 2, 1).ravel().tolist(),
            "v30": vel_out[sl, 30].transpose(0, 2, 1).ravel().tolist(),
            "x40": loc_out[sl, 40].transpose(0, 2, 1).ravel().tolist(),
            "charges": charges[sl, :, 0].ravel().tolist(),
        }
    with open(args.fixture, "w") as f:
        json.dump(fx, f)
    print(f"wrote {args.fixture}")

# The statistics of ../shared/spec/nbody_reference_figures.md (all kept simulations pooled)
iu = np.triu_indices(N_BALLS, 1)
for frame in (30, 40):
    x = loc_out[:, frame]  # (S, 3, 5)
    pair = np.sqrt(((x[:, :, :, None] - x[:, :, None, :]) ** 2).sum(axis=1))[:, iu[0], iu[1]]
    speed = np.sqrt((vel_out[:, frame] ** 2).sum(axis=1))
    print(
        f"frame {frame}: pair distance mean {pair.mean():.4f} median {np.median(pair):.4f}; "
        f"speed mean {speed.mean():.4f} median {np.median(speed):.4f}"
    )
disp = np.sqrt(((loc_out[:, 40] - loc_out[:, 30]) ** 2).sum(axis=1)).mean()
print(f"mean displacement 30 → 40: {disp:.4f}")
test = slice(counts[0] + counts[1], S)
x30, v30, x40 = loc_out[test, 30], vel_out[test, 30], loc_out[test, 40]
print(f"test MSE of x40 ≈ x30: {((x40 - x30) ** 2).mean():.4f}; of x40 ≈ x30 + v30: {((x40 - x30 - v30) ** 2).mean():.4f}")
