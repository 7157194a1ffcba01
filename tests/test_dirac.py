"""The Dirac-GAN (notebook 12) against known answers: the Jacobian at the equilibrium and its
eigenvalues in closed form, and which trajectories of simultaneous gradient steps converge."""

import pytest
import torch

from course_lib import dirac


@pytest.mark.parametrize("method, gamma", [("gan", 1.0), ("wgan", 1.0), ("r1", 0.3), ("r1", 1.0),
                                           ("r1", 3.0)])
def test_jacobian_by_autograd_and_finite_differences_is_the_closed_form(method, gamma):
    closed = dirac.closed_form_jacobian(method, gamma)
    assert torch.allclose(dirac.jacobian(method, gamma), closed, atol=1e-12)
    assert torch.allclose(dirac.finite_difference_jacobian(method, gamma), closed, atol=1e-8)


@pytest.mark.parametrize("method, gamma", [("gan", 1.0), ("wgan", 1.0), ("r1", 0.3), ("r1", 1.0),
                                           ("r1", 3.0)])
def test_eigenvalues_match_the_closed_form(method, gamma):
    numeric = dirac.sort_eigenvalues(torch.linalg.eigvals(dirac.jacobian(method, gamma)))
    assert torch.allclose(numeric, dirac.closed_form_eigenvalues(method, gamma), atol=1e-9)


def test_eigenvalues_without_regularization_are_purely_imaginary_and_r1_makes_them_negative():
    assert torch.allclose(dirac.closed_form_eigenvalues("gan"), torch.tensor([-0.5j, 0.5j]).to(torch.complex128))
    assert torch.allclose(dirac.closed_form_eigenvalues("wgan"), torch.tensor([-1j, 1j]).to(torch.complex128))
    for gamma in (0.1, 1.0, 5.0):  # f'(0) = 1/2: -gamma/2 +- sqrt(gamma^2/4 - 1/4)
        values = dirac.closed_form_eigenvalues("r1", gamma)
        assert (values.real < 0).all()
        root = complex(gamma ** 2 / 4 - 0.25) ** 0.5
        assert torch.allclose(values, dirac.sort_eigenvalues(torch.tensor(
            [-gamma / 2 + root, -gamma / 2 - root], dtype=torch.complex128)))


def test_wgan_gp_has_no_jacobian_at_the_equilibrium():
    with pytest.raises(ValueError, match="discontinuous"):
        dirac.closed_form_jacobian("wgan-gp")
    lam, eps = 0.3, 1e-9  # the penalty's push on psi jumps by 4 lambda across psi = 0
    jump = (dirac.vector_field(0.0, eps, "wgan-gp", lambda_gp=lam)
            - dirac.vector_field(0.0, -eps, "wgan-gp", lambda_gp=lam))
    assert jump[1].item() == pytest.approx(4 * lam, rel=1e-6) and abs(jump[0].item()) < 1e-8


def test_r1_converges_and_the_unregularized_games_do_not():
    r1 = dirac.distance_to_equilibrium(dirac.simulate("r1", (1.0, 1.0), lr=0.05, steps=2000, gamma=0.3))
    assert r1[-1] < 1e-4 * r1[0]
    # near the equilibrium the plain GAN's steps spiral outwards (|1 + lr * i f'(0)| > 1) ...
    gan_near = dirac.distance_to_equilibrium(dirac.simulate("gan", (0.1, 0.1), lr=0.05, steps=5000))
    assert gan_near[-1] > 1.5 * gan_near[0]
    # ... and from far away it shrinks onto a cycle that never reaches (0, 0)
    gan_far = dirac.distance_to_equilibrium(dirac.simulate("gan", (1.0, 1.0), lr=0.05, steps=5000))
    assert gan_far[2000:].min() > 0.2
    wgan = dirac.distance_to_equilibrium(dirac.simulate("wgan", (1.0, 1.0), lr=0.05, steps=2000))
    assert wgan[-1] > 5 * wgan[0]
    gp = dirac.distance_to_equilibrium(dirac.simulate("wgan-gp", (1.0, 1.0), lr=0.05, steps=4000,
                                                      lambda_gp=0.3))
    assert gp[2000:].min() > 0.5


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="Unknown Dirac-GAN method"):
        dirac.simulate("lsgan")
