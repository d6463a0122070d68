"""The default bank's computed answers, recomputed here by other means and compared with the
values on the built cards (from the JSON card list).

Each check computes its expectation independently of the answer's cell (plain Python or
hand-derived formulas where the cell used torch or numpy, and the other way round), then
looks for that value in the card's text. A wrong cell, or a card that lost its value, fails.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

NUMBER = re.compile(r"[-−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


@pytest.fixture(scope="module")
def cards(seed_build: Path) -> dict[str, str]:
    data = json.loads((seed_build / "deep-learning-interviews.json").read_text())
    out = {}
    for card in data["cards"]:
        text = re.sub(r"<[^>]+>", " ", card["back"])
        out[card["key"]] = html.unescape(text).replace("−", "-")
    return out


def numbers(text: str) -> list[float]:
    return [float(n.replace("−", "-")) for n in NUMBER.findall(text)]


def has(text: str, value: float, tol: float = 5e-4) -> bool:
    return any(abs(x - value) <= tol * max(1.0, abs(value)) for x in numbers(text))


def has_shape(text: str, shape: tuple[int, ...]) -> bool:
    pattern = r"[\(\[]\s*" + r"\s*,\s*".join(map(str, shape)) + r"\s*[\)\]]"
    return re.search(pattern, text) is not None


def test_no_card_shows_unevaluated_code_markers(seed_build: Path):
    data = json.loads((seed_build / "deep-learning-interviews.json").read_text())
    for card in data["cards"]:
        assert "{python}" not in card["front"] + card["back"], card["ref"]


def test_q18_valid_convolution_shape_and_values(cards):
    # true convolution (kernel flipped) with plain loops
    arr = [[3.0] * 3 + [1.0] * 3 for _ in range(6)]
    k = [[2.0, 0.0, -2.0] for _ in range(3)]
    out = [[sum(arr[i + a][j + b] * k[2 - a][2 - b] for a in range(3) for b in range(3))
            for j in range(4)] for i in range(4)]
    assert has_shape(cards["18.1"], (4, 4))
    assert out[0] == [0.0, -12.0, -12.0, 0.0]
    assert re.search(r"\[\s*0\.,\s*-12\.,\s*-12\.,\s*0\.\]", cards["18.2"])


def test_q23_l2_normalisation(cards):
    norm = math.sqrt(1 + 4 + 9)
    for v in (1 / norm, 2 / norm, 3 / norm):
        assert has(cards["23"], v, 1e-4)


def test_q25_jaccard(cards):
    assert has(cards["25.3"], 2 / 7, 1e-3)  # 2 shared of 2 + 3 + 2 points (Figure 8.13)
    s1, s2, s3 = {12, 14, 16, 18}, {11, 12, 13, 14, 15}, {11, 16, 17}
    for a, b in ((s1, s2), (s1, s3), (s2, s3)):
        j = len(a & b) / len(a | b)
        assert has(cards["25.4"], j, 1e-3)
        assert f"{len(a & b)}/{len(a | b)}" in cards["25.4"]


def test_q34_q35_single_node(cards):
    z = 0.9 * -0.3 + 0.7 * 0.15
    assert has(cards["34.1"], z)
    assert has(cards["34.2"], z + 0.001)
    assert has(cards["35.1"], max(0.0, z + 0.001))


def test_q37_mlp_forward_softmax(cards):
    x = np.array([0.9, 0.7])
    w = np.array([[-0.3, 0.15], [0.32, -0.91], [0.37, 0.47]])
    h = np.maximum(0, w @ x + 0.001)
    assert has(cards["37.1"], h[2], 1e-4) and h[0] == h[1] == 0
    w1 = np.array([[0.15, -0.46, 0.59], [0.10, 0.32, -0.79]])
    gamma = w1 @ h
    for g in gamma:
        assert has(cards["37.2"], g, 1e-4)
    soft = np.exp(gamma) / np.exp(gamma).sum()
    for p in soft:
        assert has(cards["37.3"], p, 1e-4)


def test_q42_q43_perceptron_sums(cards):
    for bias, key in ((-2.5, "42"), (-0.25, "43")):
        for x1, x2 in ((0, 0), (0, 1), (1, 0), (1, 1)):
            assert has(cards[key], x1 + x2 + bias)


def test_q46_and_gate_threshold(cards):
    # largest sum on a 0-row is 1, the 1-row sums to 2: the midpoint threshold
    assert has(cards["46"], 1.5)


def test_q47_sigmoid_and_its_approximation(cards):
    for x in (0.1, 0.5, 0.99):
        assert has(cards["47.5"], 1 / (1 + math.exp(-x)), 1e-5)
        assert has(cards["47.5"], 1 / (1 + 2 ** (-1.5 * x)), 1e-5)


def test_q48_tanh_forward_and_derivative(cards):
    for v in (0.37, 0.192, 0.571):
        t = np.tanh(v)
        assert has(cards["48.2"], float(t), 1e-5)
        assert has(cards["48.2"], float(1 - t * t), 1e-5)


def test_q54_kernel_shape(cards):
    assert has_shape(cards["54"], (16, 3, 3, 3))


def test_q57_confusion_matrix_metrics(cards):
    tp, fn, fp, tn = 12, 7, 24, 1009  # read from img/metrics-1.png
    assert has(cards["57.2"], (tp + tn) / (tp + tn + fp + fn), 1e-4)
    assert has(cards["57.3"], tp / (tp + fp), 1e-4)
    assert has(cards["57.4"], tp / (tp + fn), 1e-4)


def _conv_out(n: int, f: int, s: int, p: int) -> int:
    return (n + 2 * p - f) // s + 1


def test_q60_output_size_examples(cards):
    for n, f, s, p in ((224, 3, 1, 1), (224, 7, 1, 2), (224, 7, 2, 3), (7, 3, 2, 0)):
        assert re.search(rf"n=\s*{n} f={f} s={s} p={p}:\s+formula\s+{_conv_out(n, f, s, p)}\b",
                         cards["60"])


def test_q61_q62_vgg11_shapes(cards):
    for h, w in ((224, 224), (512, 512), (704, 1024)):
        hh, ww = h, w
        for _ in range(5):  # five 2x2 max-pools; 3x3 convs with padding 1 keep the size
            hh, ww = hh // 2, ww // 2
        assert has_shape(cards["61.1"], (1, 512, hh, ww))
        assert has_shape(cards["62.2"], (1, 64, h // 2, w // 2))


def test_q66_q67_column_convolution_and_relu(cards):
    col, filt = [7, 3, -6, 5], [3, 1]  # read from img/conv-5.png and img/conv-4.png
    conv = [col[i] * filt[0] + col[i + 1] * filt[1] for i in range(3)]
    assert re.search(r"\[\s*24\.0,\s*3\.0,\s*-13\.0\s*\]", cards["66"]) and conv == [24, 3, -13]
    assert re.search(r"\[\s*24\.0,\s*3\.0,\s*0\.0\s*\]", cards["67"])


def test_q70_maxpool_shapes(cards):
    side = _conv_out(224, 7, 1, 2)
    assert has_shape(cards["70.2"], (1, 32, side, side))
    assert has_shape(cards["70.4"], (1, 32, side // 2, side // 2))
    assert has_shape(cards["70.4"], (1, 32, side // 4, side // 4))
    assert has_shape(cards["70.4"], (1, 32 * (side // 4) ** 2))


def test_q72_normal_pdf_derivative_matches_finite_difference(cards):
    assert "max |sympy - finite difference|" in cards["72.2"]
    err = float(re.search(r"finite difference\|:\s*([0-9.e+-]+)", cards["72.2"]).group(1))
    assert err < 1e-6


def test_q78_inverted_dropout_factor(cards):
    assert has(cards["78"], 1 / (1 - 0.3), 1e-4)  # p = 0.3 in the answer's nn.Dropout check


def test_q95_q96_distances(cards):
    a, b = [6, 1, 4, 5], [2, 8, 3, -1]
    euclid = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    manhattan = sum(abs(x - y) for x, y in zip(a, b))
    assert has(cards["95.4"], euclid, 1e-4) and "\\sqrt{102}" in cards["95.4"]
    assert has(cards["95.4"], manhattan)
    assert has(cards["96"], manhattan)


def test_every_figure_of_the_bank_is_on_a_card(seed_build: Path):
    from conftest import ROOT
    from deckgen.media import hashed_name

    data = json.loads((seed_build / "deep-learning-interviews.json").read_text())
    on_cards = {m for card in data["cards"] for m in card["media"]}
    images = sorted((ROOT / "source" / "img").glob("*.png"))
    assert len(images) == 30
    for image in images:
        assert hashed_name(image.read_bytes(), ".png") in on_cards, image.name


def test_q36_only_x_sin_one_over_x_cannot_be_back_propagated(cards, seed_build: Path):
    """By hand: (h sin(1/h)) / h = sin(1/h) takes every value in [-1, 1] near 0; |x| has
    slopes -1 and 1 at 0; option 4 has -1 (from -x) and 0 (from x^2)."""
    data = json.loads((seed_build / "deep-learning-interviews.json").read_text())
    back = next(c["back"] for c in data["cards"] if c["key"] == "36")
    assert re.findall(r'<li class="(correct|wrong)"', back) == ["wrong", "wrong", "correct",
                                                               "wrong"]
    text = " ".join(cards["36"].split())
    assert "interval \\([-1, 1]\\)" in text
    assert "slopes at \\(0\\) are -1 and 1" in text and "slopes -1 and 0 there" in text


def test_q63_blanks_are_read_off_the_vgg11_model(seed_build: Path):
    """The VGG paper's configuration A, by hand: 8 convolutions (3x3), each followed by a
    ReLU, five 2x2 max-pools of stride 2; channels 64, 128, 256, 512, doubling to 512."""
    data = json.loads((seed_build / "deep-learning-interviews.json").read_text())
    fronts = {c["key"]: c["front"] for c in data["cards"]}
    fills = {k: re.findall(r"\{\{c\d+::(.*?)\}\}", fronts[k]) for k in
             ("63.1", "63.2", "63.3", "63.4", "63.5")}
    assert fills == {"63.1": ["8"], "63.2": ["ReLU", "max-pooling", "2"], "63.3": ["3×3"],
                     "63.4": ["64"], "63.5": ["doubles", "max-pooling", "512"]}
    answers = (Path(__file__).parent.parent / "source" / "answers" / "50-70.md").read_text()
    block = answers[answers.index("## 63.1"):answers.index("## 64.1")]
    assert block.count("1. `{python}") == 5  # every blank's fill is computed
