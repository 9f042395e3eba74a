"""Fixtures for tests/egnn/torch_ae_training_test.ts: each autoencoder of ae_models.py (small
widths), its initial weights, and 12 Adam steps (lr 1e-3, one graph per step, the summed BCE on
logits) on random Erdős–Rényi graphs with the per-forward noise drawn here and saved, so the
WebGPU trainer can replay the same steps and must reach the same weights and losses.

Run from bench/torch: python3 make_ae_fixtures.py (writes ../../tests/fixtures/torch_ae_*.npz).
"""
import numpy as np
import torch

from ae_models import make_model

STEPS, HIDDEN, LAYERS, K = 12, 16, 2, 4
OUT = "../../tests/fixtures/"


def encode_with(model, encoder, n, edges, attr, noise):
    """The model's encode with the given noise instead of a fresh draw."""
    if encoder in ("gnn", "noise_gnn"):
        h = torch.ones(n, 1) if encoder == "gnn" else noise
        for i in range(model.n_layers):
            h = model._modules["gcl_%d" % i](h, edges, attr)
        return model.fc_emb(h)
    x = noise
    if encoder == "rf":
        for i in range(model.n_layers):
            x = model._modules["gcl_%d" % i](x, edges, attr)
        return x
    h = torch.ones(n, 1)
    for i in range(model.n_layers):
        h, x = model._modules["gcl_%d" % i](h, edges, x, attr)
        x = x - model.reg * x
    return x


def state(model):
    return {k: (v.numpy().reshape(1, 1) if k == "w" else v.numpy().copy())
            for k, v in model.state_dict().items() if not k.startswith("gcl.")}


for encoder in ("egnn", "rf", "gnn", "noise_gnn"):
    torch.manual_seed(3)
    model = make_model(encoder, K=K, hidden_nf=HIDDEN, n_layers=LAYERS)
    np.savez(OUT + f"torch_ae_{encoder}_weights0.npz", **state(model))
    opt = torch.optim.Adam([p for k, p in model.named_parameters() if not k.startswith("gcl.")],
                           lr=1e-3, weight_decay=1e-16)
    rng = np.random.default_rng(7)
    data = {"steps": np.array([STEPS])}
    for s in range(STEPS):
        n = int(rng.integers(5, 10))
        a = np.triu((rng.random((n, n)) < 0.3).astype(np.float32), 1)
        a = a + a.T
        rows, cols = zip(*[(i, j) for i in range(n) for j in range(n) if i != j])
        edges = (torch.tensor(rows), torch.tensor(cols))
        attr = torch.tensor([[a[i, j]] for i, j in zip(rows, cols)])
        noise = torch.randn(n, 1 if encoder == "noise_gnn" else K)
        opt.zero_grad()
        z = encode_with(model, encoder, n, edges, attr, noise)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model.edge_logits(z, edges), attr, reduction="sum")
        loss.backward()
        opt.step()
        data[f"n{s}"] = np.array([n])
        data[f"adjacency{s}"] = attr.numpy()
        data[f"noise{s}"] = noise.numpy()
        data[f"loss{s}"] = np.array([loss.item()], dtype=np.float32)
    np.savez(OUT + f"torch_ae_{encoder}_steps.npz", **data)
    np.savez(OUT + f"torch_ae_{encoder}_weights{STEPS}.npz", **state(model))
    print(encoder, [round(float(data[f"loss{s}"][0]), 3) for s in range(STEPS)])
