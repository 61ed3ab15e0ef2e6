"""DANN training steps (Ganin et al. 2016) for the shared loop, with the baselines, the
question-1 variant and a self-training method past the practical, and the chapter's
evaluations.

Methods (``make_step(method=...)``):

- ``"source_only"``: label loss on source only.
- ``"dann"``: label loss + domain loss through the gradient reversal layer, factor
  ``lam_p = scale * (2 / (1 + exp(-gamma p)) - 1)``.
- ``"no_reversal"``: the same three parts, but the features *help* the domain classifier
  (lam -> -lam_p: the gradient is not reversed).
- ``"pseudo"``: source label loss + ``lam_p`` x cross-entropy on target images whose predicted
  probability is at least ``threshold``, against their own (stopped-gradient) predicted class.
- ``"target_only"``: label loss on the target images with their labels (``batch["yt"]``): the
  upper bound no adaptation method is expected to pass with the same network and inputs.
- ``"self_train"``: DANN + mean-teacher self-training (Tarvainen & Valpola 2017; French et al.
  2018): an exponential moving average of the weights (the teacher, ``ema``) labels the clean
  target images; the student learns those with teacher confidence >= ``threshold`` from a
  shifted and channel-inverted copy, each weighted inversely to its class's running share of
  the confident labels (class balance), with weight ``lam_p``, plus ``entropy`` x the entropy of
  the student's target predictions (the conditional-entropy term of VADA, Shu et al. 2018). The
  teacher is the model evaluated (``eval_params``).

A batch is ``{"xs": (B,32,32,3) uint8, "ys": (B,) int, "xt": (B,32,32,3) uint8}``, and
``"yt": (B,) int`` for ``"target_only"``.
"""

from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax

from jaxdl.dann.grl import annealed_learning_rate, reversal_schedule
from jaxdl.dann.network import AUGMENTATIONS, DANN, invert_channels, random_shift
from jaxdl.dann.network import input_norm as make_input_norm
from jaxdl.dann.presets import METHODS, Hyper, Setting
from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers
from jaxdl.train.state import create_state, step_key

NUM_CLASSES = 10


def make_optimizer(
    name: str, total_steps: int, *, mu0: float, alpha: float = 10.0, beta: float = 0.75
):
    """The paper's SGD (momentum 0.9) or Adam, both with the annealed learning rate
    ``mu0 / (1 + alpha p)^beta`` (``mu0`` has no default: the presets' differ)."""
    schedule = annealed_learning_rate(total_steps, mu0, alpha, beta)
    if name == "sgd":
        return optax.sgd(schedule, momentum=0.9)
    if name == "adam":
        return optax.adam(schedule)
    raise InputError(f"unknown optimizer {name!r}; expected 'sgd' or 'adam'")


def init_state(model, optimizer, seed: int, method: str = "dann", image_shape=(32, 32, 3)):
    """A TrainState with freshly initialised params (key ``seed``); ``"self_train"`` also
    carries the teacher (a copy of the params) and the running class shares in ``extra``."""
    params = model.init(jax.random.key(seed), jnp.zeros((1, *image_shape), jnp.float32))["params"]
    extra = {}
    if method == "self_train":
        extra = {"teacher": params, "class_share": jnp.full(NUM_CLASSES, 1.0 / NUM_CLASSES)}
    return create_state(params, optimizer.init(params), seed, extra=extra)


def eval_params(state):
    """The weights a method is evaluated with: the teacher of self-training, else the params."""
    return state.extra.get("teacher", state.params)


def domain_loss_and_accuracy(domain_logits, n_source: int):
    """Binary cross-entropy (source = 0, target = 1) and accuracy of the domain logits (2B,)."""
    labels = jnp.concatenate([jnp.zeros(n_source), jnp.ones(domain_logits.shape[0] - n_source)])
    loss = optax.sigmoid_binary_cross_entropy(domain_logits, labels).mean()
    return loss, jnp.mean((domain_logits > 0) == (labels > 0.5))


def pseudo_label_loss(logits, target_probs, threshold: float, class_weight):
    """Cross-entropy of ``logits`` (B,10) against the argmax of ``target_probs`` (B,10) where its
    max is >= ``threshold``, each weighted by ``class_weight[label]`` (10,), averaged over the
    confident ones: (loss, confident mask (B,), labels (B,))."""
    confident = target_probs.max(-1) >= threshold
    labels = target_probs.argmax(-1)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels) * class_weight[labels]
    return jnp.sum(confident * ce) / jnp.maximum(confident.sum(), 1), confident, labels


