"""Chapter 2: saliency maps, SmoothGrad, Grad-CAM, adversarial examples and class visualisation.

Reproduces the practical on the 25 images of imagenet_val_25.npz with SqueezeNet 1.1: saliency
for the true and the predicted class (consistent and inconsistent predictions picked
automatically), fooling images for fixed targets, FGSM/PGD, the one-pixel attack, and class
visualisations from noise and from the hay image with regularisation / learning-rate /
iteration sweeps. Without ImageNet weights it runs the same methods on a small CNN trained on
scikit-learn's digits.
"""

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from experiments.common import Kernels, progress_bar, weights_record
from experiments.configs.visualize import VisualizeConfig as Config
from experiments.interpret_figures import (
    eps_figure,
    fooling_figure,
    grid_figure,
    one_pixel_figure,
    saliency_figure,
    success_curve_figure,
    trajectory_figure,
)
from experiments.subjects import (
    WEIGHTS,
    Subject,
    chapter_subject,
    has_imagenet,
    resolve_class,
    val_subject,
)
from experiments.tables import write_table
from jaxdl import stats, viz
from jaxdl.errors import InputError
from jaxdl.interpret import (
    PRESETS,
    accuracy_against_eps,
    attack_correctly_classified,
    class_visualization,
    evaluations_used,
    fool,
    gradcam,
    noise_images,
    perturbation_norms,
    predict,
    quantize,
    saliency,
    smoothgrad,
    success_within,
    upsample_maps,
)

DIGIT_TARGETS = (3, 7, 1)  # stand-ins for the ImageNet targets on the digits fallback
DIGIT_VIZ = (0, 4, 8)
REGULARISATION = ("l2_reg", "blur_every", "blur_sigma", "jitter")  # what a class-viz preset sets


def quick(config: Config) -> Config:
    return dataclasses.replace(
        config,
        image_indices=config.image_indices[:5],
        examples=1,
        fool_targets=config.fool_targets[:1],
        smoothgrad=dataclasses.replace(config.smoothgrad, samples=10),
        pgd=dataclasses.replace(config.pgd, steps=5),
        attack_eps=(1.0, 4.0),
        val_images=20,
        onepixel_val_images=5,
        onepixel=dataclasses.replace(config.onepixel, population=16, generations=2),
        viz_classes=config.viz_classes[1:2],
        viz_presets=("default",),
        classviz=dataclasses.replace(config.classviz, steps=60, frame_every=6),
        viz_learning_rates=(),
    )


def saliency_section(config: Config, s: Subject, workdir: Path, kernels: Kernels):
    predicted = np.asarray(predict(s.logits_fn, s.params, s.x))
    right = [i for i in range(len(s.labels)) if predicted[i] == s.labels[i]][: config.examples]
    wrong = [i for i in range(len(s.labels)) if predicted[i] != s.labels[i]][: config.examples]
    labels, preds = jnp.asarray(s.labels), jnp.asarray(predicted)
    true_maps = saliency(s.logits_fn, s.params, s.x, labels)
    pred_maps = saliency(s.logits_fn, s.params, s.x, preds)
    rows = jnp.array(right + wrong)
    sg = smoothgrad(
        s.logits_fn,
        s.params,
        s.x[rows],
        labels[rows],
        config.smoothgrad,
        jax.random.key(config.seed),
        kernels.normal,
    )
    cams = upsample_maps(gradcam(s.module, s.params, s.x, labels, s.gradcam_layer), s.x.shape[1])
    maps = {
        "saliency (true)": true_maps,
        "saliency (pred.)": pred_maps,
        "SmoothGrad (true)": dict(zip(right + wrong, sg)),
        f"Grad-CAM {s.gradcam_layer} (true)": cams,
    }
    figures = [
        saliency_figure(s, idx, maps, predicted, workdir / f"saliency_{case}.png")
        for case, idx in (("consistent", right), ("inconsistent", wrong))
        if idx
    ]
    sg_config = config.smoothgrad
    text = (
        f"{s.name} predicts {int((predicted == s.labels).sum())} of {len(s.labels)} images "
        f"right. Saliency "
        f"(max over channels of |d score / d pixel|) for the true and the predicted class, "
        f"SmoothGrad "
        f"({sg_config.samples} samples, noise {sg_config.noise} of the range) and Grad-CAM on "
        f"{s.gradcam_layer}; first figure: correct predictions (both maps agree), second: wrong "
        f"ones."
    )
    return {"accuracy": float((predicted == s.labels).mean())}, {
        "title": "Saliency maps, SmoothGrad and Grad-CAM",
        "text": text,
        "figures": figures,
        "table": None,
    }


