"""The Dirac-GAN of Mescheder et al. (2018) (notebook 12): the smallest GAN that fails to converge.

Data are a point mass at 0 (p_data = delta_0), the generator is a point mass at theta
(p_g = delta_theta) and the discriminator's logit is linear, l(x) = psi * x. With
f(t) = -log(1 + exp(-t)) (the GAN loss) or f(t) = t (WGAN) the discriminator ascends

    V(theta, psi) = f(l(0)) + f(-l(theta)) - penalty(psi) = f(0) + f(-psi theta) - penalty(psi)

and the generator descends its non-saturating loss -f(l(theta)) = -f(psi theta). The penalties:
"r1" is R1 at the data, (gamma / 2) psi^2 (the gradient of l with respect to x is psi everywhere);
"wgan-gp" is lambda_GP (|psi| - 1)^2 with f(t) = t. Simultaneous gradient steps follow the field
v(theta, psi) = (d/dtheta f(psi theta), dV/dpsi); the equilibrium is (0, 0).
Pure functions of tensors: no networks, no training loop.
"""

import torch

METHODS = ("gan", "wgan", "wgan-gp", "r1")


def check_method(method):
    if method not in METHODS:
        raise ValueError(f"Unknown Dirac-GAN method {method!r}: expected one of {METHODS}.")


def f_prime(t, method="gan"):
    """f'(t): sigmoid(-t) for the GAN loss f(t) = -log(1 + exp(-t)) ("gan", "r1"), and 1 for the
    Wasserstein loss f(t) = t ("wgan", "wgan-gp")."""
    check_method(method)
    t = torch.as_tensor(t, dtype=torch.float64)
    return torch.sigmoid(-t) if method in ("gan", "r1") else torch.ones_like(t)


def vector_field(theta, psi, method="gan", gamma=1.0, lambda_gp=1.0):
    """(d theta/dt, d psi/dt) of simultaneous gradient play at (theta, psi) (tensors of any one
    shape): the generator ascends f(psi theta), the discriminator ascends V minus its penalty."""
    theta, psi = torch.as_tensor(theta, dtype=torch.float64), torch.as_tensor(psi, dtype=torch.float64)
    d_theta = psi * f_prime(psi * theta, method)
    d_psi = -theta * f_prime(-psi * theta, method)
    if method == "r1":  # d/dpsi of (gamma / 2) psi^2
        d_psi = d_psi - gamma * psi
    elif method == "wgan-gp":  # d/dpsi of lambda (|psi| - 1)^2: jumps at psi = 0
        d_psi = d_psi - 2 * lambda_gp * torch.sign(psi) * (psi.abs() - 1)
    return torch.stack([d_theta, d_psi])


def jacobian(method="gan", gamma=1.0, at=(0.0, 0.0)):
    """The 2x2 Jacobian of `vector_field` at `at`, by autograd (rows: d theta/dt, d psi/dt)."""
    point = torch.tensor(at, dtype=torch.float64)
    return torch.autograd.functional.jacobian(
        lambda p: vector_field(p[0], p[1], method, gamma), point)


def finite_difference_jacobian(method="gan", gamma=1.0, at=(0.0, 0.0), eps=1e-6):
    """The same Jacobian by central differences: column j is (v(p + eps e_j) - v(p - eps e_j)) / 2 eps."""
    point = torch.tensor(at, dtype=torch.float64)
    columns = []
    for j in range(2):
        step = torch.zeros(2, dtype=torch.float64)
        step[j] = eps
        plus, minus = point + step, point - step
        columns.append((vector_field(*plus, method, gamma) - vector_field(*minus, method, gamma)) / (2 * eps))
    return torch.stack(columns, dim=1)


def closed_form_jacobian(method="gan", gamma=1.0):
    """The Jacobian at the equilibrium (0, 0): [[0, f'(0)], [-f'(0), -gamma]] with gamma = 0 unless
    R1. WGAN-GP has none: its field jumps at psi = 0 (ValueError)."""
    check_method(method)
    if method == "wgan-gp":
        raise ValueError("The WGAN-GP field is discontinuous at psi = 0: no Jacobian at (0, 0).")
    a = float(f_prime(0.0, method))
    damping = gamma if method == "r1" else 0.0
    return torch.tensor([[0.0, a], [-a, -damping]], dtype=torch.float64)


def closed_form_eigenvalues(method="gan", gamma=1.0):
    """Eigenvalues at (0, 0): +-i f'(0) without regularization; with R1
    -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2) (complex when gamma < 2 f'(0)). Sorted by imaginary part."""
    closed_form_jacobian(method, gamma)  # raises for WGAN-GP
    a = float(f_prime(0.0, method))
    if method != "r1":
        return torch.tensor([-1j * a, 1j * a], dtype=torch.complex128)
    root = complex(gamma ** 2 / 4 - a ** 2) ** 0.5
    return sort_eigenvalues(torch.tensor([-gamma / 2 - root, -gamma / 2 + root], dtype=torch.complex128))


def sort_eigenvalues(values):
    """Eigenvalues in a fixed order (imaginary part, then real part), to compare two sets."""
    values = values.to(torch.complex128)
    order = sorted(range(len(values)), key=lambda i: (round(values[i].imag.item(), 9),
                                                      round(values[i].real.item(), 9)))
    return values[order]


def simulate(method="gan", start=(1.0, 1.0), lr=0.05, steps=2000, gamma=1.0, lambda_gp=1.0):
    """Simultaneous gradient steps (theta, psi) <- (theta, psi) + lr v(theta, psi) from `start`:
    the trajectory as a (steps + 1, 2) float64 tensor."""
    check_method(method)
    point = torch.tensor(start, dtype=torch.float64)
    path = [point]
    for _ in range(steps):
        point = point + lr * vector_field(point[0], point[1], method, gamma, lambda_gp)
        path.append(point)
    return torch.stack(path)


def distance_to_equilibrium(path):
    """|| (theta, psi) || at every step of a trajectory: (steps + 1,)."""
    return path.norm(dim=1)
