"""Optimal transport and the divergences between distributions with disjoint supports (notebook 07)."""

import math

import numpy as np
import torch
from scipy.optimize import linprog


def parallel_lines_divergences(theta):
    """Distances between P_0 and P_theta, the laws of (0, Z) and (theta, Z) with Z ~ U[0, 1]
    (notebook 07, section 1; Arjovsky, Chintala & Bottou, 2017, Example 1).

    For theta != 0 the two supports are disjoint vertical segments:
        W1 = |theta|,  JS = log 2,  KL(P_0 || P_theta) = KL(P_theta || P_0) = inf,  TV = 1;
    all four are 0 at theta = 0. Returns a dict of floats (nats for JS and KL).
    """

    theta = float(theta)
    apart = theta != 0.0
    return {"w1": abs(theta), "js": math.log(2) if apart else 0.0,
            "kl": math.inf if apart else 0.0, "tv": 1.0 if apart else 0.0}


def blurred_lines_divergences(theta, sigma, n_grid=20_001):
    """The parallel lines with N(0, sigma^2) noise added to the first coordinate (notebook 07).

    The second coordinates are the same U[0, 1] in both laws, so every f-divergence and W1 reduce
    to those of the first coordinates, N(0, sigma^2) and N(theta, sigma^2):
        W1 = |theta|,  KL = theta^2 / (2 sigma^2),
        JS = 1/2 KL(p || m) + 1/2 KL(q || m),  m = (p + q) / 2,  by quadrature on n_grid points.
    Returns a dict of floats like `parallel_lines_divergences`.
    """

    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    theta = float(theta)
    x = torch.linspace(min(0.0, theta) - 12 * sigma, max(0.0, theta) + 12 * sigma, n_grid,
                       dtype=torch.float64)
    log_p = torch.distributions.Normal(0.0, sigma).log_prob(x)
    log_q = torch.distributions.Normal(theta, sigma).log_prob(x)
    log_m = torch.logaddexp(log_p, log_q) - math.log(2)
    integrand = 0.5 * log_p.exp() * (log_p - log_m) + 0.5 * log_q.exp() * (log_q - log_m)
    js = float(torch.trapezoid(integrand, x))
    return {"w1": abs(theta), "js": min(max(js, 0.0), math.log(2)),
            "kl": theta**2 / (2 * sigma**2)}


def _ot_masses(a, name):

    a = np.asarray(a, dtype=float)
    if a.ndim != 1 or (a < 0).any() or not np.isclose(a.sum(), 1.0):
        raise ValueError(f"{name} should be a 1-D array of non-negative masses summing to 1.")
    return a


def _ot_support(x, n, name):

    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or len(x) != n:
        raise ValueError(f"{name} should hold {n} points, shape ({n},) or ({n}, dim); "
                         f"got {x.shape}.")
    return x


def transport_plan(x, a, y, b):
    """W1 between two discrete distributions as a linear program (notebook 07, section 2):

        min_gamma  sum_ij gamma_ij |x_i - y_j|   s.t.  sum_j gamma_ij = a_i,  sum_i gamma_ij = b_j,
                   gamma >= 0.

    x: (n,) or (n, d) support of p with masses a; y: (m,) or (m, d) support of q with masses b.
    Returns (w1, gamma) with gamma an (n, m) numpy array, solved exactly by scipy's linprog.
    """

    a, b = _ot_masses(a, "a"), _ot_masses(b, "b")
    x, y = _ot_support(x, len(a), "x"), _ot_support(y, len(b), "y")
    n, m = len(a), len(b)
    cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2)
    rows = np.kron(np.eye(n), np.ones((1, m)))  # sum over j of gamma_ij
    cols = np.kron(np.ones((1, n)), np.eye(m))  # sum over i of gamma_ij
    result = linprog(cost.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([a, b]),
                     bounds=(0, None), method="highs")
    if not result.success:
        raise RuntimeError(f"linprog failed: {result.message}")
    return float(result.fun), result.x.reshape(n, m)


def kantorovich_potential(x, a, y, b):
    """The Kantorovich-Rubinstein dual of `transport_plan` (notebook 07, section 3):

        max_f  sum_i a_i f(x_i) - sum_j b_j f(y_j)   s.t.  f(u) - f(v) <= |u - v|
                                                          for all u, v in the joint support,

    a linear program over the values of a 1-Lipschitz f on the n + m support points (f of the
    first point fixed to 0: adding a constant to f changes nothing). Returns (w1, f_x, f_y).
    """

    a, b = _ot_masses(a, "a"), _ot_masses(b, "b")
    x, y = _ot_support(x, len(a), "x"), _ot_support(y, len(b), "y")
    points, n = np.vstack([x, y]), len(a) + len(b)
    weights = np.concatenate([a, -b])
    dist = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    rows, cols = np.nonzero(~np.eye(n, dtype=bool))
    constraints = np.zeros((len(rows), n))
    constraints[np.arange(len(rows)), rows] = 1.0
    constraints[np.arange(len(rows)), cols] = -1.0
    bounds = [(0, 0)] + [(None, None)] * (n - 1)
    result = linprog(-weights, A_ub=constraints, b_ub=dist[rows, cols], bounds=bounds, method="highs")
    if not result.success:
        raise RuntimeError(f"linprog failed: {result.message}")
    return float(-result.fun), result.x[: len(a)], result.x[len(a):]


def w1_from_cdfs(x, y):
    """Exact W1 between two 1-D samples: the area between their empirical CDFs (notebook 07),

        W1 = integral |F_p(t) - F_q(t)| dt,

    a sum over the gaps between consecutive points of the pooled, sorted sample.
    """
    x = torch.as_tensor(x, dtype=torch.float64).flatten()
    y = torch.as_tensor(y, dtype=torch.float64).flatten()
    if len(x) == 0 or len(y) == 0:
        raise ValueError("both samples need at least one point.")
    grid = torch.cat([x, y]).sort().values
    f_x = torch.searchsorted(x.sort().values, grid[:-1], right=True).double() / len(x)
    f_y = torch.searchsorted(y.sort().values, grid[:-1], right=True).double() / len(y)
    return float(((f_x - f_y).abs() * grid.diff()).sum())
