"""Trains one of our PyTorch graph auto-encoders (ae_models.py) with the reference's protocol
(main_ae.py), on graphs exported by bench/ae_export.ts — exactly the graphs our toolkit trains on:

  Adam (lr, weight decay 1e-16), one graph per optimiser step (--graphs-per-step), the loss the
  per-graph BCE summed over the adjacency (diagonal zeroed), CosineAnnealingLR(T_max = epochs)
  stepped at the start of every epoch with the epoch index (lr_e = lr (1 + cos(pi e / E)) / 2),
  validation and test every --eval-every epochs (epoch % k == 0, as the reference; with
  --eval-last also the last epoch, as our toolkit), test metrics reported at the lowest
  validation BCE. Shuffling: Python random.Random(seed) at the start of every epoch; parameters
  and the per-forward noise: torch.manual_seed(seed) (the reference's default seed 1).

Metrics as the reference's eval.py, pooled over a split, threshold 0.5: % error = wrong
off-diagonal entries / sum(n^2 - n); F1 = TP / (TP + (FP + FN) / 2); BCE = mean over graphs of
the per-graph summed BCE (sigmoid probabilities, torch's log clamp at -100). With --loss logits
the loss and the reported BCE are BCE-with-logits instead, as our toolkit computes them: the same
values while |logit| < ~17, but a saturated logit still gets a gradient (with the reference's form
a model whose sigmoids saturate gets none and stays there).

Prints one line per evaluation and, last, one JSON line with the result at the best validation
BCE, the whole curve (with the largest single-graph training BCE of each evaluated epoch, to
spot blow-ups) and the median milliseconds per training step (forward, backward, Adam).

  python3 train_ae.py --data /tmp/ae_er.json --encoder egnn --epochs 2 --eval-every 1
"""
import argparse
import json
import math
import random
import statistics
import time

import torch
from torch import nn

from ae_models import GraphTensors, decode_dense, make_model, n_params, union

p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="JSON from bench/ae_export.ts")
p.add_argument("--encoder", default="egnn", choices=["egnn", "gnn", "noise_gnn", "rf"])
p.add_argument("--epochs", type=int, default=100)
p.add_argument("--lr", type=float, default=1e-4)
p.add_argument("--weight-decay", type=float, default=1e-16)
p.add_argument("--schedule", default="cosine", choices=["cosine", "none"])
p.add_argument("--train-limit", type=int, default=0, help="use only the first N training graphs")
p.add_argument("--eval-every", type=int, default=2)
p.add_argument("--eval-last", action="store_true", help="also evaluate after the last epoch")
p.add_argument("--eval-batch", type=int, default=50, help="graphs per evaluation forward pass")
p.add_argument("--graphs-per-step", type=int, default=1)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--K", type=int, default=8, help="embedding width (K = emb_nf)")
p.add_argument("--hidden", type=int, default=64)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--reg", type=float, default=1e-3)
p.add_argument("--dense", action="store_true",
               help="train decoding all n^2 pairs with the diagonal zeroed, as the reference "
                    "(1 graph/step, reference loss; the same loss as the default edge-wise form)")
p.add_argument("--loss", default="reference", choices=["reference", "logits"],
               help="reference: BCE of sigmoid probabilities (log clamped at -100; a saturated "
                    "sigmoid passes no gradient); logits: BCE with logits, as our toolkit")
p.add_argument("--threads", type=int, default=1)
p.add_argument("--label", default="")
args = p.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
rng = random.Random(args.seed)

with open(args.data) as f:
    raw = json.load(f)
same_val_test = raw["val"] == raw["test"]
train = [GraphTensors(g) for g in raw["train"]]
if args.train_limit:
    train = train[:args.train_limit]
val = [GraphTensors(g) for g in raw["val"]]
test = val if same_val_test else [GraphTensors(g) for g in raw["test"]]
if args.dense and (args.graphs_per_step != 1 or args.loss != "reference"):
    raise SystemExit("--dense decodes one graph per step with the reference's loss")

model = make_model(args.encoder, K=args.K, hidden_nf=args.hidden, n_layers=args.layers,
                   reg=args.reg)
opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
bce = nn.functional.binary_cross_entropy
bce_logits = nn.functional.binary_cross_entropy_with_logits


def loss_of(graphs):
    """Summed BCE over the graphs (their off-diagonal entries)."""
    n, edges, attr = union(graphs)
    z = model.encode(n, edges, attr)
    if args.dense:
        g = graphs[0]
        prob = decode_dense(model, z)
        return bce(prob.view(-1, 1), g.adj.view(-1, 1), reduction="sum")
    logits = model.edge_logits(z, edges)
    if args.loss == "logits":
        return bce_logits(logits, attr, reduction="sum")
    return bce(torch.sigmoid(logits), attr, reduction="sum")