def fooling_section(config: Config, s: Subject, workdir: Path, kernels: Kernels):
    targets = (
        [resolve_class(s, t) for t in config.fool_targets]
        if s.norm is not None
        else list(DIGIT_TARGETS[: len(config.fool_targets)])
    )
    rows, figures = [], []
    for target in targets:
        result = fool(
            s.logits_fn, s.params, s.x, jnp.full(len(s.labels), target), s.bounds, config.fool
        )
        linf, l2 = (np.asarray(v) for v in perturbation_norms(result.images, s.x, s.bounds))
        saved_images = quantize(result.images, s.bounds)
        saved = np.asarray(predict(s.logits_fn, s.params, saved_images)) == target
        probs = np.asarray(jax.nn.softmax(s.logits_fn(s.params, saved_images))[:, target])
        inside = bool(
            jnp.all((result.images >= s.bounds[0] - 1e-5) & (result.images <= s.bounds[1] + 1e-5))
        )
        rows.append(
            {
                "target": s.label(target),
                "success_rate": float(np.mean(result.success)),
                "success_after_uint8": float(saved.mean()),
                "median_iterations": float(np.median(result.iterations)),
                "max_iterations": int(np.max(result.iterations)),
                "median_target_prob": float(np.median(probs)),
                "min_target_prob": float(np.min(probs)),
                "median_linf_255": float(np.median(linf)),
                "median_l2_255": float(np.median(l2)),
                "in_pixel_range": inside,
            }
        )
        figures.append(
            fooling_figure(
                s, result.images, result.iterations, target, workdir / f"fooling_{target}.png"
            )
        )
    table = write_table(rows, workdir, "fooling")
    text = "; ".join(
        f"target {r['target']}: {100 * r['success_rate']:.0f}% fooled (still "
        f"{100 * r['success_after_uint8']:.0f}% after rounding to uint8), median "
        f"{r['median_iterations']:.0f} iterations (at most {r['max_iterations']}), final target "
        f"probability median {r['median_target_prob']:.2f} (lowest {r['min_target_prob']:.2f}), "
        f"median L-inf {r['median_linf_255']:.1f}/255, "
        f"L2 {r['median_l2_255']:.0f}"
        for r in rows
    )
    numbers = {
        "fooling_success_rate": min(r["success_rate"] for r in rows),
        "fooling_median_linf_255": float(np.median([r["median_linf_255"] for r in rows])),
    }
    return numbers, {
        "title": "Fooling images",
        "figures": figures,
        "table": table,
        "text": f"Normalised gradient ascent (lr {config.fool.learning_rate}, at most "
        f"{config.fool.steps} steps) on {len(s.labels)} images, pixels kept in range: {text}.",
    }


def attacks_section(config: Config, s: Subject, workdir: Path, kernels: Kernels, tag: str = ""):
    """Top-1 accuracy under untargeted FGSM and PGD against the L-inf budget (questions 5-7):
    table ``fgsm_pgd<tag>.csv`` and figure ``attacks_eps<tag>.png``."""
    eps = (0.0, *config.attack_eps)
    curves = accuracy_against_eps(
        s.logits_fn, s.params, s.x, s.labels, s.bounds, eps, config.pgd, jax.random.key(config.seed)
    )
    n = len(s.labels)
    bands = {  # 95% Wilson interval of each accuracy over the n images
        name: [stats.wilson_interval(round(float(a) * n), n) for a in values]
        for name, values in curves.items()
    }
    rows = [
        {
            "attack": name,
            "eps_255": e,
            "accuracy": float(a),
            "ci95_low": low,
            "ci95_high": high,
            "n": n,
        }
        for name, values in curves.items()
        for e, a, (low, high) in zip(eps, values, bands[name])
    ]
    table = write_table(rows, workdir, f"fgsm_pgd{tag}")
    figure = eps_figure(
        eps, curves, bands, f"{s.name}, {n} images", workdir / f"attacks_eps{tag}.png"
    )
    pgd_name = f"PGD-{config.pgd.steps}"
    text = (
        f"Top-1 accuracy of {s.name} on {n} images under untargeted L-inf attacks, clean "
        f"{100 * curves['FGSM'][0]:.1f}%; at eps "
        + ", ".join(
            f"{e:g}/255 FGSM {100 * f:.1f}% / {pgd_name} {100 * p:.1f}%"
            for e, f, p in zip(eps[1:], curves["FGSM"][1:], curves[pgd_name][1:])
        )
        + f". PGD: {config.pgd.steps} signed-gradient steps of eps x "
        f"{config.pgd.step_size / config.pgd.eps:g} from a random start in the ball. Bands and "
        "the table's ci95 columns: 95% Wilson intervals of each accuracy over the n images."
    )
    numbers = {
        f"accuracy{tag}_{name}_eps{e:g}": float(a)
        for name, values in curves.items()
        for e, a in zip(eps, values)
        if e in (0.0, config.pgd.eps)
    }
    return numbers, {
        "title": f"FGSM and PGD against the budget ({n} images{', ' + tag[1:] if tag else ''})",
        "figures": [figure],
        "table": table,
        "text": text,
    }