class Terms(NamedTuple):
    """The loss terms of one batch that the methods' losses combine (scalars)."""

    class_loss: jax.Array  # on the labelled images (the target's for target_only)
    domain_loss: jax.Array  # of the domain classifier, behind the reversal layer
    pseudo_loss: jax.Array  # on the confident pseudo-labelled target images
    target_entropy: jax.Array  # of the (student's) target predictions


def source_only_loss(t: Terms, lam, hyper: Hyper):
    """The label loss alone (also ``target_only``'s, on the labelled target)."""
    return t.class_loss


def dann_loss(t: Terms, lam, hyper: Hyper):
    """Label + domain loss; the reversal layer scales the domain gradient by -lam (``dann``) or
    +lam (``no_reversal``)."""
    return t.class_loss + t.domain_loss


def pseudo_loss(t: Terms, lam, hyper: Hyper):
    """Label loss + lam x the loss on the confident target pseudo-labels."""
    return t.class_loss + lam * t.pseudo_loss


def self_train_loss(t: Terms, lam, hyper: Hyper):
    """DANN + lam x (the teacher's pseudo-label loss + ``entropy`` x the target entropy)."""
    return t.class_loss + t.domain_loss + lam * (t.pseudo_loss + hyper.entropy * t.target_entropy)


class Method(NamedTuple):
    """A method: its loss, the reversal layer's factor per lam_p (0: the domain gradient does
    not reach the features) and whether it learns the target's labels or has a teacher."""

    loss: Callable
    reversal: float = 0.0
    target_labels: bool = False
    teacher: bool = False


LOSSES = {
    "source_only": Method(source_only_loss),
    "dann": Method(dann_loss, reversal=1.0),
    "no_reversal": Method(dann_loss, reversal=-1.0),
    "pseudo": Method(pseudo_loss),
    "self_train": Method(self_train_loss, reversal=1.0, teacher=True),
    "target_only": Method(source_only_loss, target_labels=True),
}
assert tuple(LOSSES) == METHODS


