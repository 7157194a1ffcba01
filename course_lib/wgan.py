"""The Wasserstein GAN recipes: WGAN with weight clipping (notebook 07) and WGAN-GP (notebook 08).

Both train a generator against a *critic* f: the Discriminator of `course_lib.gan` read as a real
score (no sigmoid). The critic maximises E_data f - E_G f, an estimate of W1(data, G) when f is
1-Lipschitz; the two variants differ only in how they keep f Lipschitz:
- "clip": clip every critic parameter to [-c, c] after each critic step; RMSprop(5e-5), c = 0.01,
  n_critic = 5 (Arjovsky, Chintala & Bottou, 2017, Algorithm 1);
- "gp":   add lambda E(||grad f(x_hat)|| - 1)^2 on interpolates x_hat; Adam(1e-4, betas (0, 0.9)),
  lambda = 10, n_critic = 5, no batch norm in the critic (Gulrajani et al., 2017, Algorithm 1).
Recipes: "toy" (MLPs for 2-D points) and "dcgan" (the DCGAN networks of notebook 05, images in
[-1, 1]).
"""

import torch
from torch import nn

from . import checkpoints, checks, gan, losses
from .data import batch_stream
from .train import check_not_diverged, fit_modules

VARIANTS = ("clip", "gp")
RECIPES = ("toy", "dcgan")

# The papers' optimisers and constants per variant; the schedule sets lengths and sizes.
VARIANT_SETTINGS = {
    "clip": dict(optimizer="rmsprop", lr=5e-5, betas=None, clip=0.01, gp_weight=None, n_critic=5,
                 norm="batch"),
    "gp": dict(optimizer="adam", lr=1e-4, betas=(0.0, 0.9), clip=None, gp_weight=10.0, n_critic=5,
               norm="layer"),
}
SCHEDULE_SETTINGS = {
    "smoke": {"toy": dict(steps=150, batch_size=128, latent_dim=8),
              "dcgan": dict(steps=30, batch_size=64, latent_dim=64)},
    "full": {"toy": dict(steps=2000, batch_size=128, latent_dim=8),
             "dcgan": dict(steps=2000, batch_size=64, latent_dim=64)},
}
# Where a recipe departs from its variant's settings, and why (notebooks 07 and 08 measure it):
RECIPE_SETTINGS = {
    # The WGAN-GP authors' own 2-D code uses lambda = 0.1 and Adam(1e-3, (0.5, 0.9)): with the
    # paper's image settings our 3x128 toy networks covered only 4 of the 8 ring modes at this length.
    ("toy", "gp"): dict(gp_weight=0.1, lr=1e-3, betas=(0.5, 0.9)),
    # Lengths that keep notebooks 07 and 08 under 10 minutes on 2 CPU cores.
    ("full", "dcgan", "clip"): dict(steps=2500),
    ("full", "dcgan", "gp"): dict(steps=1200),
}
# DEFAULTS[schedule][recipe][variant]: every hyper-parameter of a run (steps = generator steps).
DEFAULTS = {schedule: {recipe: {variant: {**VARIANT_SETTINGS[variant], **sizes,
                                          **RECIPE_SETTINGS.get((recipe, variant), {}),
                                          **RECIPE_SETTINGS.get((schedule, recipe, variant), {})}
                                for variant in VARIANTS}
                       for recipe, sizes in recipes.items()}
            for schedule, recipes in SCHEDULE_SETTINGS.items()}


def _check_variant(variant):
    if variant not in VARIANTS:
        raise ValueError(f"Unknown WGAN variant {variant!r}: expected one of {VARIANTS}.")


def make_wgan(recipe, latent_dim, norm="batch"):
    """(generator, critic) of a recipe. The critic's last layer is linear: its output is a score.

    `norm` is the critic's normalisation for 'dcgan' ('batch', 'layer' or 'none'); WGAN-GP needs
    'layer' or 'none' because batch norm makes each score depend on the rest of the batch.
    The 'toy' critic has no normalisation at all.
    """
    if recipe == "toy":
        return gan.make_gan("toy", latent_dim)
    if recipe == "dcgan":
        generator = gan.dcgan_generator(latent_dim)
        critic = gan.dcgan_discriminator(norm=norm)
        generator.apply(gan.init_dcgan_weights)
        critic.apply(gan.init_dcgan_weights)
        return generator, critic
    raise ValueError(f"Unknown WGAN recipe {recipe!r}: expected one of {RECIPES}.")


# ---- one training step ---------------------------------------------------------------------------


@torch.no_grad()
def clip_weights(critic, c):
    """Clamp every parameter of the critic to [-c, c] in place (WGAN's crude Lipschitz constraint)."""
    if c <= 0:
        raise ValueError(f"the clipping bound c must be positive, got {c}.")
    for p in critic.parameters():
        p.clamp_(-c, c)


