"""Chapter 2: saliency maps, SmoothGrad, Grad-CAM, adversarial examples and class visualisation.

Reproduces the practical on the 25 images of imagenet_val_25.npz with SqueezeNet 1.1: saliency
for the true and the predicted class (consistent and inconsistent predictions picked
automatically), fooling images for fixed targets, FGSM/PGD, the one-pixel attack, and class
visualisations from noise and from the hay image with regularisation / learning-rate /
iteration sweeps. Without ImageNet weights it runs the same methods on a small CNN trained on
scikit-learn's digits.
"""
import csv
import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import imagenet, viz
from jaxdl.data.digits import load_digits_images
from jaxdl.interpret import (FoolConfig, ModuleLogits, OnePixelConfig, PGDConfig, SmoothGradConfig,
                             class_visualization, fgsm, fool, gradcam, noise_images, one_pixel_attack,
                             perturbation_norms, pgd, predict, preset, quantize, saliency, smoothgrad, upsample_maps)
from jaxdl.models import get_model
from jaxdl.train.classifier import fit_classifier
from experiments.common import load_weights, preprocessing, print_result, read_inputs
from experiments.configs.visualize import VisualizeConfig as Config

WEIGHTS = "weights/squeezenet1_1_onnx_zoo"
IMAGES = "imagenet/imagenet_val_25.npz"
DIGIT_TARGETS = (3, 7, 1)  # stand-ins for the ImageNet targets on the digits fallback
DIGIT_VIZ = (0, 4, 8)


@dataclasses.dataclass(frozen=True)
class Subject:
    """A model with its inputs: everything the methods and figures need, ImageNet or digits."""

    name: str
    module: object
    params: dict
    x: jax.Array  # (N,H,W,C) network inputs
    labels: np.ndarray  # (N,) true classes
    bounds: tuple
    norm: object  # imagenet.Normalization, or None for inputs already in [0, 1]
    class_names: tuple
    gradcam_layer: str

    @property
    def logits_fn(self):
        return ModuleLogits(self.module, tuple(self.x.shape[1:]))

    def display(self, x) -> np.ndarray:
        """Network inputs -> [0,1] images for figures (grey images lose their channel axis)."""
        rgb = np.asarray(imagenet.deprocess(x, self.norm) if self.norm else jnp.clip(x, 0, 1))
        return rgb[..., 0] if rgb.shape[-1] == 1 else rgb

    def label(self, index) -> str:
        return self.class_names[int(index)]


def quick(config: Config) -> Config:
    return dataclasses.replace(config, images=config.images[:5], examples=1, smoothgrad_samples=10,
                               fool_targets=config.fool_targets[:1], pgd_steps=5, onepixel_population=16,
                               onepixel_generations=2, viz_classes=config.viz_classes[1:2], viz_presets=("default",),
                               viz_steps=60, viz_learning_rates=())


def imagenet_subject(config: Config, data: Path, images=None, labels=None) -> Subject:
    params, meta = load_weights(config.model, config.weights or str(data / WEIGHTS))
    if images is None:
        with np.load(data / IMAGES, allow_pickle=False) as archive:
            images, labels = archive["X"][list(config.images)], archive["y"][list(config.images)]
    pre = preprocessing(meta)
    x = jnp.concatenate([imagenet.preprocess(jnp.asarray(im), **pre) for im in images])
    names = tuple(imagenet.short_name(i) for i in range(1000))
    return Subject(config.model, get_model(config.model), params, x, np.asarray(labels), imagenet.pixel_bounds(pre["norm"]),
                   pre["norm"], names, config.gradcam_layer)


def digits_subject(config: Config) -> Subject:
    x, y = load_digits_images(28)
    x = x[..., None].astype(np.float32) / 255.0
    module = get_model("mnist_cnn")
    params = fit_classifier(module, x[:1400], y[:1400], epochs=8, batch_size=64, seed=config.seed)
    picked = 1400 + np.arange(len(config.images))
    return Subject("digits CNN", module, params, jnp.asarray(x[picked]), y[picked], (jnp.zeros(1), jnp.ones(1)),
                   None, tuple(str(d) for d in range(10)), "conv2")


def resolve_class(subject: Subject, name) -> int:
    """A class index of the subject's model from a name or index (a clear error otherwise)."""
    if subject.norm is not None:
        return imagenet.class_index(name)
    if str(name).isdigit() and int(name) < len(subject.class_names):
        return int(name)
    raise ValueError(f"unknown class {name!r}: expected a digit 0..{len(subject.class_names) - 1}")


