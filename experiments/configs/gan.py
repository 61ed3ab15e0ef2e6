"""Config of chapter 4: DCGAN / conditional DCGAN on MNIST."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class GANConfig:
    conditional: bool = False  # cG(z, y) and cD(x, y)
    d_sees_labels: bool = True  # conditional only; False = cD(x), question 7
    image_size: int = 28  # 28 (MNIST as is) or 32 (padded, the practical's 4-layer nets)
    z_dim: int = 100
    g_width: int = 32  # generator channels at the highest resolution (doubling below)
    d_width: int = 32
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    saturating: bool = False  # the minimax G loss (eq. 4.1) instead of the non-saturating eq. 4.2
    d_steps: int = 1  # discriminator updates per generator update
    batch_size: int = 64
    steps: int = 10000  # generator updates (the time budget usually stops it first on 2 CPU cores)
    time_budget_s: float = 900.0  # also stop after this much training time; 0 = no limit
    sample_every: int = 250  # a sample grid of the fixed noise batch every N steps (GIF frames)
    checkpoint_every: int = 500
    resume: bool = False  # continue from the newest checkpoint in the run folder
    eval_samples: int = 10000  # generated images scored by the MNIST classifier
    classifier_epochs: int = 4  # on MNIST (the small digits fallback uses 20)
    seed: int = 0