def one_pixel_section(
    config: Config, s: Subject, workdir: Path, kernels: Kernels, tag: str = "", limit=None
):
    """The untargeted one-pixel attack on the (first ``limit``) images the network classifies
    correctly, its success rate with a 95% Wilson interval and the rate against the evaluation
    budget (files ``one_pixel<tag>.*``)."""
    op = config.onepixel
    labels = jnp.asarray(s.labels)
    attacked, result = attack_correctly_classified(
        s.logits_fn, s.params, s.x, labels, s.bounds, op, jax.random.key(config.seed), limit
    )
    budget = op.population * (op.generations + 1)
    title = f"One-pixel attack (correctly classified images only{', ' + tag[1:] if tag else ''})"
    if result is None:
        text = f"No image of {len(s.labels)} is classified correctly: nothing to attack."
        return {"one_pixel_attacked": 0}, {
            "title": title,
            "text": text,
            "figures": [],
            "table": None,
        }
    success = np.asarray(result.success)
    after = np.asarray(predict(s.logits_fn, s.params, result.images))
    rows = [
        {
            "image": int(i),
            "true": s.label(s.labels[i]),
            "after_attack": s.label(after[k]),
            "success": bool(success[k]),
            "x": int(round(float(result.pixels[k, 0, 0]))),
            "y": int(round(float(result.pixels[k, 0, 1]))),
            "prob_of_true_class": float(result.label_prob[k]),
            "evaluations": int(evaluations_used(result, op.population)[k]),
        }
        for k, i in enumerate(attacked)
    ]
    table = write_table(rows, workdir, f"one_pixel{tag}")
    n, hits = len(attacked), int(success.sum())
    low, high = stats.wilson_interval(hits, n)
    budgets = np.unique(np.linspace(op.population, budget, 12).round().astype(int))
    figures = [
        success_curve_figure(
            budgets,
            success_within(result, op.population, budgets),
            n,
            workdir / f"one_pixel_budget{tag}.png",
        )
    ]
    shown = np.flatnonzero(success)[:4]
    if len(shown):
        figures.insert(
            0,
            one_pixel_figure(
                s,
                result.images[shown],
                [(rows[k]["x"], rows[k]["y"]) for k in shown],
                s.labels[attacked[shown]],
                after[shown],
                workdir / f"one_pixel{tag}.png",
            ),
        )
    text = (
        f"Untargeted one-pixel attack (DE/rand/1, F={op.mutation}, population {op.population}, "
        f"{op.generations} generations: at most {budget} model calls per image) on "
        + (f"the first {n} " if limit else f"the {n} of {len(s.labels)} ")
        + f"images {s.name} classifies correctly (misclassified ones have nothing to fool): "
        f"{hits}/{n} = {100 * hits / n:.1f}% no longer "
        f"get their true class, 95% Wilson interval [{100 * low:.1f}%, {100 * high:.1f}%]. Su "
        "et al. report 16.04% non-targeted success on ImageNet with another network (BVLC "
        "AlexNet) and budget (400 x 100)."
    )
    numbers = {
        f"one_pixel{tag}_success_rate": hits / n,
        f"one_pixel{tag}_ci95": [low, high],
        f"one_pixel{tag}_attacked": n,
        f"one_pixel{tag}_budget": budget,
    }
    return numbers, {"title": title, "text": text, "figures": figures, "table": table}