def write_csv(path: Path, rows: list[dict]) -> str:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path.name


def overlay(ax, image, heat, title):
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
    ax.imshow(heat, cmap="jet", alpha=0.45, extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5))
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def saliency_figure(subject: Subject, rows, maps: dict, predicted, path: Path) -> str:
    """Seed Fig. 2.1-2.4: image (true/predicted label) and one column per map, per row index."""
    fig, axes = viz.new_figure(len(rows), 1 + len(maps), size=(2.6, 2.6))
    axes = np.asarray(axes).reshape(len(rows), 1 + len(maps))
    for r, i in enumerate(rows):
        image = subject.display(subject.x[i])
        axes[r, 0].imshow(image, cmap="gray" if image.ndim == 2 else None)
        axes[r, 0].set_title(f"true {subject.label(subject.labels[i])}\npred {subject.label(predicted[i])}", fontsize=9)
        axes[r, 0].axis("off")
        for c, (title, values) in enumerate(maps.items(), 1):
            if title.startswith("Grad-CAM"):
                overlay(axes[r, c], image, np.asarray(values[i]), title)
            else:
                axes[r, c].imshow(np.asarray(values[i]), cmap="hot")
                axes[r, c].set_title(title, fontsize=9)
                axes[r, c].axis("off")
    return viz.save_figure(fig, path).name


def saliency_section(config: Config, s: Subject, workdir: Path):
    predicted = np.asarray(predict(s.logits_fn, s.params, s.x))
    right = [i for i in range(len(s.labels)) if predicted[i] == s.labels[i]][: config.examples]
    wrong = [i for i in range(len(s.labels)) if predicted[i] != s.labels[i]][: config.examples]
    labels, preds = jnp.asarray(s.labels), jnp.asarray(predicted)
    true_maps = saliency(s.logits_fn, s.params, s.x, labels)
    pred_maps = saliency(s.logits_fn, s.params, s.x, preds)
    rows = right + wrong
    sg_config = SmoothGradConfig(samples=config.smoothgrad_samples, noise=config.smoothgrad_noise)
    sg = smoothgrad(s.logits_fn, s.params, s.x[jnp.array(rows)], labels[jnp.array(rows)], sg_config, jax.random.key(config.seed))
    cams = upsample_maps(gradcam(s.module, s.params, s.x, labels, s.gradcam_layer), s.x.shape[1])
    maps = {"saliency (true)": true_maps, "saliency (pred.)": pred_maps,
            "SmoothGrad (true)": dict(zip(rows, sg)), f"Grad-CAM {s.gradcam_layer} (true)": cams}
    figures = []
    for case, idx in (("consistent", right), ("inconsistent", wrong)):
        if idx:
            figures.append(saliency_figure(s, idx, maps, predicted, workdir / f"saliency_{case}.png"))
    accuracy = float((predicted == s.labels).mean())
    text = (f"{s.name} predicts {int((predicted == s.labels).sum())} of {len(s.labels)} images right. Saliency "
            f"(max over channels of |d score / d pixel|) for the true and the predicted class, SmoothGrad "
            f"({config.smoothgrad_samples} samples, noise {config.smoothgrad_noise} of the range) and Grad-CAM on "
            f"{s.gradcam_layer}; first figure: correct predictions (both maps agree), second: wrong ones.")
    return {"accuracy": accuracy}, {"title": "Saliency maps, SmoothGrad and Grad-CAM", "text": text,
                                    "figures": figures, "table": None}


