"""Objectives as pure functions of tensors; each docstring states its equation."""

import torch
import torch.nn.functional as F


def check_same_shape(prediction, target, what="reconstruction"):
    if prediction.shape != target.shape:
        raise ValueError(
            f"{what} and target must have the same shape, got {tuple(prediction.shape)} "
            f"and {tuple(target.shape)}."
        )


def bce_reconstruction(logits, x):
    """Bernoulli negative log-likelihood per image, averaged over the batch (notebook 02, decoders).

        -log p(x | logits) = -sum_i [ x_i log sigmoid(l_i) + (1 - x_i) log(1 - sigmoid(l_i)) ]

    `logits` are pre-sigmoid decoder outputs; `x` is in [0, 1]. Result in nats per image.
    """
    check_same_shape(logits, x)
    if x.min() < 0 or x.max() > 1:
        raise ValueError("bce_reconstruction needs targets in [0, 1] (use scale='unit' data).")
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.flatten(1).sum(1).mean()


def mse_reconstruction(x_hat, x, reduction="image"):
    """Squared error (notebook 01, section "PCA is the optimal linear autoencoder").

        reduction='image':  (1/B) sum_b sum_i (x_hat_bi - x_bi)^2   (per image, summed over pixels)
        reduction='pixel':  the same divided by the number of pixels (the usual "MSE")

    Up to constants, the 'image' form is the negative log-likelihood of a Gaussian decoder with
    variance 1/2.
    """
    check_same_shape(x_hat, x)
    per_image = (x_hat - x).pow(2).flatten(1).sum(1)
    if reduction == "image":
        return per_image.mean()
    if reduction == "pixel":
        return per_image.mean() / x[0].numel()
    raise ValueError(f"Unknown reduction {reduction!r}: expected 'image' or 'pixel'.")


# ---- GAN losses (notebook 04). D(x) = sigmoid(logit): every loss takes the discriminator's
# logits, because log(sigmoid(l)) = -softplus(-l) is exact where log(D) of a rounded D is not.


def check_logits(logits, what="logits"):
    if logits.dim() != 1:
        raise ValueError(f"{what} should be a 1-D tensor (one logit per example), got shape "
                         f"{tuple(logits.shape)}; squeeze the discriminator's (batch, 1) output.")


def gan_discriminator_loss(real_logits, fake_logits):
    """The discriminator's binary cross-entropy (notebook 04, section 1 "The game").

        L_D = -(1/B) sum_b log D(x_b) - (1/B) sum_b log(1 - D(G(z_b)))  =  -V(D, G) (estimated)

    with D = sigmoid(logit): real images are labelled 1, generated ones 0.
    """
    check_logits(real_logits, "real_logits")
    check_logits(fake_logits, "fake_logits")
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def gan_generator_loss_minimax(fake_logits):
    """The generator's side of the minimax game (notebook 04, section 3 "Saturation").

        L_G = (1/B) sum_b log(1 - D(G(z_b)))      (minimised by G; saturates when D(G(z)) -> 0)
    """
    check_logits(fake_logits, "fake_logits")
    return -F.softplus(fake_logits).mean()


def gan_generator_loss_nonsaturating(fake_logits):
    """The non-saturating generator loss (notebook 04, section 3 "Saturation").

        L_G = -(1/B) sum_b log D(G(z_b))          (same fixed point, strong gradient when D wins)
    """
    check_logits(fake_logits, "fake_logits")
    return F.softplus(-fake_logits).mean()


# ---- VAE losses (notebook 02). Every function returns one value per example, in nats; the
# training step averages over the batch. q(z|x) = N(mu, diag(exp(logvar))), p(z) = N(0, I).

LOG_2PI = 1.8378770664093453  # log(2 pi)


def gaussian_kl(mu, logvar):
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) per example (notebook 02, "The KL term in closed form").

        KL = 1/2 sum_j ( mu_j^2 + sigma_j^2 - 1 - log sigma_j^2 ),   sigma_j^2 = exp(logvar_j)

    mu, logvar: (..., k), summed over the last dimension. Pass mu[..., None] for one KL per dimension.
    """
    check_same_shape(logvar, mu, "logvar")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)


def gaussian_log_density(z, mu, logvar):
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension (notebook 02, "IWAE").

        log q(z) = -1/2 sum_j ( log 2 pi + logvar_j + (z_j - mu_j)^2 / exp(logvar_j) )

    With zero tensors for mu and logvar it is the standard normal prior log p(z). Shapes broadcast.
    """
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * (-logvar).exp()).sum(-1)


