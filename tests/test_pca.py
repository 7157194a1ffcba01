import pytest
import torch

from course_lib import pca as pca_lib

TRUE_VARIANCES = torch.tensor([9.0, 4.0, 1.0, 0.01], dtype=torch.float64)


@pytest.fixture(scope="module")
def known():
    """x = z diag(sqrt(variances)) R^T + mean, with z standard normal and R a random rotation."""
    g = torch.Generator().manual_seed(0)
    rotation, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
    z = torch.randn(20_000, 4, generator=g, dtype=torch.float64)
    mean = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    x = (z * TRUE_VARIANCES.sqrt()) @ rotation.T + mean
    return x.float(), rotation, mean


def test_variances_and_mean(known):
    x, _, mean = known
    pca = pca_lib.fit_pca(x, 2)
    assert pca.variances.shape == (4,) and pca.k == 2 and pca.shape == (4,)
    # sample eigenvalues of 20 000 draws: relative error ~ sqrt(2 / n) = 1 %
    torch.testing.assert_close(pca.variances.double(), TRUE_VARIANCES, rtol=0.05, atol=0)
    assert all(a >= b for a, b in zip(pca.variances.tolist(), pca.variances[1:].tolist()))
    torch.testing.assert_close(pca.mean.double(), mean, atol=0.1, rtol=0)
    torch.testing.assert_close(pca.mean, x.double().mean(0).float())


def test_variances_are_the_covariance_eigenvalues(known):
    x, _, _ = known
    xd = x.double()
    centered = xd - xd.mean(0)
    cov = centered.T @ centered / len(xd)
    expected = torch.linalg.eigvalsh(cov).flip(0)
    torch.testing.assert_close(pca_lib.fit_pca(x, 1).variances.double(), expected, rtol=1e-5, atol=1e-7)


def test_components_span_the_right_subspace(known):
    x, rotation, _ = known
    for k in (1, 2, 3):
        components = pca_lib.fit_pca(x, k).components.double()
        assert components.shape == (k, 4)
        true = rotation[:, :k]  # the true top-k directions, as columns
        projector_true = true @ true.T
        projector_fit = components.T @ components
        assert (projector_fit - projector_true).norm() < 0.05
        # each component is (up to sign) the matching true direction
        cosines = (components @ true).diagonal().abs()
        assert cosines.min() > 0.99


def test_components_are_orthonormal(known):
    x, _, _ = known
    components = pca_lib.fit_pca(x, 4).components
    torch.testing.assert_close(components @ components.T, torch.eye(4), atol=1e-5, rtol=0)


def test_encode_decode_with_all_components_is_identity(known):
    x, _, _ = known
    pca = pca_lib.fit_pca(x, 4)
    z = pca_lib.pca_encode(pca, x)
    assert z.shape == (len(x), 4)
    torch.testing.assert_close(pca_lib.pca_decode(pca, z), x, atol=1e-4, rtol=0)


def test_codes_are_centred_and_decorrelated(known):
    x, _, _ = known
    pca = pca_lib.fit_pca(x, 3)
    z = pca_lib.pca_encode(pca, x).double()
    torch.testing.assert_close(z.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-4, rtol=0)
    cov = z.T @ z / len(z)
    torch.testing.assert_close(cov, torch.diag(pca.variances[:3].double()), atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_reconstruction_error_is_the_sum_of_discarded_eigenvalues(known, k):
    x, _, _ = known
    pca = pca_lib.fit_pca(x, k)
    x_hat = pca_lib.pca_decode(pca, pca_lib.pca_encode(pca, x))
    error = (x_hat.double() - x.double()).pow(2).sum(1).mean()
    expected = pca.variances[k:].double().sum()
    torch.testing.assert_close(error, expected, rtol=1e-5, atol=1e-8)


def test_keeps_image_shape():
    g = torch.Generator().manual_seed(3)
    images = torch.rand(50, 1, 4, 4, generator=g)
    pca = pca_lib.fit_pca(images, 5)
    assert pca.shape == (1, 4, 4) and pca.components.shape == (5, 16)
    back = pca_lib.pca_decode(pca, pca_lib.pca_encode(pca, images))
    assert back.shape == images.shape
    full = pca_lib.fit_pca(images, 16)
    torch.testing.assert_close(pca_lib.pca_decode(full, pca_lib.pca_encode(full, images)), images,
                               atol=1e-4, rtol=0)


def test_pca_sample_has_the_top_k_covariance(known):
    x, _, _ = known
    pca = pca_lib.fit_pca(x, 2)
    samples = pca_lib.pca_sample(pca, 40_000, generator=torch.Generator().manual_seed(1))
    assert samples.shape == (40_000, 4)
    s = samples.double()
    v = pca.components.double()
    expected_cov = v.T @ torch.diag(pca.variances[:2].double()) @ v
    cov = torch.cov(s.T, correction=0)
    # entries up to ~9 with sampling error ~ 9 * sqrt(2 / 40000) ~ 0.06
    assert (cov - expected_cov).abs().max() < 0.25
    torch.testing.assert_close(s.mean(0), pca.mean.double(), atol=0.1, rtol=0)
    # nothing outside the principal subspace: the discarded directions carry no variance
    residual = (s - pca.mean.double()) - (s - pca.mean.double()) @ v.T @ v
    assert residual.abs().max() < 1e-4


def test_pca_sample_is_seeded(known):
    x, _, _ = known
    pca = pca_lib.fit_pca(x, 3)
    a = pca_lib.pca_sample(pca, 5, generator=torch.Generator().manual_seed(7))
    b = pca_lib.pca_sample(pca, 5, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


@pytest.mark.parametrize("k", [0, -1, 5])
def test_k_out_of_range(known, k):
    x, _, _ = known
    with pytest.raises(ValueError, match="k must be between 1 and the dimension 4"):
        pca_lib.fit_pca(x, k)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_fit_pca_refuses_non_finite_data(known, bad):
    x = known[0].clone()
    x[2, 1] = bad
    with pytest.raises(ValueError, match=r"x should be finite, got \d NaN and \d infinite"):
        pca_lib.fit_pca(x, 2)  # used to return NaN components
    with pytest.raises(ValueError, match=r"x should be a non-empty batch"):
        pca_lib.fit_pca(x[:0], 2)