def fooling_section(config: Config, s: Subject, workdir: Path):
    targets = [resolve_class(s, t) for t in config.fool_targets] if s.norm is not None else \
        list(DIGIT_TARGETS[: len(config.fool_targets)])
    fool_config = FoolConfig(learning_rate=config.fool_learning_rate, max_iters=config.fool_max_iters)
    rows, figures = [], []
    for target in targets:
        result = fool(s.logits_fn, s.params, s.x, jnp.full(len(s.labels), target), s.bounds, fool_config)
        linf, l2 = (np.asarray(v) for v in perturbation_norms(result.images, s.x, s.bounds))
        saved = np.asarray(predict(s.logits_fn, s.params, quantize(result.images, s.bounds))) == target
        inside = bool(jnp.all((result.images >= s.bounds[0] - 1e-5) & (result.images <= s.bounds[1] + 1e-5)))
        rows.append({"target": s.label(target), "success_rate": float(np.mean(result.success)),
                     "success_after_uint8": float(saved.mean()), "median_iterations": float(np.median(result.iterations)),
                     "max_iterations": int(np.max(result.iterations)), "median_linf_255": float(np.median(linf)),
                     "median_l2_255": float(np.median(l2)), "in_pixel_range": inside})
        shown = list(range(min(3, len(s.labels))))
        fig, axes = viz.new_figure(len(shown), 3, size=(2.8, 2.8))
        axes = np.asarray(axes).reshape(len(shown), 3)
        for r, i in enumerate(shown):
            original, fooled = s.display(s.x[i]), s.display(result.images[i])
            for c, (image, title) in enumerate(((original, f"{s.label(s.labels[i])}"),
                                                (np.clip(0.5 + 10 * (fooled - original), 0, 1), "perturbation x10"),
                                                (fooled, f"-> {s.label(target)} ({int(result.iterations[i])} it.)"))):
                axes[r, c].imshow(image, cmap="gray" if image.ndim == 2 else None)
                axes[r, c].set_title(title, fontsize=9)
                axes[r, c].axis("off")
        figures.append(viz.save_figure(fig, workdir / f"fooling_{target}.png").name)
    table = write_csv(workdir / "fooling.csv", rows)
    text = "; ".join(f"target {r['target']}: {100 * r['success_rate']:.0f}% fooled (still {100 * r['success_after_uint8']:.0f}% "
                     f"after rounding to uint8), median {r['median_iterations']:.0f} iterations, median L-inf "
                     f"{r['median_linf_255']:.1f}/255, L2 {r['median_l2_255']:.0f}" for r in rows)
    numbers = {"fooling_success_rate": min(r["success_rate"] for r in rows),
               "fooling_median_linf_255": float(np.median([r["median_linf_255"] for r in rows]))}
    return numbers, {"title": "Fooling images", "text": f"Normalised gradient ascent (lr {config.fool_learning_rate}, at "
                     f"most {config.fool_max_iters} steps) on {len(s.labels)} images, pixels kept in range: {text}.",
                     "figures": figures, "table": table}


def attacks_section(config: Config, s: Subject, workdir: Path):
    labels = jnp.asarray(s.labels)
    clean = np.asarray(predict(s.logits_fn, s.params, s.x)) == s.labels
    pgd_config = PGDConfig(eps=config.attack_eps, step_size=config.attack_eps / 4, steps=config.pgd_steps)
    attacked = {"FGSM": fgsm(s.logits_fn, s.params, s.x, labels, s.bounds, config.attack_eps),
                f"PGD-{config.pgd_steps}": pgd(s.logits_fn, s.params, s.x, labels, s.bounds, pgd_config,
                                               jax.random.key(config.seed))}
    rows = [{"attack": "none", "eps_255": 0.0, "accuracy": float(clean.mean())}]
    for name, x in attacked.items():
        accuracy = float((np.asarray(predict(s.logits_fn, s.params, x)) == s.labels).mean())
        rows.append({"attack": name, "eps_255": config.attack_eps, "accuracy": accuracy})
    table = write_csv(workdir / "fgsm_pgd.csv", rows)
    text = ", ".join(f"{r['attack']} {100 * r['accuracy']:.0f}%" for r in rows)
    return {f"accuracy_{r['attack']}": r["accuracy"] for r in rows}, {
        "title": "FGSM and PGD (untargeted, L-inf)", "figures": [], "table": table,
        "text": f"Top-1 accuracy under an L-inf budget of {config.attack_eps}/255: {text}."}


