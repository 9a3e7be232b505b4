"""The cheat sheet (book/cheatsheet.md) against the library: every shape, weight count and
setting the page lists is the one ``cl.CapsNet()`` has, every chapter link exists, and the
page is in the book's table of contents.

The page's tables are found by the MyST targets above them, ``(cheatsheet-shapes)=`` and
``(cheatsheet-settings)=``; a row is named by the code name in its backticks.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "cheatsheet.md"
BATCH = 3
LINK = re.compile(r"\]\(([^)]+)\)")


def table_after(text: str, target: str) -> list[dict[str, str]]:
    """The markdown table right after the MyST target ``(target)=``, as one dict per row."""
    marker = f"({target})="
    assert marker in text, f"{PAGE.name}: no {marker} before its table"
    lines = text.split(marker, 1)[1].strip().splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, separator, *body = rows
    assert set("".join(separator)) <= set("-: "), f"{target}: not a table: {separator}"
    return [dict(zip(header, row, strict=True)) for row in body]


def code_name(cell: str) -> str:
    names = re.findall(r"`([^`]+)`", cell)
    assert len(names) == 1, f"expected one `name` in {cell!r}"
    return names[0]


def parse_shape(cell: str) -> tuple:
    """``(b, 1152, 8)`` -> ``(BATCH, 1152, 8)``; ``()`` -> ``()``."""
    inside = cell.strip()
    assert inside.startswith("(") and inside.endswith(")"), f"not a shape: {cell!r}"
    parts = [p.strip() for p in inside[1:-1].split(",") if p.strip()]
    return tuple(BATCH if p == "b" else int(p) for p in parts)


@pytest.fixture(scope="module")
def text() -> str:
    return PAGE.read_text()


@pytest.fixture(scope="module")
def network():
    """The real tensors, weight counts and model, from ``cl.CapsNet()`` on random images."""
    import tensorflow as tf

    import capsnet_lib as cl

    model = cl.CapsNet()
    rng = np.random.default_rng(0)
    images = rng.random((BATCH, 28, 28, 1), dtype=np.float32)
    labels = np.array([3, 1, 4])
    features = model.conv1(images)
    primary_conv = model.primary_capsules.conv(features)
    u = model.primary_capsules(features)
    W = model.digit_capsules.W
    u_hat = cl.predict_vectors(u, tf.convert_to_tensor(W))
    v, c = cl.routing_by_agreement(u_hat, model.config.routing_iterations)
    b = tf.einsum("bijk,bjk->bij", u_hat, v)  # one round's agreement: the logits' shape
    s = tf.einsum("bij,bijk->bjk", c, u_hat)
    masked = model.mask(v, labels)
    decoder = model.decoder
    decoder_input = decoder.flatten(masked)
    hidden_1 = decoder.hidden[0](decoder_input)
    hidden_2 = decoder.hidden[1](hidden_1)
    pixels = decoder.pixels(hidden_2)
    loss, margin, reconstruction, lengths = model.compute_losses(images, labels, training=True)
    tensors = {
        "images": images,
        "conv1": features,
        "primary_conv": primary_conv,
        "u": u,
        "W": W,
        "u_hat": u_hat,
        "b": b,
        "c": c,
        "s": s,
        "v": v,
        "lengths": lengths,
        "margin_loss": margin,
        "masked": masked,
        "decoder_input": decoder_input,
        "hidden_1": hidden_1,
        "hidden_2": hidden_2,
        "pixels": pixels,
        "reconstruction": decoder(masked),
        "reconstruction_loss": reconstruction,
        "loss": loss,
    }
    weights = {
        "conv1": model.conv1.count_params(),
        "primary_conv": model.primary_capsules.count_params(),
        "W": int(np.prod(W.shape)),
        "hidden_1": decoder.hidden[0].count_params(),
        "hidden_2": decoder.hidden[1].count_params(),
        "pixels": decoder.pixels.count_params(),
    }
    shapes = {name: tuple(int(n) for n in np.shape(t)) for name, t in tensors.items()}
    return {"model": model, "shapes": shapes, "weights": weights}


def test_every_shape_on_the_page_is_the_librarys(text, network):
    rows = table_after(text, "cheatsheet-shapes")
    listed = {code_name(row["Tensor"]): parse_shape(row["Shape"]) for row in rows}
    real = network["shapes"]
    unknown = sorted(set(listed) - set(real))
    assert not unknown, f"the page lists tensors this test does not know: {unknown}"
    wrong = {name: (shape, real[name]) for name, shape in listed.items() if shape != real[name]}
    assert not wrong, f"(page, library) shapes differ, batch {BATCH}: {wrong}"
    missing = sorted(set(real) - set(listed))
    assert not missing, f"the page no longer lists {missing}"


def test_every_weight_count_on_the_page_is_the_librarys(text, network):
    rows = table_after(text, "cheatsheet-shapes")
    listed = {
        code_name(row["Tensor"]): int(row["Weights"].replace(",", ""))
        for row in rows
        if row["Weights"]
    }
    assert listed == network["weights"], f"page {listed}, library {network['weights']}"
    total = network["model"].count_params()
    assert total == sum(listed.values()), "the layers listed do not hold all the weights"
    assert f"{total:,} in all" in text, f"the page should say the network has {total:,} in all"


def test_the_chain_in_short_matches_the_table(text, network):
    """The one-line summary under the table repeats the table's shapes."""
    shapes = network["shapes"]
    summary = text.split("In short:", 1)[1].split("\n\n", 1)[0]
    for name in ("images", "conv1", "primary_conv", "u", "u_hat", "c", "v", "lengths"):
        written = "(" + ", ".join(["b", *map(str, shapes[name][1:])]) + ")"
        assert written in summary, f"the summary lacks {name} {written}"
    assert f"(b, {shapes['decoder_input'][1]})" in summary


