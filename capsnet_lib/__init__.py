"""capsnet_lib: the Capsule Network library behind "CapsNets, the book".

The public API follows the chapters: :func:`squash` and :func:`safe_norm` (chapter 2),
:func:`routing_by_agreement` (3), :func:`margin_loss` (4), :class:`Mask` (5),
:func:`reconstruction_loss` and :class:`Decoder` (6), :class:`CapsNet` and training (7).
"""

from capsnet_lib.quiet import start_tensorflow_quietly as _start_tensorflow_quietly

_start_tensorflow_quietly()  # TensorFlow's native start-up lines stay out of the book

from capsnet_lib import (  # noqa: E402
    affine,
    baseline,
    distribute,
    exercises,
    plotting,
    plotting_routing,
    precision,
    pretrained,
    recorded,
    training,
)
from capsnet_lib.baseline import load_baseline  # noqa: E402
from capsnet_lib.data import load_mnist, make_dataset  # noqa: E402
from capsnet_lib.figures import fit_figures_to_the_page as _fit_figures_to_the_page  # noqa: E402
from capsnet_lib.layers import Decoder, DigitCapsules, Mask, PrimaryCapsules  # noqa: E402
from capsnet_lib.losses import margin_loss, reconstruction_loss  # noqa: E402
from capsnet_lib.model import CapsNet, CapsNetConfig  # noqa: E402
from capsnet_lib.ops import safe_norm, squash  # noqa: E402
from capsnet_lib.pretrained import load_pretrained, load_pretrained_or_train  # noqa: E402
from capsnet_lib.recorded import load_recorded  # noqa: E402
from capsnet_lib.routing import predict_vectors, routing_by_agreement  # noqa: E402

_fit_figures_to_the_page()  # in a notebook, figures as wide as the book's column shows them

__version__ = "0.1.0"

__all__ = [
    "CapsNet",
    "CapsNetConfig",
    "Decoder",
    "DigitCapsules",
    "Mask",
    "PrimaryCapsules",
    "load_baseline",
    "load_mnist",
    "load_pretrained",
    "load_pretrained_or_train",
    "load_recorded",
    "make_dataset",
    "margin_loss",
    "affine",
    "baseline",
    "distribute",
    "exercises",
    "plotting",
    "plotting_routing",
    "precision",
    "pretrained",
    "recorded",
    "training",
    "predict_vectors",
    "reconstruction_loss",
    "routing_by_agreement",
    "safe_norm",
    "squash",
]
