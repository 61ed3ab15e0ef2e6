"""Config of chapter 3: DANN domain adaptation MNIST -> MNIST-M."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class DannConfig:
    methods: tuple[str, ...] = ("source_only", "dann", "pseudo", "no_reversal")
    steps: int = 10000  # training steps per method (batch_size source + batch_size target images)
    batch_size: int = 64
    optimizer: str = "adam"  # "sgd" = the paper's SGD momentum 0.9 (use learning_rate 0.01)
    learning_rate: float = 1e-3  # mu0 of the annealing mu0 / (1 + 10 p)^0.75
    input_norm: str = "standardize"  # per-image, per-channel zero mean / unit variance; or "scale" (to [-1, 1])
    augment: str = "invert"  # each source image channel inverted with probability 0.5; or "none"
    gamma: float = 10.0  # reversal-factor ramp lam_p = scale * (2 / (1 + exp(-gamma p)) - 1)
    reversal_scale: float = 1.0
    threshold: float = 0.9  # pseudo-labelling: confidence needed to use a target prediction
    sweep: tuple[float, ...] = (0.1, 0.3, 3.0)  # extra reversal scales for DANN (question 4)
    sweep_steps: int = 1000
    eval_every: int = 500  # steps between evaluations for the curves
    eval_size: int = 2000  # test images per domain for the curves (final numbers use all)
    test_size: int = 0  # test images per domain for the final numbers (0: all)
    embed_size: int = 500  # test images per domain in the 2-D embedding
    embedding: str = "pca"  # or "tsne"
    checkpoint_every: int = 500
    resume: bool = False  # continue each method from its latest checkpoint in the run folder
    distributed: bool = False  # call jax.distributed.initialize() (multi-host; env-configured)
    build_target: bool = False  # build MNIST-M from MNIST + bsds500 photos instead of loading it
    seed: int = 0
