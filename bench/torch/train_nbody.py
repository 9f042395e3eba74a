"""Trains our PyTorch copy of the reference's N-body models (nbody_models.py) with the reference's
protocol (main_nbody.py; ../shared/spec/reference_implementation.md §4) on a data set of ours or
on the reference generator's files, and prints the learning curve.

Why: issue 4 compares our best validation MSE by epoch 100 with the reference code's on its own
data. Training the reference's model on our data, and ours on the reference's, separates the data
from the implementation.

Protocol: Adam (weight decay 1e-12) at the reference's learning rate, batch 100, shuffled training
batches with the last partial one dropped, each epoch's training first, then every 5 epochs
(0, 5, 10 …) the validation and test MSE; the reported test MSE is the one at the lowest
validation MSE. Unlike the reference, torch is seeded (--seed) and uses one thread.

Data (one of):
  --npz FILE         written by `deno run -A bench/nbody_export_data.ts --out FILE`
                     (<split>_x0, _v0, _xT: systems × 5 × 3; <split>_charges: systems × 5)
  --reference-dir D  the reference generator's .npy files (loc_/vel_/charges_<split><suffix>.npy),
                     e.g. from bench/torch/reference_nbody_generator.py; frames 30 → 40, the
                     first 3,000 training simulations, as the reference's loader

    /usr/bin/python3 bench/torch/train_nbody.py --npz /tmp/nbody_ours.npz [--model egnn]
        [--epochs 101] [--seed 1]

Prints one line per evaluation and a JSON summary on the last line. ~2 minutes per 100 EGNN
epochs on one thread of a 2-core machine.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(__file__))
from nbody_models import EGNN_vel, GNN, RF_vel, fully_connected_edges, nbody_inputs  # noqa: E402

LR = {"egnn": 5e-4, "gnn": 1e-3, "rf": 2e-4}

p = argparse.ArgumentParser()
p.add_argument("--npz")
p.add_argument("--reference-dir")
p.add_argument("--suffix", default="_charged5_initvel1small")
p.add_argument("--model", default="egnn", choices=sorted(LR))
p.add_argument("--lr", type=float)
p.add_argument("--epochs", type=int, default=101)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--train", type=int, default=3000)
args = p.parse_args()
if (args.npz is None) == (args.reference_dir is None):
    p.error("give exactly one of --npz and --reference-dir")
torch.set_num_threads(1)
torch.manual_seed(args.seed)


def load():
    """(x0, v0, xT, charges) float32 tensors per split, x of shape systems × 5 × 3."""
    out = {}
    if args.npz:
        with np.load(args.npz) as z:
            for split in ("train", "val", "test"):
                out[split] = [torch.from_numpy(z[f"{split}_{f}"].astype(np.float32))
                              for f in ("x0", "v0", "xT", "charges")]
    else:
        for split, name in (("train", "train"), ("val", "valid"), ("test", "test")):
            f = lambda field: np.load(os.path.join(args.reference_dir, f"{field}_{name}{args.suffix}.npy"))
            loc = f("loc").astype(np.float32).transpose(0, 1, 3, 2)  # (N, T, 5, 3)
            vel = f("vel").astype(np.float32).transpose(0, 1, 3, 2)
            q = f("charges").astype(np.float32)[:, :, 0]
            out[split] = [torch.from_numpy(np.ascontiguousarray(a))
                          for a in (loc[:, 30], vel[:, 30], loc[:, 40], q)]
    out["train"] = [a[: args.train] for a in out["train"]]
    return out


data = load()
model = {"egnn": EGNN_vel, "gnn": GNN, "rf": RF_vel}[args.model]()
lr = args.lr if args.lr is not None else LR[args.model]
opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-12)
edges = fully_connected_edges(5, 100)


def loss_of(split, idx):
    x0, v0, xT, q = (a[idx] for a in data[split])
    b = len(idx)
    e = edges if b == 100 else fully_connected_edges(5, b)
    inputs = nbody_inputs(x0.reshape(-1, 3), v0.reshape(-1, 3), q.reshape(-1, 1), e)[args.model]
    pred = model(*inputs)
    return torch.nn.functional.mse_loss(pred, xT.reshape(-1, 3))


def run_epoch(split, train):
    n = len(data[split][0])
    order = torch.randperm(n) if train else torch.arange(n)
    batches = [order[i:i + 100] for i in range(0, n - (n % 100 if train else 0), 100)]
    model.train(train)
    total, count = 0.0, 0
    for idx in batches:
        if train:
            opt.zero_grad()
            loss = loss_of(split, idx)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                loss = loss_of(split, idx)
        total += loss.item() * len(idx)
        count += len(idx)
    return total / count


t0 = time.time()
best = {"val": float("inf")}
curve = []
for epoch in range(args.epochs):
    train_loss = run_epoch("train", True)
    if epoch % 5 == 0:
        val, test = run_epoch("val", False), run_epoch("test", False)
        curve.append((epoch, val, test))
        if val < best["val"]:
            best = {"val": val, "test": test, "epoch": epoch}
        print(f"epoch {epoch}: train {train_loss:.5f} val {val:.5f} test {test:.5f} "
              f"({time.time() - t0:.0f} s)", flush=True)
source = args.npz or args.reference_dir
print(json.dumps({"model": args.model, "lr": lr, "seed": args.seed, "data": source,
                  "epochs": args.epochs, "best_val": best["val"], "best_epoch": best.get("epoch"),
                  "test_at_best": best.get("test"), "seconds": round(time.time() - t0, 1)}))