def bernoulli_log_likelihood(logits, x):
    """log p(x | z) per image for a Bernoulli decoder (notebook 02, "Bernoulli or Gaussian decoder").

        log p(x | z) = sum_i [ x_i log sigmoid(l_i) + (1 - x_i) log(1 - sigmoid(l_i)) ]

    logits: decoder outputs l = f_theta(z), same shape as x; x in [0, 1] (binary for a likelihood).
    Returns (B,): one value per image, in nats (the same terms as `bce_reconstruction`, not averaged).
    """
    check_same_shape(logits, x)
    if x.min() < 0 or x.max() > 1:
        raise ValueError("bernoulli_log_likelihood needs pixels in [0, 1] (use scale='unit' data).")
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def elbo(logits, x, mu, logvar, beta=1.0):
    """The evidence lower bound per image (notebook 02, "The evidence lower bound").

        ELBO(x) = E_q(z|x)[ log p(x | z) ] - beta * KL( q(z|x) || N(0, I) )   <=  log p(x)  (beta = 1)

    The expectation is estimated with the z that produced `logits` (one sample, z ~ q(z|x));
    the KL is exact. Returns (B,) in nats; the loss to minimise is -elbo(...).mean().
    """
    return bernoulli_log_likelihood(logits, x) - beta * gaussian_kl(mu, logvar)


def iwae_bound(log_weights):
    """The importance-weighted bound L_S per example (notebook 02, section 7, "a tighter bound").

        L_S(x) = log (1/S) sum_{i=1..S} w_i,   log w_i = log p(x, z_i) - log q(z_i | x),  z_i ~ q(z|x)

    log_weights: (S, B). Computed with logsumexp, so weights of e^-1000 do not underflow.
    E[L_1] = ELBO <= E[L_S] <= E[L_{S+1}] <= log p(x) (Burda, Grosse & Salakhutdinov, 2016).
    """
    if log_weights.dim() != 2:
        raise ValueError(f"log_weights should be (S samples, batch), got {tuple(log_weights.shape)}.")
    n_samples = log_weights.shape[0]
    return log_weights.logsumexp(0) - log_weights.new_tensor(float(n_samples)).log()


# ---- Wasserstein GANs (notebooks 07 and 08) ----------------------------------------------------


def wasserstein_critic_loss(real_scores, fake_scores):
    """The critic's loss (notebook 07, "The critic"): minus the estimate of W1.

        loss_f = E_q[ f(x) ] - E_p[ f(x) ]      (p: data, q: generator)

    The critic f maximises E_p f - E_q f, the Kantorovich-Rubinstein estimate of W1(p, q) when f
    is 1-Lipschitz, so it minimises this. Scores are raw critic outputs (no sigmoid), shape (B,).
    """
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores):
    """The generator's loss (notebook 07): -E_z[ f(G(z)) ]; only this term of W1 depends on G."""
    return -fake_scores.mean()


def interpolate(x_real, x_fake, eps):
    """x_hat = eps x_real + (1 - eps) x_fake, one eps in [0, 1] per example (notebook 08)."""
    check_same_shape(x_fake, x_real, what="fake batch")
    if eps.shape != (len(x_real),):
        raise ValueError(f"eps should hold one number per example, shape ({len(x_real)},), "
                         f"got {tuple(eps.shape)}.")
    eps = eps.reshape(-1, *[1] * (x_real.dim() - 1))
    return eps * x_real + (1 - eps) * x_fake


def critic_gradient_norms(critic, x, create_graph=False):
    """|| grad_x f(x) ||_2 for every example of x: (B,) (notebook 08).

    create_graph=True keeps the graph, so a penalty on the norms can be back-propagated into the
    critic's parameters (a gradient of a gradient).
    """
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=create_graph)
    return grad.flatten(1).norm(dim=1)


def gradient_penalty(critic, x_real, x_fake, weight=10.0, eps=None):
    """The WGAN-GP penalty (notebook 08, "The gradient penalty"; Gulrajani et al., 2017):

        lambda * E_{x_hat}[ (|| grad f(x_hat) ||_2 - 1)^2 ],   x_hat = eps x + (1 - eps) x_fake,

    eps ~ U(0, 1) per example unless given. Differentiable with respect to the critic's parameters.
    For a linear critic f(x) = w.x it is exactly lambda (||w|| - 1)^2.
    """
    if eps is None:
        eps = torch.rand(len(x_real), device=x_real.device)
    x_hat = interpolate(x_real.detach(), x_fake.detach(), eps)
    norms = critic_gradient_norms(critic, x_hat, create_graph=True)
    return weight * (norms - 1).pow(2).mean()


