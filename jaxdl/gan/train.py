"""GAN losses (eqs. 4.1-4.3 of the practical) and the jitted D-then-G training step.

All losses take discriminator *logits* and use ``optax.sigmoid_binary_cross_entropy``, so
``log D`` and ``log(1 - D)`` never see a saturated sigmoid.

The state is the shared ``jaxdl.train.state.TrainState`` with ``params``, ``opt_state``
and ``extra`` (batch-norm statistics) each a ``{"g": ..., "d": ...}`` dict; with ``ema`` set,
``extra["g_ema"]`` holds the moving average of G's params that sampling uses.
"""

import dataclasses
from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxdl.train.state import TrainState, create_state, step_key


def discriminator_loss(real_logits, fake_logits, real_target: float = 1.0):
    """Eq. 4.3: ``-E[log D(x)] - E[log(1 - D(G(z)))]``; logits (N,) -> scalar. ``real_target``
    < 1: one-sided label smoothing (Salimans et al. 2016), the real images' target probability."""
    real = optax.sigmoid_binary_cross_entropy(real_logits, jnp.full_like(real_logits, real_target))
    fake = optax.sigmoid_binary_cross_entropy(fake_logits, jnp.zeros_like(fake_logits))
    return real.mean() + fake.mean()


def generator_loss(fake_logits, saturating: bool = False):
    """Eq. 4.2 (default, non-saturating): ``-E[log D(G(z))]``; eq. 4.1 (``saturating``, the
    minimax objective): ``E[log(1 - D(G(z)))]``. Logits (N,) -> scalar."""
    if saturating:
        return -optax.sigmoid_binary_cross_entropy(fake_logits, jnp.zeros_like(fake_logits)).mean()
    return optax.sigmoid_binary_cross_entropy(fake_logits, jnp.ones_like(fake_logits)).mean()


# the DCGAN paper's Adam (Radford et al. 2016), for G and D alike
LEARNING_RATE = 2e-4
BETA1 = 0.5


