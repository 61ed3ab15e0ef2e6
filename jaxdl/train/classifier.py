"""Supervised training of a small classifier (the demo CNN, the GAN-quality classifier)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data.pipeline import batch_indices


def fit_classifier(
    module,
    x,
    y,
    *,
    epochs: int = 5,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress=None,
):
    """Train ``module`` (returning ``(logits, intermediates)``) on x (N,H,W,C) float, y (N,) int
    with Adam and cross-entropy; returns the params. ``progress(steps)`` (e.g. a tqdm bar's
    ``update``) is called after each epoch with its number of steps."""
    key_init, key_dropout = jax.random.split(jax.random.key(seed))
    params = module.init(key_init, jnp.asarray(x[:1]))["params"]
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(params)

    @jax.jit
    def step(params, opt_state, xb, yb, key):
        def loss_fn(p):
            logits, _ = module.apply({"params": p}, xb, train=True, rngs={"dropout": key})
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    for epoch in range(epochs):
        for i, idx in enumerate(
            batch_indices(len(x), batch_size, seed=seed + epoch, drop_remainder=True)
        ):
            key = jax.random.fold_in(key_dropout, epoch * 100_000 + i)
            params, opt_state, _ = step(
                params, opt_state, jnp.asarray(x[idx]), jnp.asarray(y[idx]), key
            )
        if progress is not None:
            jax.block_until_ready(params)
            progress(len(x) // batch_size)
    return params


def predict_classes(module, params, x, batch_size: int = 512) -> np.ndarray:
    """Argmax class of each input, batched."""
    apply = jax.jit(lambda p, xb: jnp.argmax(module.apply({"params": p}, xb)[0], axis=-1))
    return np.concatenate(
        [
            np.asarray(apply(params, jnp.asarray(x[i : i + batch_size])))
            for i in range(0, len(x), batch_size)
        ]
    )
