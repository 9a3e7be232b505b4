"""What a chapter tells its reader about the run they are reading: mode, data and weights."""

from __future__ import annotations

from IPython.display import Markdown


def weights_description(model=None) -> str:
    """Which trained network a page uses: the shipped weights, one trained here, or none."""
    if model is None:
        return "none (the networks on this page are untrained or trained here)"
    facts = getattr(model, "pretrained_facts", None)
    if not facts or facts.get("test_accuracy") is None:
        return "a network trained briefly here (the shipped weights were missing)"
    measured_on = facts.get("measured_on", "the 10,000 test digits")
    return (
        f"the book's shipped weights ({facts['test_accuracy']:.2%} on {measured_on}, "
        f"epoch {facts['chosen_epoch']} of {facts['epochs_trained']})"
    )


def run_note(quick: bool, data: str, model=None) -> Markdown:
    """The chapter's one note on how the page was run, shown as its output near the start.

    Args:
        quick: The chapter's ``QUICK`` flag (``CAPSNET_QUICK=1``).
        data: How many images the chapter's measurements use, in words
            (e.g. ``"1,000 test digits"``).
        model: The trained network the chapter uses (``load_pretrained_or_train``), if any.

    Introduced in chapter 1, input.
    """
    mode = (
        "**quick mode** (`CAPSNET_QUICK=1`: small samples and short runs, so the page runs in "
        "minutes on a laptop's CPU)"
        if quick
        else "**full mode** (all the data and full-length runs)"
    )
    return Markdown(
        f"> **How this page was run.** In {mode}; measurements on {data}; "
        f"trained network: {weights_description(model)}."
    )
