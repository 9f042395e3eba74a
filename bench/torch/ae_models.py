"""Our own PyTorch implementation of the reference's graph auto-encoders (models/ae.py), with the
reference's module names and layouts (see ../../../shared/spec/reference_implementation.md §1, §5,
or the project's README): AE (GCL encoder + fc_emb, fc_dec decoder; with noise_dim 1 the
Noise-GNN), AE_rf (GCL_rf layers, plus the reference's unused `gcl` layer) and AE_EGNN (E_GCL
layers), the last two decoded by sigmoid(w ||z_i - z_j||^2 + b).

Parameter counts at the reference's settings (64 hidden, 4 layers, K = emb_nf = 8):
AE 88,017, AE_rf 1,218, AE_EGNN 104,642.

Graphs are fully connected directed edge lists (all i != j, i-major, as the reference's
Graph._dense2attributes); the edge attribute is the adjacency a_ij. The decoder is evaluated on
those edges only: the reference decodes all n^2 pairs and multiplies the diagonal by 0, which then
adds exactly 0 to the summed BCE and is never predicted present, so the two are the same (see
`decode_dense`, the reference's form, and `check_decoders`). Several graphs may share one forward
pass as a disjoint union (edges offset per graph).

Used by the side-by-side autoencoder benchmark (train_ae.py); never a runtime dependency of the
toolkit.
"""
import torch
from torch import nn

from nbody_models import segment_mean, segment_sum


class GCL(nn.Module):
    """The reference's GCL: m_ij = phi_e([h_i, h_j, a_ij]), h_i <- [h_i +] phi_h([h_i, sum_j m_ij])."""

    def __init__(self, input_nf, output_nf, hidden_nf, edges_in_nf=1, act=nn.SiLU(),
                 recurrent=True):
        super().__init__()
        self.recurrent = recurrent
        self.edge_mlp = nn.Sequential(nn.Linear(2 * input_nf + edges_in_nf, hidden_nf), act,
                                      nn.Linear(hidden_nf, hidden_nf), act)
        self.node_mlp = nn.Sequential(nn.Linear(hidden_nf + input_nf, hidden_nf), act,
                                      nn.Linear(hidden_nf, output_nf))

    def forward(self, h, edges, edge_attr):
        row, col = edges
        m = self.edge_mlp(torch.cat([h[row], h[col], edge_attr], 1))
        out = self.node_mlp(torch.cat([h, segment_sum(m, row, h.size(0))], 1))
        return h + out if self.recurrent else out


