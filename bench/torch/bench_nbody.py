"""PyTorch side of the model benchmark (bench/nbody.ts spawns it; it is never a runtime
dependency of the toolkit).

Reads the exchange directory the Deno bench wrote: inputs.npz (the N-body data set: x0, v0, xT of
shape systems x 5 x 3, charges; the QM9-like batches qm9_{sizes,h0,pos,y}_<i>), weights_<m>.npz
(our initialised weights in PyTorch's names and layout) and out_<m>.npz (our forward output on the
bench batch). For each model it loads the weights into our own PyTorch implementation
(nbody_models.py, qm9_model.py), compares the forward on the bench batch with ours, then times,
with torch.set_num_threads(1) and then (N-body models only) with all threads:

  forward  median of single no_grad passes on the bench batch (after warm-up),
  step     median of single training steps (batch assembly, forward, loss, backward, Adam),
  epoch    N-body, 1 thread: wall time of 30 back-to-back steps (3,000 samples) with the loss
           read once (.item()) at the end. QM9 (20-40 s a step on a 2-core machine) has none: the
           Deno side scales the median step to 1,000 molecules.

The QM9 model runs unpadded here (the batch's fully connected edges only, edge_mask all ones,
pooling by index_add), so both sides do the same arithmetic; the reference pads molecules to the
largest one, which costs more.

Prints one JSON object on the last line of stdout; progress goes to stderr.

    /usr/bin/python3 bench/torch/bench_nbody.py --dir DIR [--models egnn,gnn,rf,qm9] [--steps 20]
        [--device cpu|cuda]

With --device cuda the model and every data tensor live on the GPU (the cross-check still runs on
the CPU first), each timed region is closed by torch.cuda.synchronize(), the thread counts are
not varied, and the epoch is timed as on the CPU (30 steps, one .item()).
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(__file__))
from nbody_models import EGNN_vel, GNN, RF_vel, fully_connected_edges, nbody_inputs  # noqa: E402
from qm9_model import QM9EGNN  # noqa: E402

NBODY_LR = {"egnn": 5e-4, "gnn": 1e-3, "rf": 2e-4}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def load_npz(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def load_weights(model, path):
    sd = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
          for k, v in load_npz(path).items()}
    model.load_state_dict(sd, strict=True)


def rel_err(ours, theirs):
    ours = np.asarray(ours, dtype=np.float64).ravel()
    theirs = np.asarray(theirs, dtype=np.float64).ravel()
    if ours.shape != theirs.shape:
        raise SystemExit("cross-check: %d values of ours, %d of torch" % (ours.size, theirs.size))
    return float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))))


class NBody:
    """One N-body model with its data: batches are assembled as main_nbody.py does."""

    def __init__(self, name, data, batch):
        self.name = name
        self.device = torch.device("cpu")
        self.model = {"egnn": EGNN_vel, "gnn": GNN, "rf": RF_vel}[name](hidden_nf=64)
        self.x0 = torch.from_numpy(data["x0"])
        self.v0 = torch.from_numpy(data["v0"])
        self.xT = torch.from_numpy(data["xT"])
        self.q = torch.from_numpy(data["charges"])
        self.batch = batch
        self.edges = fully_connected_edges(self.x0.shape[1], batch)
        self.order = torch.randperm(self.x0.shape[0], generator=torch.Generator().manual_seed(7))
        self.epoch_steps = self.x0.shape[0] // batch
        self.lr = NBODY_LR[name]

    def to(self, device):
        """Moves the model and the data set to `device` (batches are then assembled there)."""
        self.device = torch.device(device)
        self.model.to(self.device)
        for k in ("x0", "v0", "xT", "q", "order"):
            setattr(self, k, getattr(self, k).to(self.device))
        self.edges = [e.to(self.device) for e in self.edges]

    def inputs(self, idx):
        loc = self.x0[idx].reshape(-1, 3)
        vel = self.v0[idx].reshape(-1, 3)
        charges = self.q[idx].reshape(-1, 1)
        return nbody_inputs(loc, vel, charges, self.edges)[self.name], self.xT[idx].reshape(-1, 3)

    def bench_forward_inputs(self):
        return self.inputs(torch.arange(self.batch, device=self.device))[0]

    def forward(self, inputs):
        return self.model(*inputs)

    def step_batch(self, k):
        s = k % self.epoch_steps
        return self.inputs(self.order[s * self.batch:(s + 1) * self.batch])

    def loss(self, batch):
        inputs, target = batch
        return F.mse_loss(self.model(*inputs), target)


class QM9:
    """The QM9 model on unpadded batches of fully connected molecules."""

    def __init__(self, data):
        self.model = QM9EGNN(hidden_nf=128, n_layers=7)
        self.batches = []
        i = 0
        while "qm9_sizes_%d" % i in data:
            self.batches.append(self.make_batch(data, i))
            i += 1
        self.epoch_steps = 0
        self.lr = 5e-4

    def to(self, device):
        """Moves the model and the batches to `device`."""
        self.model.to(device)
        self.batches = [{k: ([e.to(device) for e in v] if k == "edges" else
                             v.to(device) if torch.is_tensor(v) else v)
                         for k, v in b.items()} for b in self.batches]

    @staticmethod
    def make_batch(data, i):
        sizes = data["qm9_sizes_%d" % i].astype(np.int64)
        rows, cols, gids = [], [], []
        offset = 0
        for g, n in enumerate(sizes):
            a = np.arange(n)
            ii, jj = np.meshgrid(a, a, indexing="ij")
            keep = ii != jj
            rows.append(ii[keep] + offset)  # i-major, as lib/egnn/graph.ts fullyConnected
            cols.append(jj[keep] + offset)
            gids.append(np.full(n, g))
            offset += n
        edges = [torch.from_numpy(np.concatenate(rows)), torch.from_numpy(np.concatenate(cols))]
        return {
            "h0": torch.from_numpy(data["qm9_h0_%d" % i]),
            "x": torch.from_numpy(data["qm9_pos_%d" % i]),
            "y": torch.from_numpy(data["qm9_y_%d" % i]),
            "edges": edges,
            "edge_mask": torch.ones(edges[0].shape[0], 1),
            "graph_ids": torch.from_numpy(np.concatenate(gids)),
            "graphs": len(sizes),
        }

    def run(self, b):
        m = self.model
        h = m.embedding(b["h0"])
        for i in range(m.n_layers):
            h = m._modules["gcl_%d" % i](h, b["edges"], b["x"], b["edge_mask"])
        h = m.node_dec(h)
        pooled = h.new_zeros((b["graphs"], h.size(1))).index_add_(0, b["graph_ids"], h)
        return m.graph_dec(pooled).squeeze(1)

    def bench_forward_inputs(self):
        return self.batches[0]

    def forward(self, b):
        return self.run(b)

    def step_batch(self, k):
        return self.batches[k % len(self.batches)]

    def loss(self, b):
        return F.l1_loss(self.run(b), b["y"])


def sync():
    """Waits for the GPU's queued work (nothing on the CPU)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def time_forward(w, reps, warmup):
    inputs = w.bench_forward_inputs()
    with torch.no_grad():
        for _ in range(warmup):
            w.forward(inputs)
        samples = []
        for _ in range(reps):
            sync()
            t0 = time.perf_counter()
            w.forward(inputs)
            sync()
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def time_training(w, steps, epoch_steps, warmup):
    opt = torch.optim.Adam(w.model.parameters(), lr=w.lr, weight_decay=1e-12)
    k = 0

    def step():
        nonlocal k
        batch = w.step_batch(k)
        k += 1
        opt.zero_grad()
        loss = w.loss(batch)
        loss.backward()
        opt.step()
        return loss.detach()

    for _ in range(warmup):
        step()
    samples = []
    for _ in range(steps):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        samples.append(time.perf_counter() - t0)
    if epoch_steps == 0:
        return statistics.median(samples) * 1000, None
    sync()
    t0 = time.perf_counter()
    total = torch.zeros((), device=next(w.model.parameters()).device)
    for _ in range(epoch_steps):
        total += step()
    mean = total.item() / epoch_steps  # the epoch's one read
    epoch_s = time.perf_counter() - t0
    if not np.isfinite(mean):
        raise SystemExit("%s: the training loss became %s" % (type(w).__name__, mean))
    return statistics.median(samples) * 1000, epoch_s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--models", default="egnn,gnn,rf,qm9")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--qm9-steps", type=int, default=3)
    ap.add_argument("--threads", default="1,all",
                    help="thread counts to time, comma-separated ('all' = os.cpu_count())")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="where PyTorch runs the timed rows (cuda: one row per model)")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False")
    default_threads = torch.get_num_threads()
    cpus = os.cpu_count() or 1
    threads = []
    for t in a.threads.split(","):
        n = cpus if t == "all" else int(t)
        if n not in threads:
            threads.append(n)
    # PyTorch's own matrix-product speed at the EGNN's edge-MLP shape, 1 thread: Debian's
    # python3-torch calls whatever libblas.so.3 provides, and the reference BLAS (libblas3) is
    # ~10x slower than OpenBLAS (apt-get install libopenblas0-pthread) -- an unfair baseline.
    torch.set_num_threads(1)
    ma, mb = torch.randn(2000, 131), torch.randn(131, 64)
    for _ in range(5):
        ma @ mb
    t0 = time.perf_counter()
    for _ in range(50):
        ma @ mb
    blas_gflops = 2 * 2000 * 131 * 64 / ((time.perf_counter() - t0) / 50) / 1e9
    log("torch matmul 2000x131x64, 1 thread: %.1f GFLOP/s" % blas_gflops)
    if blas_gflops < 15:
        log("WARNING: PyTorch's BLAS is slow (reference libblas3?); for a fair baseline install "
            "OpenBLAS: apt-get install -y libopenblas0-pthread")
    torch.manual_seed(0)
    data = load_npz(os.path.join(a.dir, "inputs.npz"))
    rows, crosscheck = [], {}
    for name in a.models.split(","):
        if name == "qm9":
            w = QM9(data)
            steps, fwd_reps, warmup, counts = a.qm9_steps, max(2, a.qm9_steps), 1, threads[:1]
        else:
            w = NBody(name, data, int(data["nbody_batch"][0]))
            steps, fwd_reps, warmup, counts = a.steps, max(20, a.steps), 2, threads
        if a.device == "cuda":
            counts, warmup = [torch.get_num_threads()], max(warmup, 5)
        params = sum(p.numel() for p in w.model.parameters())
        load_weights(w.model, os.path.join(a.dir, "weights_%s.npz" % name))
        torch.set_num_threads(1)
        with torch.no_grad():
            out = w.forward(w.bench_forward_inputs()).numpy()
        ours = load_npz(os.path.join(a.dir, "out_%s.npz" % name))["out"]
        crosscheck[name] = {"maxRelErr": rel_err(ours, out), "outputs": int(out.size)}
        log("%s: %d parameters; cross-check max rel. error %.2e"
            % (name, params, crosscheck[name]["maxRelErr"]))
        if a.device == "cuda":
            w.to("cuda")
        initial = {k: v.clone() for k, v in w.model.state_dict().items()}
        for n in counts:
            torch.set_num_threads(n)
            w.model.load_state_dict(initial)
            t0 = time.perf_counter()
            epoch_steps = w.epoch_steps if n == counts[0] else 0  # the epoch at 1 thread only
            forward_ms = time_forward(w, fwd_reps, warmup)
            step_ms, epoch_s = time_training(w, steps, epoch_steps, warmup)
            rows.append({
                "model": name, "device": a.device, "threads": n, "params": params, "forwardMs": forward_ms,
                "stepMs": step_ms, "epochS": epoch_s, "epochSteps": epoch_steps,
                "forwardReps": fwd_reps, "stepReps": steps,
            })
            log("  %d thread(s): forward %.1f ms, step %.1f ms, epoch %s (%.1f s)"
                % (n, forward_ms, step_ms, "-" if epoch_s is None else "%.2f s" % epoch_s,
                   time.perf_counter() - t0))
    print(json.dumps({
        "device": a.device,
        "gpu": torch.cuda.get_device_name(0) if a.device == "cuda" else None,
        "torch": torch.__version__, "numpy": np.__version__, "defaultThreads": default_threads,
        "cpuCount": cpus, "rows": rows, "crosscheck": crosscheck, "matmulGflops": blas_gflops,
    }))


if __name__ == "__main__":
    main()