def test_every_setting_on_the_page_is_the_librarys(text, network):
    config = network["model"].config
    for row in table_after(text, "cheatsheet-settings"):
        names = re.findall(r"`([^`]+)`", row["In `cl.CapsNet`"])
        values = [float(v) for v in row["Value"].split(",")]
        if len(names) == 1 and len(values) > 1:  # a tuple setting, e.g. decoder_units
            assert tuple(getattr(config, names[0])) == tuple(values), row
            continue
        assert len(names) == len(values), row
        for name, value in zip(names, values, strict=True):
            assert getattr(config, name) == value, (
                f"{name}: page {value}, library {getattr(config, name)}"
            )


def test_equations_carry_the_papers_numbers(text):
    for number in (1, 2, 3, 4):
        assert text.count(f"\\tag{{{number}}}") == 1, f"eq. {number} is not on the page once"


def test_chapter_links_exist(text):
    targets = LINK.findall(text)
    assert targets, "no links to the chapters"
    for target in targets:
        assert (PAGE.parent / target).resolve().is_file(), f"broken link {target}"
    chapters = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    linked = {Path(target).name for target in targets}
    assert chapters <= linked, f"chapters not linked: {sorted(chapters - linked)}"


def test_the_page_is_in_the_book():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [chapter["file"] for part in toc["parts"] for chapter in part.get("chapters", [])]
    assert "book/cheatsheet" in files, "book/cheatsheet is not in _toc.yml"


def test_the_figure_shows_the_shapes_of_the_table(text, network):
    from capsnet_lib.diagram import network_shapes

    drawn = {
        name: tuple(BATCH if n == "b" else n for n in shape)
        for name, shape in network_shapes(network["model"]).items()
    }
    listed = {
        code_name(row["Tensor"]): parse_shape(row["Shape"])
        for row in table_after(text, "cheatsheet-shapes")
    }
    assert {k: drawn[k] for k in drawn if k in listed} == {k: listed[k] for k in drawn}
    assert drawn == {k: network["shapes"][k] for k in drawn}, (
        "the figure's shapes are not the model's"
    )


def test_the_figure_is_drawn_on_the_page(text, network):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from capsnet_lib.diagram import STEPS, plot_network_shapes

    assert "plot_network_shapes(cl.CapsNet())" in text, "the page no longer draws the figure"
    fig = plot_network_shapes(network["model"])
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == len(STEPS)
    texts = {t.get_text() for t in ax.texts}
    assert "(b, 1152, 10, 16)" in texts and "(b, 160)" in texts, texts
    from capsnet_lib import figures

    smallest = figures.smallest_text_px(fig)
    assert smallest >= figures.MIN_TEXT_PX, f"its smallest text is {smallest:.1f} px on the page"
    plt.close(fig)


@pytest.mark.parametrize("columns", [4, 2])
def test_each_layout_places_every_step_once_and_joins_neighbours(network, columns):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from capsnet_lib import figures
    from capsnet_lib.diagram import ARROWS, LAYOUTS, STEPS, plot_network_shapes

    places = LAYOUTS[columns]
    assert set(places) == {name for name, _, _ in STEPS}
    assert len(set(places.values())) == len(places), "two boxes in one place"
    assert {x for x, _ in places.values()} == set(range(columns))
    for a, b in ARROWS:
        (xa, ya), (xb, yb) = places[a], places[b]
        assert abs(xa - xb) + abs(ya - yb) == 1, f"{a} -> {b} are not neighbours"
    fig = plot_network_shapes(network["model"], columns=columns)
    smallest = figures.smallest_text_px(fig)
    assert smallest >= figures.MIN_TEXT_PX, f"its smallest text is {smallest:.1f} px"
    plt.close(fig)


def test_a_layout_of_three_columns_is_refused(network):
    from capsnet_lib.diagram import plot_network_shapes

    with pytest.raises(ValueError, match="columns must be one of"):
        plot_network_shapes(network["model"], columns=3)