class GCLRF(nn.Module):
    """The reference's GCL_rf: m_ij = (x_i - x_j) phi([||x_i - x_j||, a_ij]) clamped to +-100,
    x_i <- x_i + mean_j m_ij - reg x_i."""

    def __init__(self, nf=64, edge_attr_nf=0, reg=0.0, act=nn.LeakyReLU(0.2), clamp=False):
        super().__init__()
        self.clamp = clamp
        self.reg = reg
        last = nn.Linear(nf, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.phi = nn.Sequential(nn.Linear(edge_attr_nf + 1, nf), act, last)

    def forward(self, x, edges, edge_attr):
        row, col = edges
        diff = x[row] - x[col]
        radial = torch.sqrt((diff ** 2).sum(1, keepdim=True))
        m = diff * self.phi(torch.cat([radial, edge_attr], 1))
        if self.clamp:
            m = torch.clamp(m, -100, 100)
        return x + segment_mean(m, row, x.size(0)) - x * self.reg


class EGCL(nn.Module):
    """The reference's E_GCL (models/gcl.py) as the autoencoder uses it: squared distance, edge
    attribute after it, coordinate messages clamped to +-100 and averaged, h summed."""

    def __init__(self, input_nf, output_nf, hidden_nf, edges_in_d=1, act=nn.SiLU(),
                 recurrent=True, coords_weight=1.0):
        super().__init__()
        self.recurrent = recurrent
        self.coords_weight = coords_weight
        self.edge_mlp = nn.Sequential(nn.Linear(2 * input_nf + 1 + edges_in_d, hidden_nf), act,
                                      nn.Linear(hidden_nf, hidden_nf), act)
        self.node_mlp = nn.Sequential(nn.Linear(hidden_nf + input_nf, hidden_nf), act,
                                      nn.Linear(hidden_nf, output_nf))
        last = nn.Linear(hidden_nf, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.coord_mlp = nn.Sequential(nn.Linear(hidden_nf, hidden_nf), act, last)

    def forward(self, h, edges, x, edge_attr):
        row, col = edges
        diff = x[row] - x[col]
        radial = (diff ** 2).sum(1, keepdim=True)
        m = self.edge_mlp(torch.cat([h[row], h[col], radial, edge_attr], 1))
        trans = torch.clamp(diff * self.coord_mlp(m), -100, 100)
        x = x + segment_mean(trans, row, x.size(0)) * self.coords_weight
        out = self.node_mlp(torch.cat([h, segment_sum(m, row, h.size(0))], 1))
        return (h + out if self.recurrent else out), x


class AE(nn.Module):
    """GNN / Noise-GNN autoencoder (`--model ae`, `--noise_dim 0|1`)."""

    def __init__(self, hidden_nf=64, embedding_nf=8, noise_dim=0, n_layers=4, act=nn.SiLU()):
        super().__init__()
        self.noise_dim = noise_dim
        self.n_layers = n_layers
        self.add_module("gcl_0", GCL(max(1, noise_dim), hidden_nf, hidden_nf, 1, act,
                                     recurrent=False))
        for i in range(1, n_layers):
            self.add_module("gcl_%d" % i, GCL(hidden_nf, hidden_nf, hidden_nf, 1, act))
        self.fc_emb = nn.Linear(hidden_nf, embedding_nf)
        self.fc_dec = nn.Linear(embedding_nf, 1)

    def encode(self, n_nodes, edges, edge_attr):
        if self.noise_dim:
            h = torch.randn(n_nodes, self.noise_dim)
        else:
            h = torch.ones(n_nodes, 1)
        for i in range(self.n_layers):
            h = self._modules["gcl_%d" % i](h, edges, edge_attr)
        return self.fc_emb(h)

    def edge_logits(self, z, edges):
        row, col = edges
        return self.fc_dec((z[row] - z[col]) ** 2)


class DistanceDecoded(nn.Module):
    """sigmoid(w ||z_i - z_j||^2 + b), w init -0.1, b init 1 (AE_rf, AE_EGNN)."""

    def _init_decoder(self):
        self.w = nn.Parameter(-0.1 * torch.ones(1))
        self.b = nn.Parameter(torch.ones(1))

    def edge_logits(self, z, edges):
        row, col = edges
        return self.w * ((z[row] - z[col]) ** 2).sum(1, keepdim=True) + self.b


class AE_rf(DistanceDecoded):
    """Radial Field autoencoder (`--model ae_rf`); `gcl` is the reference's unused extra layer
    (GCL_rf(nf, reg) with its default LeakyReLU and no edge attribute: 192 parameters)."""

    def __init__(self, embedding_nf=8, nf=64, n_layers=4, act=nn.SiLU(), reg=1e-3, clamp=True):
        super().__init__()
        self.embedding_nf = embedding_nf
        self.n_layers = n_layers
        self.gcl = GCLRF(nf, reg=reg)
        for i in range(n_layers):
            self.add_module("gcl_%d" % i, GCLRF(nf, edge_attr_nf=1, reg=reg, act=act,
                                                clamp=clamp))
        self._init_decoder()

    def encode(self, n_nodes, edges, edge_attr):
        x = torch.randn(n_nodes, self.embedding_nf)
        for i in range(self.n_layers):
            x = self._modules["gcl_%d" % i](x, edges, edge_attr)
        return x


class AE_EGNN(DistanceDecoded):
    """EGNN autoencoder (`--model ae_egnn`): h = 1, x ~ N(0, I_K) at every forward, x <- x - reg x
    after every layer, z = the final x."""

    def __init__(self, hidden_nf=64, K=8, n_layers=4, act=nn.SiLU(), reg=1e-3):
        super().__init__()
        self.K = K
        self.n_layers = n_layers
        self.reg = reg
        self.add_module("gcl_0", EGCL(1, hidden_nf, hidden_nf, 1, act, recurrent=False))
        for i in range(1, n_layers):
            self.add_module("gcl_%d" % i, EGCL(hidden_nf, hidden_nf, hidden_nf, 1, act))
        self._init_decoder()

    def encode(self, n_nodes, edges, edge_attr):
        x = torch.randn(n_nodes, self.K)
        h = torch.ones(n_nodes, 1)
        for i in range(self.n_layers):
            h, x = self._modules["gcl_%d" % i](h, edges, x, edge_attr)
            x = x - self.reg * x
        return x


def make_model(encoder, K=8, hidden_nf=64, n_layers=4, reg=1e-3):
    """The reference's main_ae.py models: egnn | gnn | noise_gnn | rf."""
    if encoder == "egnn":
        return AE_EGNN(hidden_nf, K=K, n_layers=n_layers, reg=reg)
    if encoder == "rf":
        return AE_rf(embedding_nf=K, nf=hidden_nf, n_layers=n_layers, reg=reg, clamp=True)
    if encoder in ("gnn", "noise_gnn"):
        return AE(hidden_nf, embedding_nf=K, noise_dim=1 if encoder == "noise_gnn" else 0,
                  n_layers=n_layers)
    raise ValueError("unknown encoder %s" % encoder)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def fully_connected(n):
    """All i != j, i-major (the reference's Graph._dense2attributes order)."""
    rows = [i for i in range(n) for j in range(n) if i != j]
    cols = [j for i in range(n) for j in range(n) if i != j]
    return torch.LongTensor(rows), torch.LongTensor(cols)


class GraphTensors:
    """One graph, from {n, edges: [[i, j], ...]} (undirected, i < j): the fully connected edge
    list, the edge attribute/target a_ij (E x 1) and the dense adjacency."""

    _edges = {}

    def __init__(self, g):
        n = g["n"]
        self.n = n
        adj = torch.zeros(n, n)
        for i, j in g["edges"]:
            adj[i, j] = adj[j, i] = 1.0
        self.adj = adj
        if n not in GraphTensors._edges:
            GraphTensors._edges[n] = fully_connected(n)
        self.edges = GraphTensors._edges[n]
        self.attr = adj[self.edges[0], self.edges[1]].unsqueeze(1)


def union(graphs):
    """Disjoint union of GraphTensors: (n_nodes, [row, col], attr)."""
    if len(graphs) == 1:
        g = graphs[0]
        return g.n, g.edges, g.attr
    rows, cols, attrs, off = [], [], [], 0
    for g in graphs:
        rows.append(g.edges[0] + off)
        cols.append(g.edges[1] + off)
        attrs.append(g.attr)
        off += g.n
    return off, [torch.cat(rows), torch.cat(cols)], torch.cat(attrs)


def decode_dense(model, z):
    """The reference's AE_parent.decode_from_x: all n^2 pairs, diagonal multiplied by 0."""
    n = z.size(0)
    sq = (z.unsqueeze(0) - z.unsqueeze(1)) ** 2
    sq = sq.view(n * n, -1)
    if isinstance(model, AE):
        p = torch.sigmoid(model.fc_dec(sq))
    else:
        p = torch.sigmoid(model.w * sq.sum(1) + model.b)
    return p.view(n, n) * (1 - torch.eye(n))


def check_decoders(model, g):
    """The edge-wise summed BCE equals the reference's dense one (diagonal zeroed)."""
    z = model.encode(g.n, g.edges, g.attr)
    p_edges = torch.sigmoid(model.edge_logits(z, g.edges))
    bce_edges = nn.functional.binary_cross_entropy(p_edges, g.attr, reduction="sum")
    p_dense = decode_dense(model, z)
    bce_dense = nn.functional.binary_cross_entropy(p_dense.view(-1, 1), g.adj.view(-1, 1),
                                                   reduction="sum")
    return bce_edges.item(), bce_dense.item()


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.manual_seed(0)
    expected = {"egnn": 104642, "gnn": 88017, "noise_gnn": 88017, "rf": 1218}
    g = GraphTensors({"n": 6, "edges": [[0, 1], [1, 2], [2, 3], [0, 5], [3, 4]]})
    for enc, count in expected.items():
        m = make_model(enc)
        print(enc, n_params(m), "expected", count, "OK" if n_params(m) == count else "MISMATCH")
        print("  parameters:", ", ".join(name for name, _ in m.named_parameters()))
        state = torch.get_rng_state()
        a, _ = check_decoders(m, g)
        torch.set_rng_state(state)
        _, b = check_decoders(m, g)
        print("  BCE edge-wise %.6f dense %.6f" % (a, b))
