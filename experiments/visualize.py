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
    one_pixel_figure,
    saliency_figure,
    success_curve_figure,
)
from experiments.report import Section
from experiments.subjects import (
    WEIGHTS,
    Subject,
    chapter_subject,
    has_imagenet,
    resolve_class,
    val_subject,
)
from experiments.tables import write_table
from experiments.visualize_classviz import class_viz_section
from jaxdl import stats
from jaxdl.interpret import (
    accuracy_against_eps,
    attack_correctly_classified,
    evaluations_used,
    fool,
    gradcam,
    perturbation_norms,
    predict,
    quantize,
    saliency,
    smoothgrad,
    success_within,
    upsample_maps,
)

DIGIT_TARGETS = (3, 7, 1)  # stand-ins for the ImageNet targets on the digits fallback


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
    captions = tuple(
        f"{case.capitalize()} predictions: each image with its saliency (true and predicted "
        f"class), SmoothGrad and Grad-CAM maps"
        for case, idx in (("correct", right), ("wrong", wrong))
        if idx
    )
    section = Section(
        "Saliency maps, SmoothGrad and Grad-CAM", text, tuple(figures), None, captions
    )
    return {"accuracy": float((predicted == s.labels).mean())}, section


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
    text = (
        f"Normalised gradient ascent (lr {config.fool.learning_rate}, at most "
        f"{config.fool.steps} steps) on {len(s.labels)} images, pixels kept in range: {text}."
    )
    captions = tuple(
        f"Images changed until {s.label(t)} is predicted, with the iterations each took"
        for t in targets
    )
    return numbers, Section("Fooling images", text, tuple(figures), table, captions)


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
    title = f"FGSM and PGD against the budget ({n} images{', ' + tag[1:] if tag else ''})"
    caption = "Top-1 accuracy against the L-inf budget eps, with 95% Wilson bands"
    return numbers, Section(title, text, (figure,), table, (caption,))


def one_pixel_rows(s: Subject, attacked, result, after, population: int) -> list[dict]:
    """A row per attacked image: its classes before and after, the pixel and its cost."""
    success, used = np.asarray(result.success), evaluations_used(result, population)
    return [
        {
            "image": int(i),
            "true": s.label(s.labels[i]),
            "after_attack": s.label(after[k]),
            "success": bool(success[k]),
            "x": int(round(float(result.pixels[k, 0, 0]))),
            "y": int(round(float(result.pixels[k, 0, 1]))),
            "prob_of_true_class": float(result.label_prob[k]),
            "evaluations": int(used[k]),
        }
        for k, i in enumerate(attacked)
    ]


def one_pixel_figures(s: Subject, attacked, result, after, rows, workdir: Path, tag: str, op):
    """The attacked images that changed class (up to 4) and the success rate against the
    evaluation budget: [(file, caption)]."""
    budget = op.population * (op.generations + 1)
    budgets = np.unique(np.linspace(op.population, budget, 12).round().astype(int))
    rate = success_within(result, op.population, budgets)
    path = workdir / f"one_pixel_budget{tag}.png"
    figures = [
        (
            success_curve_figure(budgets, rate, len(attacked), path),
            "Share of the attacked images fooled within each number of model calls",
        )
    ]
    shown = np.flatnonzero(np.asarray(result.success))[:4]
    if len(shown):
        pixels = [(rows[k]["x"], rows[k]["y"]) for k in shown]
        truth = s.labels[attacked[shown]]
        path = workdir / f"one_pixel{tag}.png"
        image = one_pixel_figure(s, result.images[shown], pixels, truth, after[shown], path)
        figures.insert(0, (image, "Fooled images with the changed pixel marked"))
    return figures


def one_pixel_section(
    config: Config, s: Subject, workdir: Path, kernels: Kernels, tag: str = "", limit=None
):
    """The untargeted one-pixel attack on the (first ``limit``) images the network classifies
    correctly, its success rate with a 95% Wilson interval and the rate against the evaluation
    budget (files ``one_pixel<tag>.*``)."""
    op = config.onepixel
    attacked, result = attack_correctly_classified(
        s.logits_fn,
        s.params,
        s.x,
        jnp.asarray(s.labels),
        s.bounds,
        op,
        jax.random.key(config.seed),
        limit,
    )
    budget = op.population * (op.generations + 1)
    title = f"One-pixel attack (correctly classified images only{', ' + tag[1:] if tag else ''})"
    if result is None:
        text = f"No image of {len(s.labels)} is classified correctly: nothing to attack."
        return {"one_pixel_attacked": 0}, Section(title, text)
    after = np.asarray(predict(s.logits_fn, s.params, result.images))
    rows = one_pixel_rows(s, attacked, result, after, op.population)
    table = write_table(rows, workdir, f"one_pixel{tag}")
    figures = one_pixel_figures(s, attacked, result, after, rows, workdir, tag, op)
    n, hits = len(attacked), int(np.sum(result.success))
    low, high = stats.wilson_interval(hits, n)
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
    files, captions = tuple(f for f, _ in figures), tuple(c for _, c in figures)
    return numbers, Section(title, text, files, table, captions)


SECTIONS = (
    saliency_section,
    fooling_section,
    attacks_section,
    one_pixel_section,
    class_viz_section,
)


def headline(numbers: dict, config: Config, model: str) -> list[dict]:
    """The summary table's rows: PGD accuracy at the configured budget and the one-pixel
    attack's success rate beside Su et al.'s."""
    pgd = f"accuracy_PGD-{config.pgd.steps}_eps{config.pgd.eps:g}"
    rows = []
    if pgd in numbers:
        clean = numbers.get("accuracy_FGSM_eps0", float("nan"))
        rows.append(
            {
                "result": f"{model} top-1 under PGD-{config.pgd.steps}, eps {config.pgd.eps:g}/255",
                "measured": f"{numbers[pgd]:.3f} (clean {clean:.3f})",
                "reference": "about 0 for an undefended ImageNet CNN (Madry et al. 2018)",
            }
        )
    if numbers.get("one_pixel_attacked"):
        low, high = numbers["one_pixel_ci95"]
        rows.append(
            {
                "result": f"one-pixel attack success on {numbers['one_pixel_attacked']} images",
                "measured": f"{numbers['one_pixel_success_rate']:.3f} [{low:.3f}, {high:.3f}]",
                "reference": "0.1604 (Su et al. 2019, AlexNet, 400 x 100 budget)",
            }
        )
    return rows


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
        sections[0] = dataclasses.replace(sections[0], text=note + sections[0].text)
    figures = [f for s in sections for f in s.figures]
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
        "headline": headline(numbers, config, subject.name),
        "sections": [s.to_json() for s in sections],
    }
