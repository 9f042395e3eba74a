"""Writes the PyTorch cross-check fixtures to tests/fixtures/: for EGNN_vel, GNN and RF_vel (4
layers, hidden 16; and the QM9 model, 3 layers, hidden 16, on 3 molecules padded as the reference pads) to keep the files small), the state dict as .npz under PyTorch's own names
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
from qm9_model import QM9EGNN, padded_batch  # noqa: E402

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

# The QM9 model on 3 molecules of 4, 2 and 5 atoms, padded to 5 as the reference's collate does.
charges = [[6, 1, 1, 8], [7, 1], [6, 6, 9, 1, 7]]
positions = [torch.randn(len(c), 3).tolist() for c in charges]
h0, x, qedges, node_mask, edge_mask, n = padded_batch(charges, positions)
qm9 = QM9EGNN(hidden_nf=H, n_layers=3)
with torch.no_grad():
    for p in qm9.parameters():
        p.add_(torch.randn_like(p) * 0.1)
    out = qm9(h0, x, qedges, node_mask, edge_mask, n)
sd = {k: v.detach().numpy().astype(np.float32) for k, v in qm9.state_dict().items()}
np.savez(os.path.join(out_dir, "torch_qm9_weights.npz"), **sd)
flat_z = np.array([z for c in charges for z in c], dtype=np.float64)
flat_pos = np.array([p for ps in positions for p in ps], dtype=np.float64)
np.savez(os.path.join(out_dir, "torch_qm9_io.npz"), charges=flat_z, positions=flat_pos,
         sizes=np.array([len(c) for c in charges]), out=out.numpy())
print("qm9", sum(p.numel() for p in qm9.parameters()), "parameters; output", tuple(out.shape))
print("qm9 full size:", sum(p.numel() for p in QM9EGNN().parameters()), "parameters")
