"""The chapter-2 single-use commands: ``jaxdl saliency|smoothgrad|gradcam|fool|fgsm|pgd|onepixel|
classviz IMAGES``. Each method's options are generated from its library config, so a flag's
default is the library's."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from experiments.common import (
    add_model_args,
    default_weights,
    pick_kernels,
    print_result,
    read_inputs,
)
from experiments.configs import replace_fields
from experiments.flags import add_config_args, given_fields
from experiments.interpret_figures import saliency_figure
from experiments.subjects import Subject, imagenet_subject
from jaxdl import imagenet, viz
from jaxdl.errors import InputError
from jaxdl.interpret import (
    PRESETS,
    ClassVizConfig,
    FoolConfig,
    OnePixelConfig,
    PGDConfig,
    SmoothGradConfig,
    class_visualization,
    fgsm,
    fool,
    gradcam,
    noise_images,
    one_pixel_attack,
    perturbation_norms,
    pgd,
    predict,
    saliency,
    smoothgrad,
    upsample_maps,
)
from jaxdl.interpret.adversarial import warn_if_beyond_pixel_range
from jaxdl.models import get_spec


def to_uint8_images(s: Subject, x) -> np.ndarray:
    return viz.to_uint8(np.asarray(imagenet.deprocess(x, s.norm)))


def method_config(cls, args, base=None):
    """``base`` (default ``cls()``) with the options given on the command line."""
    return replace_fields(base if base is not None else cls(), given_fields(args))


def _saliency(args, s, targets, kernels):
    return {"saliency": saliency(s.logits_fn, s.params, s.x, targets)}, {}


def _smoothgrad(args, s, targets, kernels):
    config = method_config(SmoothGradConfig, args)
    maps = smoothgrad(
        s.logits_fn, s.params, s.x, targets, config, jax.random.key(args.seed), kernels.normal
    )
    return {"smoothgrad": maps}, {}


def _gradcam(args, s, targets, kernels):
    cams = gradcam(s.module, s.params, s.x, targets, args.layer)
    return {"gradcam": cams, "gradcam_upsampled": upsample_maps(cams, s.x.shape[1])}, {}


def _fool(args, s, targets, kernels):
    result = fool(s.logits_fn, s.params, s.x, targets, s.bounds, method_config(FoolConfig, args))
    linf, l2 = perturbation_norms(result.images, s.x, s.bounds)
    return (
        {
            "images": to_uint8_images(s, result.images),
            "iterations": result.iterations,
            "success": result.success,
            "linf_255": linf,
            "l2_255": l2,
        },
        {
            "success_rate": float(jnp.mean(result.success)),
            "median_linf_255": float(jnp.median(linf)),
        },
    )


def _adversarial(args, s, targets, x, targeted):
    predicted = predict(s.logits_fn, s.params, x)
    hit = (predicted == targets) if targeted else (predicted != targets)
    return (
        {
            "images": to_uint8_images(s, x),
            "predicted": predicted,
            "linf_255": perturbation_norms(x, s.x, s.bounds)[0],
        },
        {"success_rate": float(jnp.mean(hit))},
    )


def _fgsm(args, s, targets, kernels):
    warn_if_beyond_pixel_range(args.eps, "--eps")
    x = fgsm(s.logits_fn, s.params, s.x, targets, s.bounds, args.eps, args.targeted)
    return _adversarial(args, s, targets, x, args.targeted)


def _pgd(args, s, targets, kernels):
    config = method_config(PGDConfig, args)
    x = pgd(s.logits_fn, s.params, s.x, targets, s.bounds, config, jax.random.key(args.seed))
    return _adversarial(args, s, targets, x, config.targeted)


def _onepixel(args, s, targets, kernels):
    config = method_config(OnePixelConfig, args)
    result = one_pixel_attack(
        s.logits_fn, s.params, s.x, targets, s.bounds, config, jax.random.key(args.seed)
    )
    return (
        {
            "images": to_uint8_images(s, result.images),
            "pixels": result.pixels,
            "success": result.success,
            "generations": result.generations,
        },
        {"success_rate": float(jnp.mean(result.success))},
    )


def _classviz(args, s, targets, kernels):
    config = method_config(ClassVizConfig, args, PRESETS[args.preset])
    key = jax.random.key(args.seed)
    start = s.x if args.from_images else noise_images(key, len(targets), s.x.shape[1:], s.bounds)
    final, frames = class_visualization(
        s.logits_fn, s.params, start, targets, s.bounds, config, key
    )
    prob = jax.nn.softmax(s.logits_fn(s.params, final))[jnp.arange(len(targets)), targets]
    return (
        {"images": to_uint8_images(s, final), "frames": to_uint8_images(s, frames), "prob": prob},
        {"min_prob": float(prob.min())},
    )


COMMON_KEYS = "targets (N,) int the classes used, logits (N,1000) of the inputs"
# name -> (help, compute, --save-npz keys, the library config its options come from)
COMMANDS = {
    "saliency": (
        "vanilla saliency maps (Simonyan 2014)",
        _saliency,
        "saliency (N,H,W) float32",
        None,
    ),
    "smoothgrad": (
        "SmoothGrad maps (Smilkov 2017)",
        _smoothgrad,
        "smoothgrad (N,H,W) float32",
        SmoothGradConfig,
    ),
    "gradcam": (
        "Grad-CAM maps on a named layer",
        _gradcam,
        "gradcam (N,h,w) at the layer's resolution, gradcam_upsampled (N,H,W)",
        None,
    ),
    "fool": (
        "fooling images: gradient ascent until the target class is predicted",
        _fool,
        "images (N,H,W,3) uint8 fooled images, iterations (N,), success (N,) bool, linf_255, "
        "l2_255 (N,)",
        FoolConfig,
    ),
    "fgsm": (
        "FGSM adversarial images (L-inf, pixel range kept)",
        _fgsm,
        "images (N,H,W,3) uint8, predicted (N,) classes on them, linf_255 (N,)",
        None,
    ),
    "pgd": (
        "PGD adversarial images (L-inf, pixel range kept)",
        _pgd,
        "images (N,H,W,3) uint8, predicted (N,) classes on them, linf_255 (N,)",
        PGDConfig,
    ),
    "onepixel": (
        "one-pixel attack by differential evolution (Su et al. 2019)",
        _onepixel,
        "images (N,H,W,3) uint8, pixels (N,k,5) x,y,r,g,b, success (N,) bool, generations (N,)",
        OnePixelConfig,
    ),
    "classviz": (
        "class visualisation by regularised gradient ascent (PNG + GIF)",
        _classviz,
        "images (N,H,W,3) uint8 final images, frames (N,T,H,W,3) uint8 trajectory, prob (N,) "
        "target "
        "probability",
        ClassVizConfig,
    ),
}
NEEDS_TARGET = ("fool", "classviz")


def _targeted(args) -> bool:
    return bool(getattr(args, "targeted", None) or getattr(args, "cfg.targeted", None))


def _subject(args, kernels):
    """The network and the images the command works on: (subject, image names)."""
    if not args.images:  # classviz from noise: one blank start image of the network's size
        if args.command != "classviz" or args.from_images:
            raise InputError(f"{args.command}: expected image files or .npz files to work on")
        size = get_spec(args.model).input_size
        images, labels, names = [np.zeros((size, size, 3), np.uint8)], [None], ["noise"]
    else:
        images, labels, names = read_inputs(args.images)
    s = imagenet_subject(
        args.model,
        args.weights or default_weights(args.model, args.data),
        kernels,
        images,
        [-1 if v is None else v for v in labels],
        getattr(args, "layer", "fire9"),
        args.resample,
    )
    return s, names


def _targets(args, s, logits, n: int):
    """--target, else the true class where the inputs carry one, else the predicted class."""
    if args.target is not None:
        return jnp.full(n, imagenet.class_index(args.target))
    if args.command in NEEDS_TARGET or _targeted(args):
        raise InputError(f"{args.command}: --target CLASS (name or index 0..999) is required")
    labels = jnp.asarray(s.labels)
    return jnp.where(labels >= 0, labels, jnp.argmax(logits, -1))


def _figures(args, s, arrays: dict, names, targets, logits, out: Path) -> Path:
    """The command's figure (changed images, or maps beside each image) and classviz's GIFs."""
    figure = out / f"{args.command}.png"
    if "images" not in arrays:
        maps = next(v for k, v in arrays.items() if k != "gradcam")
        predicted = np.asarray(jnp.argmax(logits, -1))
        saliency_figure(s, range(len(names)), {args.command: maps}, predicted, figure)
        return figure
    shown = min(len(names), 8)
    fig, ax = viz.new_figure(1, 1, size=(2.4 * shown, 2.6))
    ax.imshow(viz.image_grid(np.asarray(arrays["images"][:8]) / 255.0, ncols=shown))
    classes = ", ".join(imagenet.short_name(int(t)) for t in targets[:8])
    ax.set_title(f"{args.command}: {classes}", fontsize=9)
    ax.axis("off")
    viz.save_figure(fig, figure)
    if args.command == "classviz":
        for i, clip in enumerate(arrays["frames"]):
            viz.save_gif(clip, out / f"classviz_{names[i]}.gif", fps=4)
    return figure


def _command(args):
    kernels = pick_kernels(args.kernels)
    s, names = _subject(args, kernels)
    logits = s.logits_fn(s.params, s.x)
    targets = _targets(args, s, logits, len(names))
    arrays, summary = COMMANDS[args.command][1](args, s, targets, kernels)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = _figures(args, s, arrays, names, targets, logits, out)
    if args.save_npz:
        Path(args.save_npz).parent.mkdir(parents=True, exist_ok=True)
        raw = {k: np.asarray(v) for k, v in arrays.items()}
        np.savez(args.save_npz, targets=np.asarray(targets), logits=np.asarray(logits), **raw)
    result = {"command": args.command, "n": len(names), "figure": str(figure)}
    print_result({**result, "npz": args.save_npz, **summary})


def _command_args(p, name: str) -> None:
    """The options only some commands have."""
    if name == "gradcam":
        p.add_argument(
            "--layer", default="fire9", help="named convolutional layer (default: %(default)s)"
        )
    if name == "fgsm":
        p.add_argument(
            "--eps",
            type=float,
            default=PGDConfig.eps,
            help="L-inf budget in 0..255 pixel units (default: %(default)s)",
        )
        p.add_argument(
            "--targeted",
            action="store_true",
            help="towards --target instead of away from the label (default: off)",
        )
    if name == "classviz":
        p.add_argument(
            "--preset",
            default="default",
            choices=tuple(PRESETS),
            help="regularisation preset the options below start from (default: %(default)s)",
        )
        p.add_argument(
            "--from-images",
            action="store_true",
            help="start from the images instead of noise (default: off)",
        )


def register(subparsers):
    """Add the chapter-2 single-use commands to the ``jaxdl`` parser."""
    for name, (help_text, _, keys, config_cls) in COMMANDS.items():
        p = subparsers.add_parser(
            name,
            help=help_text,
            description=f"{help_text}; writes a figure into --out.",
            epilog=f"--save-npz keys: {keys}; {COMMON_KEYS}.",
        )
        p.add_argument(
            "images",
            nargs="*" if name == "classviz" else "+",
            help="image files, or .npz files holding X (N,H,W,3) uint8 and y"
            + (
                " (classviz: only with --from-images; from noise it needs none)"
                if name == "classviz"
                else ""
            ),
        )
        add_model_args(p)
        p.add_argument(
            "--target",
            help="class name or index (default: the true class from the .npz 'y', "
            "else the predicted one; required for fool/classviz and targeted attacks)",
        )
        p.add_argument("--out", default=f"runs/{name}", help="output folder (default: %(default)s)")
        p.add_argument(
            "--save-npz",
            metavar="PATH",
            help="also save the raw arrays (keys below; default: none)",
        )
        p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
        _command_args(p, name)
        if config_cls is not None:
            add_config_args(p, config_cls, f"{config_cls.__name__} options")
        p.set_defaults(func=_command)
