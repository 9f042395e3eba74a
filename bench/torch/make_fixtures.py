"""Writes the PyTorch cross-check fixtures to tests/fixtures/: for EGNN_vel, GNN and RF_vel (4
layers, hidden 16 to keep the files small), the state dict as .npz under PyTorch's own names
(exactly what a user exports from a reference-trained model) and an .npz of inputs and outputs
of a batch of 3 systems of 5 particles.

    /usr/bin/python3 bench/torch/make_fixtures.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from nbody_models import EGNN_vel, GNN, RF_vel, fully_connected_edges, nbody_inputs  # noqa: E402

out_dir = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")
os.makedirs(out_dir, exist_ok=True)
torch.manual_seed(11)
B, N, H = 3, 5, 16
edges = fully_connected_edges(N, B)
loc = torch.randn(B * N, 3)
vel = torch.randn(B * N, 3) * 0.5
charges = torch.randint(0, 2, (B * N, 1)).float() * 2 - 1
inputs = nbody_inputs(loc, vel, charges, edges)
models = {"egnn": EGNN_vel(hidden_nf=H), "gnn": GNN(hidden_nf=H), "rf": RF_vel(hidden_nf=H)}
for name, model in models.items():
    # Random biases and larger phi_x weights so every path contributes measurably.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        out = model(*inputs[name])
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    np.savez(os.path.join(out_dir, "torch_%s_weights.npz" % name), **sd)
    np.savez(os.path.join(out_dir, "torch_%s_io.npz" % name), loc=loc.numpy(), vel=vel.numpy(),
             charges=charges.numpy(), out=out.numpy(), n_nodes=np.array([N]), batch=np.array([B]))
    print(name, sum(p.numel() for p in model.parameters()), "parameters; output", tuple(out.shape))
