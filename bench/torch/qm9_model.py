"""Our own PyTorch implementation of the reference's QM9 model (qm9/models.py): molecules padded
to the largest in the batch, `edge_mask`/`node_mask`, all n^2 ordered pairs per molecule with the
i = i pairs masked out — the reference's padded form, to cross-check our unpadded batches.
"""
import torch
from torch import nn


class EGCLMask(nn.Module):
    """E_GCL_mask: eq. 3 + eq. 8 (attention), masked messages, no coordinate update."""

    def __init__(self, nf, hidden, node_attr_dim=0, act=nn.SiLU()):
        super().__init__()
        self.edge_mlp = nn.Sequential(nn.Linear(2 * nf + 1, hidden), act,
                                      nn.Linear(hidden, hidden), act)
        self.node_mlp = nn.Sequential(nn.Linear(hidden + nf + node_attr_dim, hidden), act,
                                      nn.Linear(hidden, nf))
        self.att_mlp = nn.Sequential(nn.Linear(hidden, 1), nn.Sigmoid())

    def forward(self, h, edges, x, edge_mask, node_attr=None):
        row, col = edges
        radial = ((x[row] - x[col]) ** 2).sum(1, keepdim=True)
        m = self.edge_mlp(torch.cat([h[row], h[col], radial], 1))
        m = m * self.att_mlp(m) * edge_mask
        agg = h.new_zeros((h.size(0), m.size(1))).index_add_(0, row, m)
        parts = [h, agg] + ([node_attr] if node_attr is not None else [])
        return h + self.node_mlp(torch.cat(parts, 1))


class QM9EGNN(nn.Module):
    def __init__(self, in_node_nf=15, hidden_nf=128, n_layers=7, node_attr=0):
        super().__init__()
        self.n_layers = n_layers
        self.node_attr = node_attr
        self.embedding = nn.Linear(in_node_nf, hidden_nf)
        for i in range(n_layers):
            self.add_module("gcl_%d" % i, EGCLMask(hidden_nf, hidden_nf,
                                                   in_node_nf if node_attr else 0))
        self.node_dec = nn.Sequential(nn.Linear(hidden_nf, hidden_nf), nn.SiLU(),
                                      nn.Linear(hidden_nf, hidden_nf))
        self.graph_dec = nn.Sequential(nn.Linear(hidden_nf, hidden_nf), nn.SiLU(),
                                       nn.Linear(hidden_nf, 1))

    def forward(self, h0, x, edges, node_mask, edge_mask, n_nodes):
        h = self.embedding(h0)
        for i in range(self.n_layers):
            h = self._modules["gcl_%d" % i](h, edges, x, edge_mask,
                                            h0 if self.node_attr else None)
        h = self.node_dec(h) * node_mask
        h = h.view(-1, n_nodes, h.size(1)).sum(1)
        return self.graph_dec(h).squeeze(1)


def padded_batch(charges_list, positions_list):
    """Pads molecules to the largest one; features one-hot(H,C,N,O,F) x (Z/9)^0..2."""
    species = [1, 6, 7, 8, 9]
    B, n = len(charges_list), max(len(c) for c in charges_list)
    h0 = torch.zeros(B * n, 15)
    x = torch.zeros(B * n, 3)
    node_mask = torch.zeros(B * n, 1)
    for b, (zs, pos) in enumerate(zip(charges_list, positions_list)):
        for a, z in enumerate(zs):
            s = species.index(z)
            for p in range(3):
                h0[b * n + a, 3 * s + p] = (z / 9.0) ** p
            x[b * n + a] = torch.tensor(pos[a])
            node_mask[b * n + a] = 1
    rows, cols, emask = [], [], []
    for b in range(B):
        for i in range(n):
            for j in range(n):
                rows.append(b * n + i)
                cols.append(b * n + j)
                emask.append(float(node_mask[b * n + i] * node_mask[b * n + j] * (i != j)))
    edges = [torch.LongTensor(rows), torch.LongTensor(cols)]
    return h0, x, edges, node_mask, torch.tensor(emask).unsqueeze(1), n
