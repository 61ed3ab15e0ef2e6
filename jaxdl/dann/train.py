"""DANN training steps (Ganin et al. 2016) for the shared loop, with the baselines and the
question-1 variant, and the evaluations of the chapter.

Methods (``make_step(method=...)``):
- ``"source_only"``: label loss on source only.
- ``"dann"``: label loss + domain loss through the gradient reversal layer, factor
  ``lam_p = scale * (2 / (1 + exp(-gamma p)) - 1)``.
- ``"no_reversal"``: the same three parts, but the features *help* the domain classifier
  (lam -> -lam_p: the gradient is not reversed).
- ``"pseudo"``: source label loss + ``lam_p`` x cross-entropy on target images whose predicted
  probability is at least ``threshold``, against their own (stopped-gradient) predicted class.

A batch is ``{"xs": (B,32,32,3) uint8, "ys": (B,) int, "xt": (B,32,32,3) uint8}``.
"""

import chex
import jax
import jax.numpy as jnp
import optax

from jaxdl.dann.grl import annealed_learning_rate, reversal_schedule
from jaxdl.dann.network import AUGMENTATIONS, INPUT_NORMS
from jaxdl.train.state import create_state, step_key

METHODS = ("source_only", "dann", "no_reversal", "pseudo")


def make_optimizer(
    name: str, total_steps: int, mu0: float = 0.01, alpha: float = 10.0, beta: float = 0.75
):
    """The paper's SGD (momentum 0.9) or Adam, both with the annealed learning rate
    ``mu0 / (1 + alpha p)^beta``."""
    schedule = annealed_learning_rate(total_steps, mu0, alpha, beta)
    if name == "sgd":
        return optax.sgd(schedule, momentum=0.9)
    if name == "adam":
        return optax.adam(schedule)
    raise ValueError(f"unknown optimizer {name!r}; expected 'sgd' or 'adam'")


def init_state(model, optimizer, seed: int, image_shape=(32, 32, 3)):
    """A TrainState with freshly initialised params (key ``seed``)."""
    params = model.init(jax.random.key(seed), jnp.zeros((1, *image_shape), jnp.float32))["params"]
    return create_state(params, optimizer.init(params), seed)


def domain_loss_and_accuracy(domain_logits, n_source: int):
    """Binary cross-entropy (source = 0, target = 1) and accuracy of the domain logits (2B,)."""
    labels = jnp.concatenate([jnp.zeros(n_source), jnp.ones(domain_logits.shape[0] - n_source)])
    loss = optax.sigmoid_binary_cross_entropy(domain_logits, labels).mean()
    return loss, jnp.mean((domain_logits > 0) == (labels > 0.5))


def make_step(
    model,
    optimizer,
    method: str,
    total_steps: int,
    gamma: float = 10.0,
    scale: float = 1.0,
    threshold: float = 0.9,
    input_norm: str = "scale",
    augment: str = "none",
):
    """``step(state, batch) -> (state, metrics)`` for ``method`` (see the module docstring);
    ``input_norm``: a key of ``jaxdl.dann.network.INPUT_NORMS``; ``augment``: a key of
    ``jaxdl.dann.network.AUGMENTATIONS`` applied to the source images (per-step key)."""
    preprocess, augmentation = INPUT_NORMS[input_norm], AUGMENTATIONS[augment]
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    ramp = reversal_schedule(total_steps, gamma, scale)

    def loss_fn(params, batch, lam, key):
        xs, xt = preprocess(augmentation(key, batch["xs"])), preprocess(batch["xt"])
        n = xs.shape[0]
        grl = {"dann": lam, "no_reversal": -lam}.get(method, 0.0)
        logits, acts = model.apply({"params": params}, jnp.concatenate([xs, xt]), lam=grl)
        class_loss = optax.softmax_cross_entropy_with_integer_labels(logits[:n], batch["ys"]).mean()
        domain_loss, domain_acc = domain_loss_and_accuracy(acts["domain_logits"], n)
        probs_t = jax.nn.softmax(jax.lax.stop_gradient(logits[n:]))
        confident = probs_t.max(-1) >= threshold
        pseudo_ce = optax.softmax_cross_entropy_with_integer_labels(logits[n:], probs_t.argmax(-1))
        pseudo_loss = jnp.sum(confident * pseudo_ce) / jnp.maximum(confident.sum(), 1)
        total = class_loss + {
            "dann": domain_loss,
            "no_reversal": domain_loss,
            "pseudo": lam * pseudo_loss,
        }.get(method, 0.0)
        metrics = {
            "loss": total,
            "class_loss": class_loss,
            "domain_loss": domain_loss,
            "domain_acc": domain_acc,
            "source_acc": jnp.mean(logits[:n].argmax(-1) == batch["ys"]),
            "confident_frac": confident.mean(),
        }
        return total, metrics

    def step(state, batch):
        chex.assert_rank([batch["xs"], batch["xt"], batch["ys"]], [4, 4, 1])
        chex.assert_equal_shape([batch["xs"], batch["xt"]])
        chex.assert_type([batch["xs"], batch["xt"]], jnp.uint8)
        lam = ramp(state.step)
        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        (_, metrics), grads = grad_fn(state.params, batch, lam, step_key(state))
        chex.assert_trees_all_equal_shapes_and_dtypes(grads, state.params)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        new = state.replace(
            step=state.step + 1,
            params=optax.apply_updates(state.params, updates),
            opt_state=opt_state,
        )
        return new, {**metrics, "lam": lam}

    return step


def make_apply(model, batch_size: int = 1000, input_norm: str = "scale"):
    """``apply(params, images uint8 (N,32,32,3)) -> (logits (N,10), features (N,1200),
    domain_logits (N,))`` jitted once, evaluated in fixed-size chunks (last one padded)."""
    preprocess = INPUT_NORMS[input_norm]

    @jax.jit
    def chunk(params, x):
        logits, acts = model.apply({"params": params}, preprocess(x))
        return logits, acts["features"], acts["domain_logits"]

    def apply(params, images):
        n = len(images)
        pad = (-n) % batch_size
        padded = jnp.concatenate(
            [jnp.asarray(images), jnp.zeros((pad, *images.shape[1:]), images.dtype)]
        )
        outs = [chunk(params, padded[i : i + batch_size]) for i in range(0, n + pad, batch_size)]
        return tuple(jnp.concatenate(parts)[:n] for parts in zip(*outs))

    return apply


def evaluate(apply, params, source, target) -> dict:
    """Label accuracy on (x, y) source and target sets and the domain classifier's accuracy
    on their union (source = 0, target = 1)."""
    ls, _, ds = apply(params, source[0])
    lt, _, dt = apply(params, target[0])
    domain_acc = (jnp.sum(ds <= 0) + jnp.sum(dt > 0)) / (len(ds) + len(dt))
    return {
        "source_acc": float(jnp.mean(ls.argmax(-1) == source[1])),
        "target_acc": float(jnp.mean(lt.argmax(-1) == target[1])),
        "domain_acc": float(domain_acc),
    }