def one_pixel_section(config: Config, s: Subject, workdir: Path):
    op_config = OnePixelConfig(population=config.onepixel_population, generations=config.onepixel_generations)
    predicted = np.asarray(predict(s.logits_fn, s.params, s.x))
    result = one_pixel_attack(s.logits_fn, s.params, s.x, jnp.asarray(predicted), s.bounds, op_config,
                              jax.random.key(config.seed))
    success = np.asarray(result.success)
    rows = [{"image": int(i), "true": s.label(s.labels[i]), "predicted": s.label(predicted[i]),
             "success": bool(success[i]), "x": int(round(float(result.pixels[i, 0, 0]))),
             "y": int(round(float(result.pixels[i, 0, 1]))), "prob_of_prediction": float(result.label_prob[i]),
             "generations": int(result.generations[i])} for i in range(len(predicted))]
    table = write_csv(workdir / "one_pixel.csv", rows)
    hits = np.flatnonzero(success)[:4]
    figures = []
    if len(hits):
        after = np.asarray(predict(s.logits_fn, s.params, result.images))
        fig, axes = viz.new_figure(1, len(hits), size=(2.8, 2.8))
        for ax, i in zip(np.atleast_1d(axes), hits):
            ax.imshow(s.display(result.images[i]), cmap="gray" if s.x.shape[-1] == 1 else None)
            ax.scatter([rows[i]["x"]], [rows[i]["y"]], s=120, facecolors="none", edgecolors="red")
            ax.set_title(f"{s.label(predicted[i])} -> {s.label(after[i])}", fontsize=9)
            ax.axis("off")
        figures.append(viz.save_figure(fig, workdir / "one_pixel.png").name)
    budget = config.onepixel_population * (config.onepixel_generations + 1)
    rate = float(success.mean())
    text = (f"Untargeted one-pixel attack (DE/rand/1, F=0.5, population {config.onepixel_population}, "
            f"{config.onepixel_generations} generations: at most {budget} model calls per image) changes the "
            f"prediction of {int(success.sum())}/{len(success)} images ({100 * rate:.1f}%). Su et al. report 16.04% "
            f"non-targeted success on ImageNet with a different network (BVLC AlexNet) and budget (400 x 100).")
    return {"one_pixel_success_rate": rate, "one_pixel_budget": budget}, {
        "title": "One-pixel attack", "text": text, "figures": figures, "table": table}


