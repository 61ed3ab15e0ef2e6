"""Fine-tuning the last block(s) of a pretrained network on a small labelled image set.

The network's head is replaced by a fresh ``num_classes`` one; only the ``trainable`` layers
(e.g. SqueezeNet ``fire9`` + ``classifier``) get gradients, the rest stays frozen (it rides in
``state.extra`` so checkpoints hold the whole model). Each step draws a random ``size`` crop
and a random horizontal flip of every (S, S, C) uint8 training image on the device. Training
runs on the shared driver ``jaxdl.train.loop.fit`` (jitted step, orbax checkpoints, resume).
"""

import jax
import jax.numpy as jnp
import optax

from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers
from jaxdl.models import get_model
from jaxdl.train import loop
from jaxdl.train.batches import array_stream
from jaxdl.train.checkpoint import Checkpointer
from jaxdl.train.state import create_state, step_key
from jaxdl.transfer.features import Preprocessing, network_input, network_params

# The parameter entry of each architecture's last (class) layer.
HEADS = {
    "vgg16": "fc8",
    "squeezenet1_0": "classifier",
    "squeezenet1_1": "classifier",
    "squeezenet1_0_caffe": "classifier",
    "mnist_cnn": "fc2",
}
DEFAULT_TRAINABLE = {"vgg16": ("fc7", "fc8"), "mnist_cnn": ("fc1", "fc2")}


def trainable_layers(model: str) -> tuple:
    """The last block(s) fine-tuned by default: SqueezeNet fire9 + classifier, VGG16 fc7 + fc8."""
    return DEFAULT_TRAINABLE.get(model, ("fire9", "classifier"))


def replace_head(model: str, params, num_classes: int, key, input_shape):
    """``params`` with the class layer re-drawn for ``num_classes`` (kernel N(0, 0.01), bias 0)."""
    head = HEADS[model]
    shapes = jax.eval_shape(
        get_model(model, num_classes=num_classes).init, key, jnp.zeros(input_shape)
    )
    kernel_shape = shapes["params"][head]["kernel"].shape
    return {
        **params,
        head: {
            "kernel": 0.01 * jax.random.normal(key, kernel_shape),
            "bias": jnp.zeros((num_classes,)),
        },
    }


def augment(images, key, size: int):
    """Random ``size`` crop and random horizontal flip of each (B, S, S, C) uint8 image -> [0,
    1]."""

    def one(image, k):
        k_row, k_col, k_flip = jax.random.split(k, 3)
        side = image.shape[0]
        row = jax.random.randint(k_row, (), 0, side - size + 1)
        col = jax.random.randint(k_col, (), 0, side - size + 1)
        crop = jax.lax.dynamic_slice(image, (row, col, 0), (size, size, image.shape[-1]))
        return jnp.where(jax.random.bernoulli(k_flip), crop[:, ::-1], crop)

    keys = jax.random.split(key, images.shape[0])
    return jax.vmap(one)(images, keys).astype(jnp.float32) / 255.0


def make_step(
    model: str, num_classes: int, pre: Preprocessing, optimizer, layer_set: Layers = FLAX
):
    """The step ``(state, {"images", "labels"}) -> (state, {"loss", "accuracy"})``."""
    module = get_model(model, num_classes=num_classes, layers=layer_set)

    def loss_fn(trainable, frozen, batch, key):
        k_aug, k_dropout = jax.random.split(key)
        x = network_input(augment(batch["images"], k_aug, pre.size), pre)
        logits, _ = module.apply(
            {"params": {**frozen, **trainable}}, x, train=True, rngs={"dropout": k_dropout}
        )
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, batch["labels"]).mean()
        return loss, jnp.mean(jnp.argmax(logits, -1) == batch["labels"])

    def step_fn(state, batch):
        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        (loss, accuracy), grads = grad_fn(
            state.params, state.extra["frozen"], batch, step_key(state)
        )
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        return state.replace(
            step=state.step + 1,
            params=optax.apply_updates(state.params, updates),
            opt_state=opt_state,
        ), {"loss": loss, "accuracy": accuracy}

    return step_fn


def finetune(
    model: str,
    params,
    images,
    labels,
    num_classes: int,
    pre: Preprocessing,
    *,
    trainable=None,
    epochs: int = 5,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    checkpoint_dir=None,
    resume: bool = False,
    logger=None,
    progress=None,
    layer_set: Layers = FLAX,
):
    """Fine-tune on ``images`` (N, S, S, C) uint8 (S >= ``pre.size``) and ``labels`` (N,).

    Returns ``(params, records)``: the whole network's params (the input layer folded as
    ``pre.channels`` asks, head of width ``num_classes``) and the per-epoch metric records.
    Checkpoints (orbax) go to ``checkpoint_dir`` once per epoch; ``resume`` continues the last;
    ``logger`` (a ``jaxdl.train.logging.MetricsLogger``) records the epochs' loss and accuracy;
    ``layer_set``: the network's layers (``jaxdl.cpu.LAYERS`` for the XLA:CPU kernels).
    """
    trainable = tuple(trainable or trainable_layers(model))
    params = network_params(model, params, pre)
    params = replace_head(
        model, params, num_classes, jax.random.key(seed), (1, pre.size, pre.size, images.shape[-1])
    )
    missing = [name for name in trainable if name not in params]
    if missing:
        raise InputError(
            f"cannot fine-tune {missing[0]!r}: not a parameter of {model} ({', '.join(params)})"
        )
    steps_per_epoch = len(images) // batch_size
    schedule = optax.cosine_decay_schedule(learning_rate, max(1, epochs * steps_per_epoch))
    optimizer = optax.adamw(schedule, weight_decay=1e-4)
    train = {name: params[name] for name in trainable}
    frozen = {name: value for name, value in params.items() if name not in trainable}
    # the jitted step donates its state: copy so the caller's arrays survive
    state = jax.tree.map(
        jnp.array, create_state(train, optimizer.init(train), seed, extra={"frozen": frozen})
    )
    checkpointer = (
        Checkpointer(checkpoint_dir, every=steps_per_epoch, keep=2) if checkpoint_dir else None
    )
    state, records = loop.fit(
        loop.jit_step(make_step(model, num_classes, pre, optimizer, layer_set)),
        state,
        lambda start: array_stream({"images": images, "labels": labels}, batch_size, seed, start),
        num_steps=epochs * steps_per_epoch,
        checkpointer=checkpointer,
        logger=logger,
        log_every=steps_per_epoch,
        resume=resume,
        progress=progress,
    )
    return {**state.extra["frozen"], **state.params}, records