@dataclasses.dataclass(frozen=True)
class GAN:
    """A generator/discriminator pair with their optimisers and training options.

    ``generator(z, y|None, train)`` -> images; ``discriminator(x, y|None, train)`` -> logits.
    The generator is conditional iff ``generator.num_classes`` is set; the discriminator
    sees the labels iff ``discriminator.num_classes`` is set (a cGAN with an unconditional
    D is question 7's cD(x)). ``d_steps`` discriminator updates precede each generator update.
    ``label_smoothing``: D's target for real images is ``1 - label_smoothing``.
    ``ema`` > 0: after each G update, ``g_ema <- ema * g_ema + (1 - ema) * g`` (Yazici et al.
    2019); ``sample`` then draws from ``g_ema`` with G's running batch-norm statistics.
    """

    generator: nn.Module
    discriminator: nn.Module
    z_dim: int = 100
    g_optimizer: optax.GradientTransformation = optax.adam(LEARNING_RATE, b1=BETA1)
    d_optimizer: optax.GradientTransformation = optax.adam(LEARNING_RATE, b1=BETA1)
    saturating: bool = False
    d_steps: int = 1
    label_smoothing: float = 0.0
    ema: float = 0.0

    @property
    def conditional(self) -> bool:
        return self.generator.num_classes is not None

    def init(self, seed: int, image_shape) -> TrainState:
        """A fresh step-0 state; ``image_shape`` = (H, W, C) of one image."""
        key_g, key_d = jax.random.split(jax.random.key(seed))
        y = jnp.zeros((1,), jnp.int32)
        g_vars = self.generator.init(
            key_g, jnp.zeros((1, self.z_dim)), y if self.conditional else None
        )
        n = getattr(self.discriminator, "pack", 1)  # a packing D judges n images at once
        d_vars = self.discriminator.init(
            key_d, jnp.zeros((n, *image_shape)), self._d_labels(jnp.zeros(n, jnp.int32))
        )
        params = {"g": g_vars["params"], "d": d_vars["params"]}
        opt_state = {
            "g": self.g_optimizer.init(params["g"]),
            "d": self.d_optimizer.init(params["d"]),
        }
        extra = {"g": g_vars["batch_stats"], "d": d_vars["batch_stats"]}
        if self.ema:
            extra["g_ema"] = params["g"]
        return create_state(params, opt_state, seed, extra=extra)

    def _d_labels(self, y):
        return y if self.discriminator.num_classes is not None else None

    def _generate_train(self, g_params, g_stats, z, y):
        """G in training mode: (images, updated batch_stats)."""
        images, updates = self.generator.apply(
            {"params": g_params, "batch_stats": g_stats},
            z,
            y if self.conditional else None,
            train=True,
            mutable=["batch_stats"],
        )
        return images, updates["batch_stats"]

    def _discriminate(self, d_params, d_stats, x, y):
        """D in training mode: (logits, updated batch_stats)."""
        logits, updates = self.discriminator.apply(
            {"params": d_params, "batch_stats": d_stats},
            x,
            self._d_labels(y),
            train=True,
            mutable=["batch_stats"],
        )
        return logits, updates["batch_stats"]

    def _d_update(self, params, stats, opt_state, real, fake, y):
        """One discriminator step on a real and a (constant) fake batch:
        ``(params, stats, opt_state, metrics)`` of D."""

        def loss_fn(p):
            real_logits, new_stats = self._discriminate(p, stats, real, y)
            fake_logits, new_stats = self._discriminate(p, new_stats, fake, y)
            loss = discriminator_loss(real_logits, fake_logits, 1.0 - self.label_smoothing)
            return loss, (
                new_stats,
                real_logits,
                fake_logits,
            )

        (loss, (stats, real_logits, fake_logits)), grads = jax.value_and_grad(
            loss_fn, has_aux=True
        )(params)
        updates, opt_state = self.d_optimizer.update(grads, opt_state, params)
        metrics = {
            "d_loss": loss,
            "d_real": jax.nn.sigmoid(real_logits).mean(),
            "d_fake": jax.nn.sigmoid(fake_logits).mean(),
        }
        return optax.apply_updates(params, updates), stats, opt_state, metrics

    def train_step(self, state: TrainState, batch):
        """``d_steps`` D updates then one G update.

        batch: ``{"image": x, "label": y}``, real images x (d_steps * B, H, W[, C]) uint8, or
        float in [-1, 1], and their labels y (d_steps * B,) int (ignored by unconditional
        models), e.g. from ``jaxdl.train.batches.array_stream``. Randomness comes from
        ``step_key(state)``. Returns ``(state, metrics)`` with scalar ``d_loss``, ``g_loss``,
        ``d_real`` = mean D(x), ``d_fake`` = mean D(G(z)) before and ``d_fake_g`` after the
        D update. The last D update and the G update share one generator forward pass (its
        VJP is reused), as in the PyTorch DCGAN recipe.
        """
        x, y = batch["image"], batch["label"]
        x = from_uint8(x) if x.dtype == jnp.uint8 else (x[..., None] if x.ndim == 3 else x)
        batch_size = x.shape[0] // self.d_steps
        xs = x.reshape(self.d_steps, batch_size, *x.shape[1:])
        ys = y.reshape(self.d_steps, batch_size)
        keys = jax.random.split(step_key(state), self.d_steps)
        g_params, g_stats = state.params["g"], state.extra["g"]
        d = (state.params["d"], state.extra["d"], state.opt_state["d"])

        def noise(k):
            return jax.random.normal(k, (batch_size, self.z_dim))

        # the first d_steps - 1 updates, fresh fakes each, unrolled (d_steps is a small static
        # count; benchmarks/README.md says why not lax.scan)
        for real, labels, k in zip(xs[:-1], ys[:-1], keys[:-1]):
            fake, _ = self._generate_train(g_params, g_stats, noise(k), labels)
            d = self._d_update(*d, real, fake, labels)[:3]
        labels = ys[-1]
        fake, g_vjp, g_stats = jax.vjp(
            lambda p: self._generate_train(p, g_stats, noise(keys[-1]), labels),
            g_params,
            has_aux=True,
        )
        d_params, d_stats, d_opt, metrics = self._d_update(
            *d, xs[-1], jax.lax.stop_gradient(fake), labels
        )

        def g_loss_fn(images):
            logits, _ = self._discriminate(d_params, d_stats, images, labels)
            return generator_loss(logits, self.saturating), logits

        (g_loss, fake_logits), image_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(fake)
        (g_grads,) = g_vjp(image_grads)
        updates, g_opt = self.g_optimizer.update(g_grads, state.opt_state["g"], g_params)
        g_params = optax.apply_updates(g_params, updates)
        extra = {"g": g_stats, "d": d_stats}
        if self.ema:
            extra["g_ema"] = optax.incremental_update(
                g_params, state.extra["g_ema"], 1.0 - self.ema
            )
        state = state.replace(
            step=state.step + 1,
            params={"g": g_params, "d": d_params},
            opt_state={"g": g_opt, "d": d_opt},
            extra=extra,
        )
        return state, {**metrics, "g_loss": g_loss, "d_fake_g": jax.nn.sigmoid(fake_logits).mean()}

    def sample(self, state: TrainState, z, y: Optional[jax.Array] = None):
        """Images (N, H, W, C) in [-1, 1] from z (N, z_dim) [and labels y (N,)], with the
        generator in inference mode (running batch-norm statistics); the averaged params when
        ``ema`` is set."""
        params = state.extra["g_ema"] if self.ema else state.params["g"]
        variables = {"params": params, "batch_stats": state.extra["g"]}
        return self.generator.apply(variables, z, y if self.conditional else None, train=False)


def to_unit(images):
    """[-1, 1] generator output -> [0, 1]."""
    return (images + 1.0) / 2.0


def from_uint8(images):
    """uint8 images (N, H, W[, C]) -> float32 (N, H, W, C) in [-1, 1]."""
    images = jnp.asarray(images, jnp.float32)
    if images.ndim == 3:
        images = images[..., None]
    return images / 127.5 - 1.0


def adam(learning_rate: float = LEARNING_RATE, beta1: float = BETA1):
    """The DCGAN optimiser: Adam with Radford et al.'s (2016) learning rate and beta1 by
    default."""
    return optax.adam(learning_rate, b1=beta1)


def make_sampler(gan: GAN, batch_size: int = 500):
    """Jitted ``sample(state, z (N, z_dim), y (N,)) -> images (N, S, S)`` in [0, 1] from the
    generator in inference mode, ``batch_size`` images at a time (one compiled batch)."""

    def sample(state, z, y):
        def one(zy):
            return gan.sample(state, zy[0][None], zy[1][None])[0, ..., 0]

        return to_unit(jax.lax.map(one, (z, y), batch_size=batch_size))

    return jax.jit(sample)
