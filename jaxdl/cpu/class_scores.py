"""SqueezeNet class scores from the target classes' classifier channels alone.

SqueezeNet's logits are the spatial means of ReLU(1x1 convolution of fire9): the score of one
class needs only that class's column of the classifier kernel. Saliency, SmoothGrad and class
visualisation differentiate one class score per image, so computing just those columns skips
the 1000-channel convolution and its gradient (a quarter of SqueezeNet 1.1's work). A plain
function of the module and params: the model itself stays a plain classifier.
"""

import jax.numpy as jnp

from jaxdl.models.squeezenet import SqueezeNet


def squeezenet_class_scores(module: SqueezeNet, params, x, classes):
    """x (N,H,W,3), classes (N,) int -> (N,) the logit of class ``classes[i]`` for image i, equal
    to ``module.apply({"params": params}, x)[0][i, classes[i]]``."""
    if not isinstance(module, SqueezeNet):
        raise TypeError(
            f"squeezenet_class_scores: expected a SqueezeNet, got {type(module).__name__}"
        )
    fire9, _ = module.apply({"params": params}, x, stop_at="fire9")
    pad = module.final_conv_padding
    fire9 = jnp.pad(fire9, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    head = params["classifier"]
    kernel, bias = head["kernel"][0, 0][:, classes], head["bias"][classes]  # (C, N), (N,)
    maps = jnp.einsum("nhwc,cn->nhw", fire9, kernel) + bias[:, None, None]
    return jnp.maximum(maps, 0.0).mean(axis=(1, 2))


def class_scores_for(module):
    """The fast class-score function for ``module`` (a SqueezeNet), else None."""
    return squeezenet_class_scores if isinstance(module, SqueezeNet) else None