def viz_config(config: Config, s: Subject, preset: str, **overrides):
    """``config.classviz`` ("default": as configured) or with the regularisation of ``preset``
    ("none", "strong"), its jitter scaled to the image (16 px at 224, 2 px on 28-px digits)."""
    if preset not in PRESETS:
        raise InputError(
            f"unknown class-viz preset {preset!r}; expected one of: {', '.join(PRESETS)}"
        )
    source = config.classviz if preset == "default" else PRESETS[preset]
    regularisation = {name: getattr(source, name) for name in REGULARISATION}
    regularisation["jitter"] = min(regularisation["jitter"], s.x.shape[1] // 14)
    return dataclasses.replace(config.classviz, **{**regularisation, **overrides})


def class_viz_section(config: Config, s: Subject, workdir: Path, kernels: Kernels):
    classes = (
        [resolve_class(s, c) for c in config.viz_classes]
        if s.norm is not None
        else list(DIGIT_VIZ[: len(config.viz_classes)])
    )
    targets, shape = jnp.asarray(classes), tuple(s.x.shape[1:])
    key = jax.random.key(config.seed)
    start = noise_images(key, len(classes), shape, s.bounds)
    steps, frame_every = config.classviz.steps, config.classviz.frame_every

    def target_probs(x):
        return np.asarray(
            jax.nn.softmax(s.logits_fn(s.params, x))[jnp.arange(len(classes)), targets]
        )

    rows, figures, finals = [], [], {}
    for name in config.viz_presets:
        final, frames = class_visualization(
            s.logits_fn, s.params, start, targets, s.bounds, viz_config(config, s, name), key
        )
        finals[name] = final
        rows += [
            {"preset": name, "start": "noise", "class": s.label(c), "prob": float(p)}
            for c, p in zip(classes, target_probs(final))
        ]
        if name == "default" or len(config.viz_presets) == 1:
            for c, clip in zip(classes, frames):
                figures.append(
                    viz.save_gif(
                        [s.display(f) for f in clip],
                        workdir / f"classviz_{c}.gif",
                        fps=4,
                        labels=[f"step {i * frame_every}" for i in range(len(clip))],
                    ).name
                )
            figures.append(
                trajectory_figure(
                    s,
                    frames[0],
                    frame_every,
                    f"{s.label(classes[0])}: every {frame_every} iterations (0..{steps})",
                    workdir / "classviz_iterations.png",
                )
            )
    figures.append(
        grid_figure(s, classes, finals, "regularisation preset", workdir / "classviz_presets.png")
    )
    hay = jnp.repeat(s.x[config.hay_index : config.hay_index + 1], len(classes), axis=0)
    from_hay, _ = class_visualization(
        s.logits_fn, s.params, hay, targets, s.bounds, viz_config(config, s, "default"), key
    )
    rows += [
        {
            "preset": "default",
            "start": f"image {config.hay_index}",
            "class": s.label(c),
            "prob": float(p),
        }
        for c, p in zip(classes, target_probs(from_hay))
    ]
    figures.append(
        grid_figure(
            s,
            classes,
            {f"from image {config.hay_index}": from_hay},
            "",
            workdir / "classviz_from_image.png",
        )
    )
    sweep = {}
    for lr in config.viz_learning_rates:
        sweep[f"lr {lr:g}"], _ = class_visualization(
            s.logits_fn,
            s.params,
            start[:1],
            targets[:1],
            s.bounds,
            viz_config(config, s, "default", learning_rate=lr),
            key,
        )
    if sweep:
        figures.append(
            grid_figure(
                s, classes[:1], sweep, "learning rate", workdir / "classviz_learning_rates.png"
            )
        )
    table = write_table(rows, workdir, "class_viz")
    noise_rows = [r for r in rows if r["start"] == "noise"]
    text = (
        f"{steps} steps of gradient ascent per class; target probability of the final image: "
        + "; ".join(f"{r['class']} ({r['preset']}) {r['prob']:.3f}" for r in noise_rows)
        + "."
    )
    return {"class_viz_min_prob": min(r["prob"] for r in noise_rows)}, {
        "title": "Class visualisation",
        "text": text,
        "figures": figures,
        "table": table,
    }


SECTIONS = (
    saliency_section,
    fooling_section,
    attacks_section,
    one_pixel_section,
    class_viz_section,
)


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    subject = chapter_subject(config, data, kernels)
    numbers, sections = {}, []
    jobs = [(fn, subject, {}) for fn in SECTIONS]
    val = val_subject(config, data, kernels)
    if val is not None:  # the attacks again on imagenet/val_subset, after the 25 images'
        at = SECTIONS.index(one_pixel_section) + 1
        jobs[at:at] = [
            (attacks_section, val, {"tag": "_val"}),
            (one_pixel_section, val, {"tag": "_val", "limit": config.onepixel_val_images}),
        ]
    bar = progress_bar(jobs, desc="chapter 2", unit="section")
    for section_fn, on, options in bar:
        name = section_fn.__name__.removesuffix("_section").replace("_", " ")
        bar.set_description(f"chapter 2: {name}" + (" (val_subset)" if options else ""))
        more, section = section_fn(config, on, workdir, kernels, **options)
        numbers.update(more)
        sections.append(section)
    imagenet_data = has_imagenet(config, data)
    if not imagenet_data:
        note = (
            "No ImageNet weights/images in the data folder: every method ran on a CNN trained on "
            "scikit-learn digits. "
        )
        sections[0]["text"] = note + sections[0]["text"]
    figures = [f for s in sections for f in s["figures"]]
    return {
        "model": subject.name,
        **numbers,
        "imagenet_weights": imagenet_data,
        "weights": (
            weights_record(config.weights or data / WEIGHTS, config.model)
            if imagenet_data
            else None
        ),
        "figures": figures,
        "sections": sections,
    }