def make_step(
    model, optimizer, method: str, *, setting: Setting, hyper: Hyper = Hyper(), pixel_mean=None
):
    """``step(state, batch) -> (state, metrics)`` training ``method`` (see the module docstring)
    for ``setting.steps`` steps with ``setting``'s inputs and augmentation and ``hyper``'s
    knobs; ``pixel_mean`` is needed by ``input_norm="mean"`` only."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {METHODS}")
    spec = LOSSES[method]
    preprocess = make_input_norm(setting.input_norm, pixel_mean)
    augmentation = AUGMENTATIONS[setting.augment]
    ramp = reversal_schedule(setting.steps, hyper.gamma, hyper.reversal_scale)

    def student_target(keys, xt):
        """The target images the student sees: a shifted, channel-inverted copy for
        self-training, else the batch itself."""
        if not spec.teacher:
            return xt
        return invert_channels(keys[1], random_shift(keys[0], xt, hyper.shift))

    def loss_fn(params, extra, batch, lam, key):
        key_source, *keys_target = jax.random.split(key, 3)
        xs = preprocess(augmentation(key_source, batch["xs"]))
        xt_student = preprocess(student_target(keys_target, batch["xt"]))
        n = xs.shape[0]
        logits, acts = model.apply(
            {"params": params}, jnp.concatenate([xs, xt_student]), lam=spec.reversal * lam
        )
        labelled, truth = (logits[:n], batch["ys"])
        if spec.target_labels:
            labelled, truth = logits[n:], batch["yt"]
        domain_loss, domain_acc = domain_loss_and_accuracy(acts["domain_logits"], n)
        if spec.teacher:
            teacher_logits, _ = model.apply({"params": extra["teacher"]}, preprocess(batch["xt"]))
            target_probs = jax.nn.softmax(jax.lax.stop_gradient(teacher_logits))
            class_weight = 1.0 / (NUM_CLASSES * jnp.maximum(extra["class_share"], 0.02))
        else:
            target_probs = jax.nn.softmax(jax.lax.stop_gradient(logits[n:]))
            class_weight = jnp.ones(NUM_CLASSES)
        pseudo, confident, labels = pseudo_label_loss(
            logits[n:], target_probs, hyper.threshold, class_weight
        )
        probs = jax.nn.softmax(logits[n:])
        terms = Terms(
            class_loss=optax.softmax_cross_entropy_with_integer_labels(labelled, truth).mean(),
            domain_loss=domain_loss,
            pseudo_loss=pseudo,
            target_entropy=-jnp.sum(probs * jax.nn.log_softmax(logits[n:]), -1).mean(),
        )
        total = spec.loss(terms, lam, hyper)
        metrics = {
            "loss": total,
            "class_loss": terms.class_loss,
            "domain_loss": domain_loss,
            "domain_acc": domain_acc,
            "source_acc": jnp.mean(logits[:n].argmax(-1) == batch["ys"]),
            "confident_frac": confident.mean(),
            "target_entropy": terms.target_entropy,
        }
        return total, (metrics, confident, labels)

    def updated_extra(extra, params, confident, labels, step):
        """The teacher moved towards the new params (decay ``min(ema, 1 - 1 / (step + 1))``: it
        follows the student closely at first, Tarvainen & Valpola's ramp); the class shares
        towards this batch's."""
        if not spec.teacher:
            return extra
        decay = jnp.minimum(hyper.ema, 1.0 - 1.0 / (step + 1.0))
        teacher = optax.incremental_update(params, extra["teacher"], 1.0 - decay)
        counts = jnp.zeros(NUM_CLASSES).at[labels].add(confident)
        share = jnp.where(
            counts.sum() > 0,
            hyper.ema * extra["class_share"]
            + (1.0 - hyper.ema) * counts / jnp.maximum(counts.sum(), 1),
            extra["class_share"],
        )
        return {"teacher": teacher, "class_share": share}

    def step(state, batch):
        chex.assert_rank([batch["xs"], batch["xt"], batch["ys"]], [4, 4, 1])
        chex.assert_equal_shape([batch["xs"], batch["xt"]])
        chex.assert_type([batch["xs"], batch["xt"]], jnp.uint8)
        if spec.teacher and "teacher" not in state.extra:
            raise InputError("self_train needs a state from init_state(..., method='self_train')")
        lam = ramp(state.step)
        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        (_, (metrics, confident, labels)), grads = grad_fn(
            state.params, state.extra, batch, lam, step_key(state)
        )
        chex.assert_trees_all_equal_shapes_and_dtypes(grads, state.params)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        new = state.replace(
            step=state.step + 1,
            params=params,
            opt_state=opt_state,
            extra=updated_extra(state.extra, params, confident, labels, state.step + 1),
        )
        return new, {**metrics, "lam": lam}

    return step


def make_apply(model, batch_size: int = 1000, input_norm: str = "scale", pixel_mean=None):
    """``apply(params, images uint8 (N,32,32,3)) -> (logits (N,10), features (N,D),
    domain_logits (N,))`` jitted once, evaluated in fixed-size chunks (last one padded)."""
    preprocess = make_input_norm(input_norm, pixel_mean)

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


class Parts(NamedTuple):
    """What training one method in one setting needs: the network, the optimiser, the
    un-jitted ``step(state, batch) -> (state, metrics)`` and the chunked evaluation
    ``apply(params, images) -> (logits, features, domain_logits)``."""

    model: DANN
    optimizer: object
    step: Callable
    apply: Callable


def build(
    setting: Setting,
    method: str,
    *,
    hyper: Hyper = Hyper(),
    pixel_mean=None,
    layers: Layers = FLAX,
) -> Parts:
    """The network, optimiser, step and evaluation of ``method`` trained in ``setting`` (a
    preset such as ``PAPER``); ``pixel_mean``: the training pixel mean, for
    ``input_norm="mean"``."""
    model = DANN(widths=setting.widths, layers=layers)
    optimizer = make_optimizer(setting.optimizer, setting.steps, mu0=setting.learning_rate)
    step = make_step(model, optimizer, method, setting=setting, hyper=hyper, pixel_mean=pixel_mean)
    apply = make_apply(model, input_norm=setting.input_norm, pixel_mean=pixel_mean)
    return Parts(model, optimizer, step, apply)