def critic_step(generator, critic, optimizer, x_real, z, clip=None, gp_weight=None):
    """One critic step: descend E_G f - E_data f (+ the gradient penalty), then clip if asked.

    Returns the critic loss, the gradient penalty (0 without one) and w_estimate = E_data f - E_G f
    on this batch, the critic's running estimate of W1 (up to the Lipschitz constant).
    """
    with torch.no_grad():
        x_fake = generator(z)
    real_scores, fake_scores = critic(x_real), critic(x_fake)
    loss = losses.wasserstein_critic_loss(real_scores, fake_scores)
    penalty = torch.zeros((), device=x_real.device)
    if gp_weight:
        penalty = losses.gradient_penalty(critic, x_real, x_fake, gp_weight)
    optimizer.zero_grad(set_to_none=True)
    (loss + penalty).backward()
    optimizer.step()
    if clip is not None:
        clip_weights(critic, clip)
    return {"critic_loss": (loss + penalty).detach(), "gp": penalty.detach(),
            "w_estimate": -loss.detach()}


def generator_step(generator, critic, optimizer, z):
    """One generator step: descend -E_z f(G(z)) through the (fixed) critic."""
    loss = losses.wasserstein_generator_loss(critic(generator(z)))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()  # also fills the critic's .grad; critic_step clears it before its next update
    optimizer.step()
    return {"g_loss": loss.detach()}


def wgan_step(generator, critic, g_optimizer, c_optimizer, x_real, latent_dim, n_critic=5,
              clip=None, gp_weight=None):
    """One generator iteration: `n_critic` critic steps (x_real is split into n_critic
    minibatches), then one generator step on fresh noise."""
    if len(x_real) % n_critic:
        raise ValueError(f"the batch of {len(x_real)} cannot be split into n_critic={n_critic} "
                         "equal minibatches.")
    batch_size = len(x_real) // n_critic
    for x in x_real.split(batch_size):
        out = critic_step(generator, critic, c_optimizer, x,
                          gan.sample_noise(batch_size, latent_dim, x.device), clip, gp_weight)
    z = gan.sample_noise(batch_size, latent_dim, x_real.device)
    out.update(generator_step(generator, critic, g_optimizer, z))
    return out


# ---- training ------------------------------------------------------------------------------------


def make_optimizer(parameters, optimizer, lr, betas=None):
    """RMSprop (WGAN: momentum-free, because momentum made clipped critics unstable) or Adam."""
    if optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    if optimizer == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=betas)
    raise ValueError(f"Unknown optimizer {optimizer!r}: expected 'rmsprop' or 'adam'.")


def train_wgan(generator, critic, x_train, steps, batch_size, latent_dim, optimizer, lr,
               betas=None, clip=None, gp_weight=None, n_critic=5, norm=None, seed=0,
               callback=None, every=None, max_seconds=None, desc="WGAN", progress=True):
    """`steps` generator iterations of `wgan_step` over shuffled batches of x_train.

    history has critic_loss, gp, w_estimate (E_data f - E_G f on the last critic minibatch),
    g_loss and seconds, one entry per generator iteration. `norm` is ignored (it is a property of
    the critic, accepted so that a DEFAULTS entry can be passed as **config).
    x_train: images in [-1, 1] (N, C, H, W), or points (N, d) for the toy recipe.
    """
    checks.check_images_or_points(x_train, "symmetric", "x_train")
    g_optimizer = make_optimizer(generator.parameters(), optimizer, lr, betas)
    c_optimizer = make_optimizer(critic.parameters(), optimizer, lr, betas)
    batches = batch_stream(x_train, batch_size=batch_size * n_critic,
                           generator=torch.Generator().manual_seed(seed))

    def step(x):
        return wgan_step(generator, critic, g_optimizer, c_optimizer, x, latent_dim, n_critic,
                         clip, gp_weight)

    return fit_modules((generator, critic), step, batches, steps, callback=callback, every=every,
                       desc=desc, progress=progress, max_seconds=max_seconds)


def train_critic(critic, sample_p, sample_q, steps, batch_size=256, optimizer="adam", lr=1e-3,
                 betas=(0.5, 0.9), clip=None, gp_weight=10.0, seed=0):
    """Train only a critic between two fixed samples (no generator); returns the history.

    The last w_estimate values estimate W1(p, q) when the critic is (close to) 1-Lipschitz, as with
    the gradient penalty; with clipping they estimate K * W1 for an unknown K (notebook 07).
    """
    checks.check_finite(checks.check_batch(sample_p, "sample_p"), "sample_p")
    checks.check_finite(checks.check_batch(sample_q, "sample_q"), "sample_q")
    c_optimizer = make_optimizer(critic.parameters(), optimizer, lr, betas)
    rng = torch.Generator().manual_seed(seed)
    batches_p = batch_stream(sample_p, batch_size=batch_size, generator=rng)
    batches_q = batch_stream(sample_q, batch_size=batch_size, generator=rng)

    def step(x_p):
        fake = next(batches_q)
        return critic_step(nn.Identity(), critic, c_optimizer, x_p, fake, clip, gp_weight)

    return fit_modules((critic,), step, batches_p, steps, desc="critic", progress=False)