def evaluate(graphs):
    model.eval()
    tot = {"bce": 0.0, "tp": 0.0, "fp": 0.0, "fn": 0.0, "entries": 0}
    with torch.no_grad():
        for s in range(0, len(graphs), args.eval_batch):
            chunk = graphs[s:s + args.eval_batch]
            n, edges, attr = union(chunk)
            logits = model.edge_logits(model.encode(n, edges, attr), edges)
            prob = torch.sigmoid(logits)
            if args.loss == "logits":
                tot["bce"] += bce_logits(logits, attr, reduction="sum").item()
            else:
                tot["bce"] += bce(prob, attr, reduction="sum").item()
            pred = (prob > 0.5).float()
            tot["tp"] += (pred * attr).sum().item()
            tot["fp"] += (pred * (1 - attr)).sum().item()
            tot["fn"] += ((1 - pred) * attr).sum().item()
            tot["entries"] += attr.size(0)
    model.train()
    wrong = tot["fp"] + tot["fn"]
    denom = tot["tp"] + 0.5 * wrong
    return {
        "bce": tot["bce"] / len(graphs),
        "pct_error": 100.0 * wrong / tot["entries"],
        "f1": tot["tp"] / denom if denom > 0 else 0.0,
        "wrong": int(wrong),
        "entries": tot["entries"],
    }


def lr_at(epoch):
    if args.schedule == "none":
        return args.lr
    return args.lr * (1 + math.cos(math.pi * epoch / args.epochs)) / 2


label = args.label or args.encoder
print("# %s: %d parameters; %d train / %d val / %d test graphs%s; lr %g, %d epochs, "
      "%d graph(s) per step, seed %d, K %d"
      % (label, n_params(model), len(train), len(val), len(test),
         " (val = test)" if same_val_test else "", args.lr, args.epochs, args.graphs_per_step,
         args.seed, args.K), flush=True)
print("# epoch  train_bce  val_bce  test_bce  test_%err  test_F1  val_%err  val_F1  seconds  "
      "max_step_bce",
      flush=True)

t0 = time.perf_counter()
step_ms = []
curve = []
best = {"epoch": -1, "val_bce": float("inf"), "test": None}
order = list(range(len(train)))
gps = args.graphs_per_step
for epoch in range(args.epochs):
    for group in opt.param_groups:
        group["lr"] = lr_at(epoch)
    rng.shuffle(order)
    total = 0.0
    worst = 0.0
    for s in range(0, len(order), gps):
        graphs = [train[i] for i in order[s:s + gps]]
        ts = time.perf_counter()
        opt.zero_grad()
        loss = loss_of(graphs)
        loss.backward()
        opt.step()
        step_ms.append((time.perf_counter() - ts) * 1000)
        total += loss.item()
        worst = max(worst, loss.item() / len(graphs))
    train_bce = total / len(train)
    if not math.isfinite(train_bce):
        raise SystemExit("%s: training loss %s in epoch %d" % (label, train_bce, epoch))
    if epoch % args.eval_every == 0 or (args.eval_last and epoch == args.epochs - 1):
        v = evaluate(val)
        t = v if same_val_test else evaluate(test)
        point = {"epoch": epoch, "steps": (epoch + 1) * math.ceil(len(train) / gps),
                 "train_bce": train_bce, "train_max_step_bce": worst, "val_bce": v["bce"], "val_pct_error": v["pct_error"],
                 "val_f1": v["f1"], "test_bce": t["bce"], "test_pct_error": t["pct_error"],
                 "test_f1": t["f1"], "seconds": time.perf_counter() - t0}
        curve.append(point)
        if v["bce"] < best["val_bce"]:
            best = {"epoch": epoch, "val_bce": v["bce"], "test": t}
        print("%6d  %9.3f  %7.3f  %8.3f  %9.3f  %7.4f  %8.3f  %6.4f  %7.1f  %12.1f"
              % (epoch, train_bce, v["bce"], t["bce"], t["pct_error"], t["f1"], v["pct_error"],
                 v["f1"], point["seconds"], worst), flush=True)

result = {
    "label": label, "encoder": args.encoder, "data": args.data, "params": n_params(model),
    "train_graphs": len(train), "epochs": args.epochs, "lr": args.lr, "seed": args.seed,
    "K": args.K, "graphs_per_step": gps, "loss": args.loss, "best_epoch": best["epoch"],
    "best_val_bce": best["val_bce"], "test": best["test"],
    "ms_per_step_median": statistics.median(step_ms) if step_ms else None,
    "wall_s": time.perf_counter() - t0, "curve": curve,
}
print(json.dumps(result), flush=True)