# ---- InfoGAN losses (notebook 09). Q(c | x) is the auxiliary distribution over the latent codes
# given an image; both losses are -E log Q(c | x) (in nats, averaged over the batch), whose negative
# plus the entropy H(c) is the mutual-information lower bound L_I.


def infogan_categorical_nll(logits, codes):
    """-E log Q(c | x) for a categorical code: the cross-entropy (notebook 09, section 3 "Q's likelihoods").

        L_cat = -(1/B) sum_b log softmax(logits_b)[c_b]

    logits: (B, K) from Q's categorical head; codes: (B,) integer categories in 0..K-1 (the c that
    generated each image). The bound on I(c; G(z, c)) for this code is H(c) - L_cat = log K - L_cat.
    """
    if logits.dim() != 2 or codes.shape != logits.shape[:1]:
        raise ValueError(f"expected logits (B, K) and integer codes (B,), got {tuple(logits.shape)} "
                         f"and {tuple(codes.shape)}.")
    if codes.dtype.is_floating_point or codes.min() < 0 or codes.max() >= logits.shape[1]:
        raise ValueError(f"codes must be integer categories in 0..{logits.shape[1] - 1} (not one-hot).")
    return F.cross_entropy(logits, codes)


def infogan_gaussian_nll(mean, logvar, codes):
    """-E log Q(c | x) for continuous codes, Q(c | x) = N(mean, diag(exp(logvar)))
    (notebook 09, section 3 "Q's likelihoods").

        L_cont = (1/B) sum_b 1/2 sum_j ( log 2 pi + logvar_bj + (c_bj - mean_bj)^2 / exp(logvar_bj) )

    mean, logvar, codes: (B, k). Fixed variance: pass logvar = 0 (sigma = 1), which leaves
    1/2 (c - mean)^2 + 1/2 log 2 pi per code, a squared error plus a constant.
    """
    check_same_shape(mean, codes, "mean")
    check_same_shape(logvar, codes, "logvar")
    return -gaussian_log_density(codes, mean, logvar).mean()


def infogan_information_loss(cat_logits, cat_codes, cont_mean, cont_logvar, cont_codes,
                             lambda_cat=1.0, lambda_cont=1.0):
    """The information term as a loss (notebook 09, section 2 "The InfoGAN objective").

        L_info = lambda_cat * L_cat + lambda_cont * L_cont

    with L_cat = infogan_categorical_nll and L_cont = infogan_gaussian_nll. Minimising it over G
    and Q maximises the weighted lower bound lambda L_I(G, Q) = sum lambda (H(c) - L), since the
    entropies H(c) of the fixed code priors are constants. Added to both players' losses.
    """
    return (lambda_cat * infogan_categorical_nll(cat_logits, cat_codes)
            + lambda_cont * infogan_gaussian_nll(cont_mean, cont_logvar, cont_codes))


# ---- ACGAN losses (notebook 06, section 3 "ACGAN: an auxiliary classifier"). The discriminator
# has two heads: a source logit s (D(S = real | x) = sigmoid(s)) and class logits k
# (P(C = c | x) = softmax(k)_c). L_S and L_C are the paper's log-likelihoods; each loss below is
# the negative of the objective it maximises, averaged over the batch.


def acgan_class_loss(class_logits, labels):
    """Minus the class log-likelihood of one batch (notebook 06, section 3):

        -L_C / B = -(1/B) sum_b log P(C = y_b | x_b) = cross_entropy(class_logits, labels)

    class_logits: (B, n_classes); labels: (B,) integers in [0, n_classes).
    """
    if class_logits.dim() != 2:
        raise ValueError(f"class_logits should be (batch, n_classes), got {tuple(class_logits.shape)}.")
    if labels.shape != class_logits.shape[:1]:
        raise ValueError(f"got {len(class_logits)} class predictions but labels of shape "
                         f"{tuple(labels.shape)}; give one label each.")
    n_classes = class_logits.shape[1]
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels should lie in 0..{n_classes - 1}, got {int(labels.min())}.."
                         f"{int(labels.max())}.")
    return F.cross_entropy(class_logits, labels.long())


