"""The grader's own copies of what the chapters compute from: data and trained networks.

Loaded in the grading process, once per batch and only when a verdict needs them, from the
library: never taken from the student's kernel.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np


class References:
    """Lazily loaded data and networks, shared by the verdicts of a batch.

    Introduced with the grader (``python -m capsnet_lib grade``).
    """

    def __init__(self) -> None:
        self._cache: dict = {}

    @cached_property
    def mnist(self):
        """The whole MNIST split into train, validation and test (``cl.load_mnist()``)."""
        from capsnet_lib.data import load_mnist

        return load_mnist()

    @cached_property
    def capsnet(self):
        """The shipped CapsNet (``cl.load_pretrained()``)."""
        from capsnet_lib.pretrained import load_pretrained

        return load_pretrained()

    def baseline(self):
        """A fresh copy of the shipped CNN baseline (``cl.load_baseline()``)."""
        from capsnet_lib.baseline import load_baseline

        return load_baseline()

    def once(self, key: str, compute):
        """``compute()``, computed once per batch under ``key``."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def poses(self, images: np.ndarray) -> np.ndarray:
        """The shipped CapsNet's digit capsules ``(n, 10, 16)``, 100 images at a time."""
        parts = [
            np.asarray(self.capsnet.digit_poses(images[i : i + 100]))
            for i in range(0, len(images), 100)
        ]
        return np.concatenate(parts)

    def reconstructions(self, poses: np.ndarray, labels=None) -> np.ndarray:
        """The shipped decoder's drawings ``(n, 28, 28, 1)`` of ``poses`` masked by ``labels``."""
        drawn = self.capsnet.reconstruct(poses, labels)
        return np.asarray(drawn, np.float64).reshape(len(poses), 28, 28, 1)
