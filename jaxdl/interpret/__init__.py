"""Interpreting image classifiers: saliency maps, SmoothGrad, Grad-CAM, adversarial examples
(fooling images, FGSM, PGD, one-pixel attack) and class visualisation.

Methods are pure functions of ``(logits_fn, params, images, targets, ..., config, rng)``,
jitted once per model/config, written for one image and vmapped over the batch. For a jaxdl
model use ``ModuleLogits(get_model(name))`` as ``logits_fn``.
"""

from jaxdl.interpret.adversarial import (
    FoolConfig,
    PGDConfig,
    accuracy_against_eps,
    fgsm,
    fool,
    perturbation_norms,
    pgd,
    predict,
    quantize,
    to_pixel_units,
)
from jaxdl.interpret.class_viz import (
    PRESETS,
    ClassVizConfig,
    class_visualization,
    noise_images,
    preset,
)
from jaxdl.interpret.one_pixel import (
    OnePixelConfig,
    attack_correctly_classified,
    evaluations_used,
    one_pixel_attack,
    success_within,
)
from jaxdl.interpret.saliency import (
    ModuleLogits,
    SmoothGradConfig,
    gradcam,
    gradcam_layers,
    saliency,
    smoothgrad,
    upsample_maps,
)

__all__ = [
    "ModuleLogits",
    "SmoothGradConfig",
    "saliency",
    "smoothgrad",
    "gradcam",
    "gradcam_layers",
    "upsample_maps",
    "FoolConfig",
    "PGDConfig",
    "fool",
    "fgsm",
    "accuracy_against_eps",
    "pgd",
    "predict",
    "perturbation_norms",
    "quantize",
    "to_pixel_units",
    "OnePixelConfig",
    "one_pixel_attack",
    "attack_correctly_classified",
    "evaluations_used",
    "success_within",
    "ClassVizConfig",
    "PRESETS",
    "preset",
    "class_visualization",
    "noise_images",
]