@torch.no_grad()
def estimate_w1(critic, sample_p, sample_q, batch_size=4096):
    """E_p f - E_q f over whole samples: the critic's estimate of W1(p, q)."""
    def mean_score(x):
        return torch.cat([critic(part) for part in x.split(batch_size)]).mean()

    return float(mean_score(sample_p) - mean_score(sample_q))


# ---- checkpointed image models (notebooks 07, 08 and the evaluation chapter) ------------------

CHECKPOINT_NAMES = {"clip": "wgan", "gp": "wgan-gp"}


def load_or_train_wgan(variant, x_train, dataset, schedule, device, seed=0, snapshots=8,
                       name=None, max_seconds=None, progress=True, **overrides):
    """The DCGAN-architecture WGAN of a variant ('clip' or 'gp'), from its checkpoint or trained.

    x_train: images in [-1, 1]. Hyper-parameters are DEFAULTS[schedule]["dcgan"][variant] updated by
    `overrides`. The checkpoint holds {"generator", "critic"}; its meta has the history (with the
    critic's W1 estimate per iteration), seconds, steps, device, config and `snapshots` sample grids
    G(z_fixed) taken during training, as in `gan.load_or_train_gan`. Returns (generator, critic, meta).
    """
    _check_variant(variant)
    config = {**DEFAULTS[schedule]["dcgan"][variant], **overrides}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator, critic = make_wgan("dcgan", config["latent_dim"], config["norm"])
        z_fixed = torch.randn(64, config["latent_dim"])
    generator, critic, z_fixed = generator.to(device), critic.to(device), z_fixed.to(device)
    path = checkpoints.checkpoint_path(name or CHECKPOINT_NAMES[variant], dataset, schedule)

    def train():
        kept = gan.Snapshots(lambda: gan.generate(generator, z_fixed), config["steps"], snapshots)
        torch.manual_seed(seed)
        history = train_wgan(generator, critic, x_train, seed=seed, callback=kept.callback,
                             every=kept.every, max_seconds=max_seconds, desc=f"WGAN ({variant})",
                             progress=progress, **config)
        # a diverged model is never saved, and never scored
        check_not_diverged(history, {"generator": generator, "critic": critic})
        return {"history": history, "seconds": history["seconds"][-1],
                "steps": len(history["seconds"]), "device": str(device), "variant": variant,
                "config": config, "max_seconds": max_seconds, "snapshots": kept.as_dict()}

    meta, _ = checkpoints.load_or_train(path, {"generator": generator, "critic": critic}, train)
    generator.eval()
    critic.eval()
    return generator, critic, meta


# ---- notebook 08: WGAN-GP on 2-D mixtures, critic surfaces, gradient norms ------------------------


@torch.no_grad()
def critic_map(critic, lims=(-1.6, 1.6), n=101):
    """The critic's score f(x) on an n x n grid over the square `lims` (2-D contour plots).

    Returns (xs, ys, scores) with scores of shape (n, n), scores[i, j] = f(xs[j], ys[i]): raw
    scores, not probabilities (compare `gan.discriminator_map`).
    """
    xs = torch.linspace(*lims, n)
    grid_y, grid_x = torch.meshgrid(xs, xs, indexing="ij")
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], 1)
    was_training = critic.training
    critic.eval()
    scores = critic(points.to(next(critic.parameters()).device)).reshape(n, n).cpu()
    critic.train(was_training)
    return xs, xs, scores


def interpolate_gradient_norms(critic, x_real, x_fake, seed=0):
    """||grad f(x_hat)|| at x_hat = eps x_real + (1 - eps) x_fake, eps ~ U(0, 1) per pair: the
    quantity the gradient penalty pushes towards 1 (notebook 08). Returns (B,) on the CPU."""
    eps = torch.rand(len(x_real), generator=torch.Generator().manual_seed(seed))
    x_hat = losses.interpolate(x_real.detach(), x_fake.detach(), eps.to(x_real.device))
    was_training = critic.training
    critic.eval()
    norms = losses.critic_gradient_norms(critic, x_hat).detach().cpu()
    critic.train(was_training)
    return norms


TOY_MODELS = ("gan", "clip", "gp")