def acgan_discriminator_loss(real_source, fake_source, real_class, fake_class, real_labels,
                             fake_labels):
    """The ACGAN discriminator's loss, -(L_S + L_C) per batch (notebook 06, section 3):

        L_S = E[log P(S = real | x_real)] + E[log P(S = fake | x_fake)]
        L_C = E[log P(C = y | x_real)]    + E[log P(C = y | x_fake)]

    = gan_discriminator_loss(real_source, fake_source)
      + acgan_class_loss(real_class, real_labels) + acgan_class_loss(fake_class, fake_labels).
    """
    return (gan_discriminator_loss(real_source, fake_source)
            + acgan_class_loss(real_class, real_labels) + acgan_class_loss(fake_class, fake_labels))


def acgan_generator_loss(fake_source, fake_class, fake_labels):
    """The ACGAN generator's loss (notebook 06, section 3). G maximises L_C - L_S; with the
    non-saturating form of the source term (notebook 04) it descends

        -(1/B) sum_b log P(S = real | G(z_b, y_b)) - (1/B) sum_b log P(C = y_b | G(z_b, y_b))

    = gan_generator_loss_nonsaturating(fake_source) + acgan_class_loss(fake_class, fake_labels).
    """
    return gan_generator_loss_nonsaturating(fake_source) + acgan_class_loss(fake_class, fake_labels)


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), from the two densities at x (notebook 04)."""
    p_data, p_g = torch.as_tensor(p_data), torch.as_tensor(p_g)
    if (p_data < 0).any() or (p_g < 0).any():
        raise ValueError("densities must be non-negative.")
    return p_data / (p_data + p_g)


# ---- improved GAN training and the semi-supervised GAN (notebook 11) ----------------------------


def smoothed_discriminator_loss(real_logits, fake_logits, real_target=1.0, fake_target=0.0):
    """Cross-entropy of D against soft targets: alpha = real_target for data, beta = fake_target
    for samples. alpha = 1, beta = 0 is `gan_discriminator_loss`; alpha < 1, beta = 0 is
    one-sided label smoothing (Salimans et al. 2016). Its optimum is `smoothed_optimal_discriminator`.

        L_D = -mean[a log D(x) + (1-a) log(1-D(x))] - mean[b log D(G(z)) + (1-b) log(1-D(G(z)))]
    """
    check_logits(real_logits, "real_logits")
    check_logits(fake_logits, "fake_logits")
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.full_like(fake_logits, fake_target))
    return real + fake


def smoothed_optimal_discriminator(p_data, p_g, real_target=1.0, fake_target=0.0):
    """D*(x) = (alpha p_data(x) + beta p_g(x)) / (p_data(x) + p_g(x)) for targets alpha, beta."""
    p_data, p_g = torch.as_tensor(p_data), torch.as_tensor(p_g)
    if (p_data < 0).any() or (p_g < 0).any():
        raise ValueError("densities must be non-negative.")
    return (real_target * p_data + fake_target * p_g) / (p_data + p_g)


def feature_matching_loss(real_features, fake_features):
    """|| mean_b f(x_b) - mean_b f(G(z_b)) ||^2: the generator matches the mean of the
    discriminator's features f on data (Salimans et al. 2016). The real side is held fixed."""
    check_same_shape(real_features.mean(0), fake_features.mean(0), "fake features")
    return (real_features.detach().mean(0) - fake_features.mean(0)).pow(2).sum()


def k_plus_one_logit(class_logits):
    """The logit of D(x) = Z(x) / (Z(x) + 1), Z(x) = sum_k exp l_k(x), for K class logits (B, K):
    the K+1-way softmax with the fake class's logit fixed at 0 gives P(real | x) = Z / (Z + 1),
    whose logit is log Z = logsumexp_k l_k (exact for large or small logits)."""
    if class_logits.dim() != 2:
        raise ValueError(f"class_logits should be (batch, K), got shape {tuple(class_logits.shape)}.")
    return torch.logsumexp(class_logits, dim=1)


def ssgan_discriminator_loss(labelled_logits, labels, unlabelled_logits, fake_logits,
                             unsupervised_weight=1.0):
    """The semi-supervised K+1 loss (Salimans et al. 2016): L = L_supervised + w L_unsupervised,

        L_supervised   = -mean log p(y | x, y < K+1) = cross-entropy of the K logits (labelled x)
        L_unsupervised = -mean log D(x_unlabelled) - mean log(1 - D(G(z))), D = Z / (Z + 1).
    """
    supervised = F.cross_entropy(labelled_logits, labels)
    unsupervised = gan_discriminator_loss(k_plus_one_logit(unlabelled_logits),
                                          k_plus_one_logit(fake_logits))
    return supervised + unsupervised_weight * unsupervised, supervised, unsupervised