def viz_preset(s: Subject, name: str, **overrides):
    """A class-viz preset with its jitter scaled to the image (16 px at 224, 2 px on 28-px digits)."""
    config = preset(name, **overrides)
    return dataclasses.replace(config, jitter=min(config.jitter, s.x.shape[1] // 14))


def class_viz_section(config: Config, s: Subject, workdir: Path):
    classes = [resolve_class(s, c) for c in config.viz_classes] if s.norm is not None else \
        list(DIGIT_VIZ[: len(config.viz_classes)])
    targets, shape = jnp.asarray(classes), tuple(s.x.shape[1:])
    key = jax.random.key(config.seed)
    start = noise_images(key, len(classes), shape, s.bounds)

    def target_probs(x):
        return np.asarray(jax.nn.softmax(s.logits_fn(s.params, x))[jnp.arange(len(classes)), targets])

    rows, figures, finals = [], [], {}
    frame_every = config.viz_steps // 10 if config.viz_steps % 10 == 0 else config.viz_steps
    for name in config.viz_presets:
        viz_config = viz_preset(s, name, steps=config.viz_steps, frame_every=frame_every)
        final, frames = class_visualization(s.logits_fn, s.params, start, targets, s.bounds, viz_config, key)
        finals[name] = final
        rows += [{"preset": name, "start": "noise", "class": s.label(c), "prob": float(p)}
                 for c, p in zip(classes, target_probs(final))]
        if name == "default" or len(config.viz_presets) == 1:
            for c, clip in zip(classes, frames):
                figures.append(viz.save_gif([s.display(f) for f in clip], workdir / f"classviz_{c}.gif", fps=4).name)
            iterations = viz.image_grid(np.stack([s.display(f) for f in frames[0]]), ncols=len(frames[0]))
            fig, ax = viz.new_figure(1, 1, size=(2 * len(frames[0]), 2.4))
            ax.imshow(iterations)
            ax.set_title(f"{s.label(classes[0])}: every {frame_every} iterations (0..{config.viz_steps})")
            ax.axis("off")
            figures.append(viz.save_figure(fig, workdir / "classviz_iterations.png").name)
    figures.append(grid_figure(s, classes, finals, "regularisation preset", workdir / "classviz_presets.png"))
    hay = jnp.repeat(s.x[config.hay_index: config.hay_index + 1], len(classes), axis=0)
    from_hay, _ = class_visualization(s.logits_fn, s.params, hay, targets, s.bounds,
                                      viz_preset(s, "default", steps=config.viz_steps, frame_every=frame_every), key)
    rows += [{"preset": "default", "start": f"image {config.hay_index}", "class": s.label(c), "prob": float(p)}
             for c, p in zip(classes, target_probs(from_hay))]
    figures.append(grid_figure(s, classes, {f"from image {config.hay_index}": from_hay}, "", workdir / "classviz_from_image.png"))
    sweep = {}
    for lr in config.viz_learning_rates:
        lr_config = viz_preset(s, "default", learning_rate=lr, steps=config.viz_steps, frame_every=frame_every)
        sweep[f"lr {lr:g}"], _ = class_visualization(s.logits_fn, s.params, start[:1], targets[:1], s.bounds,
                                                     lr_config, key)
    if sweep:
        figures.append(grid_figure(s, classes[:1], sweep, "learning rate", workdir / "classviz_learning_rates.png"))
    table = write_csv(workdir / "class_viz.csv", rows)
    noise_rows = [r for r in rows if r["start"] == "noise"]
    text = (f"{config.viz_steps} steps of gradient ascent per class; target probability of the final image: "
            + "; ".join(f"{r['class']} ({r['preset']}) {r['prob']:.3f}" for r in noise_rows) + ".")
    return {"class_viz_min_prob": min(r["prob"] for r in noise_rows)}, {
        "title": "Class visualisation", "text": text, "figures": figures, "table": table}


def grid_figure(s: Subject, classes, images_by_row: dict, label: str, path: Path) -> str:
    """Rows = settings (e.g. presets), columns = classes."""
    fig, axes = viz.new_figure(len(images_by_row), len(classes), size=(2.6, 2.6))
    axes = np.asarray(axes).reshape(len(images_by_row), len(classes))
    for r, (setting, images) in enumerate(images_by_row.items()):
        for c, cls in enumerate(classes):
            axes[r, c].imshow(s.display(images[c]), cmap="gray" if s.x.shape[-1] == 1 else None)
            axes[r, c].set_title(f"{s.label(cls)}, {label} {setting}".replace(",  ", ", ").strip(", "), fontsize=8)
            axes[r, c].axis("off")
    return viz.save_figure(fig, path).name


SECTIONS = (saliency_section, fooling_section, attacks_section, one_pixel_section, class_viz_section)


def run(config: Config, workdir: Path, data: Path | None) -> dict:
    has_imagenet = data is not None and (config.weights or (data / WEIGHTS).exists()) and (data / IMAGES).exists()
    subject = imagenet_subject(config, data) if has_imagenet else digits_subject(config)
    numbers, sections = {}, []
    for section_fn in SECTIONS:
        more, section = section_fn(config, subject, workdir)
        numbers.update(more)
        sections.append(section)
    if not has_imagenet:
        note = "No ImageNet weights/images in the data folder: every method ran on a CNN trained on scikit-learn digits. "
        sections[0]["text"] = note + sections[0]["text"]
    figures = [f for s in sections for f in s["figures"]]
    return {"model": subject.name, **numbers, "imagenet_weights": bool(has_imagenet), "figures": figures,
            "sections": sections}


# ---- single-use commands: jaxdl saliency|smoothgrad|gradcam|fool|fgsm|pgd|onepixel|classviz ----

def to_uint8_images(s: Subject, x) -> np.ndarray:
    return viz.to_uint8(np.asarray(imagenet.deprocess(x, s.norm)))


def _maps(name):
    def compute(args, s, targets):
        if name == "saliency":
            maps = saliency(s.logits_fn, s.params, s.x, targets)
        elif name == "smoothgrad":
            config = SmoothGradConfig(samples=args.samples, noise=args.noise, batch=args.batch, squared=args.squared)
            maps = smoothgrad(s.logits_fn, s.params, s.x, targets, config, jax.random.key(args.seed))
        else:
            cams = gradcam(s.module, s.params, s.x, targets, args.layer)
            maps = upsample_maps(cams, s.x.shape[1])
            return {"gradcam": cams, "gradcam_upsampled": maps}, {}
        return {name: maps}, {}
    return compute


def _fool(args, s, targets):
    result = fool(s.logits_fn, s.params, s.x, targets, s.bounds, FoolConfig(args.learning_rate, args.max_iters))
    linf, l2 = perturbation_norms(result.images, s.x, s.bounds)
    return ({"images": to_uint8_images(s, result.images), "iterations": result.iterations, "success": result.success,
             "linf_255": linf, "l2_255": l2},
            {"success_rate": float(jnp.mean(result.success)), "median_linf_255": float(jnp.median(linf))})


def _fgsm_pgd(name):
    def compute(args, s, targets):
        if name == "fgsm":
            x = fgsm(s.logits_fn, s.params, s.x, targets, s.bounds, args.eps, args.targeted)
        else:
            config = PGDConfig(eps=args.eps, step_size=args.step_size, steps=args.steps, targeted=args.targeted)
            x = pgd(s.logits_fn, s.params, s.x, targets, s.bounds, config, jax.random.key(args.seed))
        predicted = predict(s.logits_fn, s.params, x)
        hit = (predicted == targets) if args.targeted else (predicted != targets)
        return ({"images": to_uint8_images(s, x), "predicted": predicted, "linf_255": perturbation_norms(x, s.x, s.bounds)[0]},
                {"success_rate": float(jnp.mean(hit))})
    return compute


def _onepixel(args, s, targets):
    config = OnePixelConfig(pixels=args.pixels, population=args.population, generations=args.generations,
                            targeted=args.targeted)
    result = one_pixel_attack(s.logits_fn, s.params, s.x, targets, s.bounds, config, jax.random.key(args.seed))
    return ({"images": to_uint8_images(s, result.images), "pixels": result.pixels, "success": result.success,
             "generations": result.generations}, {"success_rate": float(jnp.mean(result.success))})


def _classviz(args, s, targets):
    config = preset(args.preset, steps=args.steps, frame_every=args.frame_every,
                    **({"learning_rate": args.learning_rate} if args.learning_rate else {}))
    key = jax.random.key(args.seed)
    start = s.x if args.from_images else noise_images(key, len(targets), s.x.shape[1:], s.bounds)
    final, frames = class_visualization(s.logits_fn, s.params, start, targets, s.bounds, config, key)
    prob = jax.nn.softmax(s.logits_fn(s.params, final))[jnp.arange(len(targets)), targets]
    return ({"images": to_uint8_images(s, final), "frames": to_uint8_images(s, frames), "prob": prob},
            {"min_prob": float(prob.min())})


COMMON_KEYS = "targets (N,) int the classes used, logits (N,1000) of the inputs"
COMMANDS = {
    "saliency": ("vanilla saliency maps (Simonyan 2014)", _maps("saliency"), "saliency (N,H,W) float32"),
    "smoothgrad": ("SmoothGrad maps (Smilkov 2017)", _maps("smoothgrad"), "smoothgrad (N,H,W) float32"),
    "gradcam": ("Grad-CAM maps on a named layer", _maps("gradcam"),
                "gradcam (N,h,w) at the layer's resolution, gradcam_upsampled (N,H,W)"),
    "fool": ("fooling images: gradient ascent until the target class is predicted", _fool,
             "images (N,H,W,3) uint8 fooled images, iterations (N,), success (N,) bool, linf_255, l2_255 (N,)"),
    "fgsm": ("FGSM adversarial images (L-inf, pixel range kept)", _fgsm_pgd("fgsm"),
             "images (N,H,W,3) uint8, predicted (N,) classes on them, linf_255 (N,)"),
    "pgd": ("PGD adversarial images (L-inf, pixel range kept)", _fgsm_pgd("pgd"),
            "images (N,H,W,3) uint8, predicted (N,) classes on them, linf_255 (N,)"),
    "onepixel": ("one-pixel attack by differential evolution (Su et al. 2019)", _onepixel,
                 "images (N,H,W,3) uint8, pixels (N,k,5) x,y,r,g,b, success (N,) bool, generations (N,)"),
    "classviz": ("class visualisation by regularised gradient ascent (PNG + GIF)", _classviz,
                 "images (N,H,W,3) uint8 final images, frames (N,T,H,W,3) uint8 trajectory, prob (N,) target probability"),
}


def _command(args):
    images, labels, names = read_inputs(args.images)
    config = dataclasses.replace(Config(), model=args.model, weights=args.weights)
    s = imagenet_subject(config, None, images, [-1 if v is None else v for v in labels])
    logits = s.logits_fn(s.params, s.x)
    if args.target is not None:
        targets = jnp.full(len(names), imagenet.class_index(args.target))
    elif args.command in ("fool", "classviz") or (getattr(args, "targeted", False)):
        raise ValueError(f"{args.command}: --target CLASS (name or index 0..999) is required")
    else:  # the true class where the inputs carry one, else the predicted class
        targets = jnp.where(jnp.asarray(s.labels) >= 0, jnp.asarray(s.labels), jnp.argmax(logits, -1))
    arrays, summary = COMMANDS[args.command][1](args, s, targets)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = None
    if "images" in arrays:
        fig, ax = viz.new_figure(1, 1, size=(2.4 * min(len(names), 8), 2.6))
        ax.imshow(viz.image_grid(np.asarray(arrays["images"][:8]) / 255.0, ncols=min(len(names), 8)))
        ax.set_title(f"{args.command}: " + ", ".join(imagenet.short_name(int(t)) for t in targets[:8]), fontsize=9)
        ax.axis("off")
        figure = viz.save_figure(fig, out / f"{args.command}.png")
        if args.command == "classviz":
            for i, clip in enumerate(arrays["frames"]):
                viz.save_gif(clip, out / f"classviz_{names[i]}.gif", fps=4)
    else:
        maps = next(v for k, v in arrays.items() if k != "gradcam")
        figure = out / f"{args.command}.png"
        saliency_figure(s, range(len(names)), {args.command: maps}, np.asarray(jnp.argmax(logits, -1)), figure)
    if args.save_npz:
        Path(args.save_npz).parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.save_npz, targets=np.asarray(targets), logits=np.asarray(logits),
                 **{k: np.asarray(v) for k, v in arrays.items()})
    print_result({"command": args.command, "n": len(names), "figure": str(figure), "npz": args.save_npz, **summary})


def register(subparsers):
    """Add the chapter-2 single-use commands to the ``jaxdl`` parser."""
    from experiments.cli import add_model_args

    for name, (help_text, _, keys) in COMMANDS.items():
        p = subparsers.add_parser(name, help=help_text, description=f"{help_text}; writes a figure into --out.",
                                  epilog=f"--save-npz keys: {keys}; {COMMON_KEYS}.")
        p.add_argument("images", nargs="+", help="image files, or .npz files holding X (N,H,W,3) uint8 and y")
        add_model_args(p)
        p.add_argument("--target", help="class name or index (default: the true class from the .npz 'y', "
                       "else the predicted one; required for fool/classviz and targeted attacks)")
        p.add_argument("--out", default=f"runs/{name}", help="output folder (default: %(default)s)")
        p.add_argument("--save-npz", metavar="PATH", help="also save the raw arrays (keys below)")
        p.add_argument("--seed", type=int, default=0)
        if name == "smoothgrad":
            p.add_argument("--samples", type=int, default=50)
            p.add_argument("--noise", type=float, default=0.15, help="sigma / (max - min) of each image")
            p.add_argument("--batch", type=int, default=SmoothGradConfig.batch,
                           help="noisy copies per gradient call, over all images together (bounds memory; default: %(default)s)")
            p.add_argument("--squared", action="store_true", help="SmoothGrad-SQ")
        if name == "gradcam":
            p.add_argument("--layer", default="fire9", help="named convolutional layer (default: %(default)s)")
        if name == "fool":
            p.add_argument("--learning-rate", type=float, default=1.0)
            p.add_argument("--max-iters", type=int, default=100)
        if name in ("fgsm", "pgd"):
            p.add_argument("--eps", type=float, default=2.0, help="L-inf budget in 0..255 pixel units")
        if name == "pgd":
            p.add_argument("--step-size", type=float, default=0.5, help="in 0..255 pixel units")
            p.add_argument("--steps", type=int, default=20)
        if name in ("fgsm", "pgd", "onepixel"):
            p.add_argument("--targeted", action="store_true", help="towards --target instead of away from the label")
        if name == "onepixel":
            p.add_argument("--pixels", type=int, default=1)
            p.add_argument("--population", type=int, default=400)
            p.add_argument("--generations", type=int, default=100)
        if name == "classviz":
            p.add_argument("--preset", default="default", choices=("none", "default", "strong"))
            p.add_argument("--steps", type=int, default=100)
            p.add_argument("--frame-every", type=int, default=10)
            p.add_argument("--learning-rate", type=float, help="overrides the preset's")
            p.add_argument("--from-images", action="store_true", help="start from the images instead of noise")
        p.set_defaults(func=_command)