def run_toy(kind, model, config, seed=0, n_eval=2500, n_snapshots=8, n_points=20_000,
            device="cpu", progress=True, desc=None):
    """Train a GAN ('gan': `gan.train_gan`) or a WGAN ('clip' or 'gp': `train_wgan`) on a 2-D
    mixture ('ring' or 'grid', `data.toy_mixture`), keeping snapshots along the way.

    Everything random is seeded by `seed`: the 20,000 training points, the initial networks (the
    same generator for every model), the batches, and the fixed noise of the `n_eval` evaluation
    samples, so runs of different models are compared on equal terms. Each snapshot holds the step,
    the samples G(z_fixed), their `metrics_toy.mode_coverage` and the second player's surface on
    the plot square (D(x) for a GAN, f(x) for a critic). Returns a dict with model, history,
    snapshots, modes, sigma, lim, final (the last coverage), generator and critic.
    """
    from . import metrics_toy
    from .data import toy_mixture

    if model not in TOY_MODELS:
        raise ValueError(f"Unknown toy model {model!r}: expected one of {TOY_MODELS}.")
    points, modes, sigma = toy_mixture(kind, n_points, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    generator, critic = (net.to(device) for net in make_wgan("toy", config["latent_dim"]))
    z_fixed = torch.randn(n_eval, config["latent_dim"],
                          generator=torch.Generator().manual_seed(seed + 1)).to(device)
    lim = 1.6 if kind == "ring" else 5.6
    surface = gan.discriminator_map if model == "gan" else critic_map
    snapshots = []

    def keep(i, history):
        samples = gan.generate(generator, z_fixed).cpu()
        snapshots.append({"step": i + 1, "samples": samples,
                          "surface": surface(critic, (-lim, lim)),
                          "coverage": metrics_toy.mode_coverage(samples, modes, sigma)})

    train = gan.train_gan if model == "gan" else train_wgan
    history = train(generator, critic, points.to(device), seed=seed, callback=keep,
                    every=max(1, config["steps"] // n_snapshots), progress=progress,
                    desc=desc or f"{model} on the {kind}", **config)
    return {"model": model, "kind": kind, "history": history, "snapshots": snapshots,
            "modes": modes, "sigma": sigma, "lim": lim, "final": snapshots[-1]["coverage"],
            "generator": generator, "critic": critic, "points": points}


# ---- notebook 07: why Wasserstein (parallel lines, optimal transport, clipped critics) ----------


def parallel_lines_divergences(theta):
    """Distances between P_0 and P_theta, the laws of (0, Z) and (theta, Z) with Z ~ U[0, 1]
    (notebook 07, section 1; Arjovsky, Chintala & Bottou, 2017, Example 1).

    For theta != 0 the two supports are disjoint vertical segments:
        W1 = |theta|,  JS = log 2,  KL(P_0 || P_theta) = KL(P_theta || P_0) = inf,  TV = 1;
    all four are 0 at theta = 0. Returns a dict of floats (nats for JS and KL).
    """
    import math

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
    import math

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
    import numpy as np

    a = np.asarray(a, dtype=float)
    if a.ndim != 1 or (a < 0).any() or not np.isclose(a.sum(), 1.0):
        raise ValueError(f"{name} should be a 1-D array of non-negative masses summing to 1.")
    return a


def _ot_support(x, n, name):
    import numpy as np

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
    import numpy as np
    from scipy.optimize import linprog

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
    import numpy as np
    from scipy.optimize import linprog

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


_ONE_LIPSCHITZ = (nn.LeakyReLU, nn.ReLU, nn.Tanh, nn.Flatten, nn.Identity, nn.Sequential,
                  gan.Discriminator, gan.ExpectShape)


def lipschitz_upper_bound(critic):
    """K >= the Lipschitz constant of an MLP critic (Linear layers and 1-Lipschitz activations):

        |f(u) - f(v)| <= prod_l ||W_l||_2 |u - v|      (notebook 07, section 4),

    the product of the layers' largest singular values. With every entry of W_l (n_out x n_in) in
    [-c, c], ||W_l||_2 <= ||W_l||_F <= c sqrt(n_in n_out): clipping bounds K, but not at 1.
    """
    bound = 1.0
    for module in critic.modules():
        if isinstance(module, nn.Linear):
            bound *= float(torch.linalg.matrix_norm(module.weight.detach(), ord=2))
        elif not isinstance(module, _ONE_LIPSCHITZ):
            raise ValueError(f"lipschitz_upper_bound handles Linear layers and 1-Lipschitz "
                             f"activations only, not {type(module).__name__}.")
    return bound


@torch.no_grad()
def fraction_at_clip(critic, c, rtol=1e-3):
    """Share of the critic's parameters sitting at the clipping bound, |w| >= c (1 - rtol)."""
    values = torch.cat([p.detach().flatten() for p in critic.parameters()])
    return float((values.abs() >= c * (1 - rtol)).float().mean())
