"""Our own PyTorch implementation of the reference's N-body models, with the reference's module
names and layouts (see ../../../shared/spec/reference_implementation.md §1-2, or the project's
README): EGNN_vel (E_GCL_vel layers), GNN (GCL layers) and RF_vel (GCL_rf_vel layers).

Used by the side-by-side benchmark and to make the cross-check fixtures; never a runtime
dependency of the toolkit.
"""
import torch
from torch import nn


def segment_sum(data, segment_ids, num_segments):
    out = data.new_zeros((num_segments, data.size(1)))
    return out.index_add_(0, segment_ids, data)


def segment_mean(data, segment_ids, num_segments):
    total = segment_sum(data, segment_ids, num_segments)
    count = segment_sum(torch.ones_like(data), segment_ids, num_segments)
    return total / count.clamp(min=1)


class EGCLVel(nn.Module):
    """E_GCL_vel: eqs. 3-7 with phi_v on the layer's input h and the network's input velocity."""

    def __init__(self, nf, hidden, edges_in_d, act=nn.SiLU(), coords_weight=1.0):
        super().__init__()
        self.coords_weight = coords_weight
        self.edge_mlp = nn.Sequential(nn.Linear(2 * nf + 1 + edges_in_d, hidden), act,
                                      nn.Linear(hidden, hidden), act)
        self.node_mlp = nn.Sequential(nn.Linear(hidden + nf, hidden), act, nn.Linear(hidden, nf))
        last = nn.Linear(hidden, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.coord_mlp = nn.Sequential(nn.Linear(hidden, hidden), act, last)
        self.coord_mlp_vel = nn.Sequential(nn.Linear(nf, hidden), act, nn.Linear(hidden, 1))

    def forward(self, h, edges, x, vel, edge_attr):
        row, col = edges
        n = h.size(0)
        diff = x[row] - x[col]
        radial = (diff ** 2).sum(1, keepdim=True)
        m = self.edge_mlp(torch.cat([h[row], h[col], radial, edge_attr], 1))
        trans = torch.clamp(diff * self.coord_mlp(m), -100, 100)
        x = x + segment_mean(trans, row, n) * self.coords_weight
        x = x + self.coord_mlp_vel(h) * vel
        h = h + self.node_mlp(torch.cat([h, segment_sum(m, row, n)], 1))
        return h, x


class EGNN_vel(nn.Module):
    def __init__(self, in_node_nf=1, in_edge_nf=2, hidden_nf=64, n_layers=4):
        super().__init__()
        self.n_layers = n_layers
        self.embedding = nn.Linear(in_node_nf, hidden_nf)
        for i in range(n_layers):
            self.add_module("gcl_%d" % i, EGCLVel(hidden_nf, hidden_nf, in_edge_nf))

    def forward(self, h, x, edges, vel, edge_attr):
        h = self.embedding(h)
        for i in range(self.n_layers):
            h, x = self._modules["gcl_%d" % i](h, edges, x, vel, edge_attr)
        return x


class GCL(nn.Module):
    def __init__(self, nf, hidden, edges_in_nf, act=nn.SiLU(), recurrent=True):
        super().__init__()
        self.recurrent = recurrent
        self.edge_mlp = nn.Sequential(nn.Linear(2 * nf + edges_in_nf, hidden), act,
                                      nn.Linear(hidden, hidden), act)
        self.node_mlp = nn.Sequential(nn.Linear(hidden + nf, hidden), act, nn.Linear(hidden, nf))

    def forward(self, h, edges, edge_attr):
        row, col = edges
        m = self.edge_mlp(torch.cat([h[row], h[col], edge_attr], 1))
        out = self.node_mlp(torch.cat([h, segment_sum(m, row, h.size(0))], 1))
        return h + out if self.recurrent else out


class GNN(nn.Module):
    def __init__(self, input_dim=6, hidden_nf=64, n_layers=4):
        super().__init__()
        self.n_layers = n_layers
        for i in range(n_layers):
            self.add_module("gcl_%d" % i, GCL(hidden_nf, hidden_nf, 1))
        self.decoder = nn.Sequential(nn.Linear(hidden_nf, hidden_nf), nn.SiLU(),
                                     nn.Linear(hidden_nf, 3))
        self.embedding = nn.Sequential(nn.Linear(input_dim, hidden_nf))

    def forward(self, nodes, edges, edge_attr):
        h = self.embedding(nodes)
        for i in range(self.n_layers):
            h = self._modules["gcl_%d" % i](h, edges, edge_attr)
        return self.decoder(h)


class GCLRFVel(nn.Module):
    def __init__(self, nf=64, edge_attr_nf=2, act=nn.SiLU()):
        super().__init__()
        self.coord_mlp_vel = nn.Sequential(nn.Linear(1, nf), act, nn.Linear(nf, 1))
        last = nn.Linear(nf, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.phi = nn.Sequential(nn.Linear(1 + edge_attr_nf, nf), act, last, nn.Tanh())

    def forward(self, x, vel_norm, vel, edges, edge_attr):
        row, col = edges
        diff = x[row] - x[col]
        radial = torch.sqrt((diff ** 2).sum(1, keepdim=True))
        m = diff * self.phi(torch.cat([radial, edge_attr], 1))
        x = x + segment_mean(m, row, x.size(0))
        return x + vel * self.coord_mlp_vel(vel_norm)


class RF_vel(nn.Module):
    def __init__(self, hidden_nf=64, edge_attr_nf=2, n_layers=4):
        super().__init__()
        self.n_layers = n_layers
        for i in range(n_layers):
            self.add_module("gcl_%d" % i, GCLRFVel(hidden_nf, edge_attr_nf))

    def forward(self, vel_norm, x, edges, vel, edge_attr):
        for i in range(self.n_layers):
            x = self._modules["gcl_%d" % i](x, vel_norm, vel, edges, edge_attr)
        return x


def fully_connected_edges(n_nodes, batch):
    """All i != j per system, i-major, with per-system offsets (the reference's order)."""
    rows, cols = [], []
    for b in range(batch):
        for i in range(n_nodes):
            for j in range(n_nodes):
                if i != j:
                    rows.append(b * n_nodes + i)
                    cols.append(b * n_nodes + j)
    return [torch.LongTensor(rows), torch.LongTensor(cols)]


def nbody_inputs(loc, vel, charges, edges):
    """Node and edge inputs of each model, as main_nbody.py builds them."""
    row, col = edges
    qq = charges[row] * charges[col]
    dist2 = ((loc[row] - loc[col]) ** 2).sum(1, keepdim=True)
    vel_norm = torch.sqrt((vel ** 2).sum(1, keepdim=True))
    return {
        "egnn": (vel_norm, loc, edges, vel, torch.cat([qq, dist2], 1)),
        "gnn": (torch.cat([loc, vel], 1), edges, qq),
        "rf": (vel_norm, loc, edges, vel, torch.cat([qq, dist2], 1)),
    }
