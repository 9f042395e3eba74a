"""Fixtures for tests/egnn/torch_nbody_training_test.ts: the N-body EGNN_vel, GNN and RF_vel of
nbody_models.py (hidden 16), their initial weights, and 12 Adam steps as main_nbody.py takes them
(MSE on the target positions, the reference's learning rates, weight decay 1e-12) on random
batches of 4 systems of 5 particles, so that the WebGPU trainer can replay the same steps and must
reach the same losses and weights.

Run from bench/torch: python3 make_nbody_training_fixtures.py
"""
import numpy as np
import torch

from nbody_models import EGNN_vel, GNN, RF_vel, fully_connected_edges, nbody_inputs

STEPS, B, N, H = 12, 4, 5, 16
OUT = "../../tests/fixtures/"
LR = {"egnn": 5e-4, "gnn": 1e-3, "rf": 2e-4}

for name, make in (("egnn", EGNN_vel), ("gnn", GNN), ("rf", RF_vel)):
    torch.manual_seed(5)
    model = make(hidden_nf=H)
    sd = {k: v.detach().numpy().astype(np.float32).copy() for k, v in model.state_dict().items()}
    np.savez(OUT + f"torch_nbody_{name}_weights0.npz", **sd)
    opt = torch.optim.Adam(model.parameters(), lr=LR[name], weight_decay=1e-12)
    edges = fully_connected_edges(N, B)
    gen = torch.Generator().manual_seed(9)
    data = {"steps": np.array([STEPS]), "batch": np.array([B]), "n_nodes": np.array([N])}
    for s in range(STEPS):
        loc = torch.randn(B * N, 3, generator=gen)
        vel = torch.randn(B * N, 3, generator=gen) * 0.5
        charges = torch.randint(0, 2, (B * N, 1), generator=gen).float() * 2 - 1
        target = loc + vel + 0.1 * torch.randn(B * N, 3, generator=gen)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(*nbody_inputs(loc, vel, charges, edges)[name]),
                                            target)
        loss.backward()
        opt.step()
        for k, v in (("loc", loc), ("vel", vel), ("charges", charges), ("target", target)):
            data[f"{k}{s}"] = v.numpy()
        data[f"loss{s}"] = np.array([loss.item()], dtype=np.float32)
    np.savez(OUT + f"torch_nbody_{name}_steps.npz", **data)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    np.savez(OUT + f"torch_nbody_{name}_weights{STEPS}.npz", **sd)
    print(name, [round(float(data[f"loss{s}"][0]), 5) for s in range(STEPS)])
