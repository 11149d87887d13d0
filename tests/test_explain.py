"""deepmat.explain: the equations of SPEC §2–§3 with concrete shapes, and the layer table.

- the cat architecture [12288, 20, 7, 5, 1] with m = 209: the exact lines, every shape any
  line mentions checked against SPEC §1 (columns) and its transpose (rows);
- symbolic m, softmax/identity outputs, non-canonical losses, batch norm, dropout, L2;
- summary totals equal the real parameter counts; bad input is refused.
"""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pytest

from deepmat import Activation, BatchNorm, Dense, Dropout, Network
from deepmat.explain import explain, summary

CAT = [12288, 20, 7, 5, 1]
M = 209


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def count_lines(text: str, line: str) -> int:
    return lines_of(text).count(line)


@pytest.fixture(scope="module")
def cat_text() -> str:
    return explain(CAT, m=M)


# -- the cat architecture, column layout ----------------------------------------------------------

BRIEF_LINES = [
    "Z[1] (20×209) = W[1] (20×12288) · A[0] (12288×209) + b[1] (20×1, broadcast)",
    "A[1] (20×209) = relu(Z[1])",
    "dZ[4] (1×209) = A[4] − Y (1×209)",
    "dZ[3] (5×209) = dA[3] ⊙ relu'(Z[3])",
    "dW[1] (20×12288) = 1/m · dZ[1] (20×209) · A[0]ᵀ (209×12288)",
    "db[1] (20×1) = 1/m · Σ_columns dZ[1] (20×209)",
    "dA[0] (12288×209) = W[1]ᵀ (12288×20) · dZ[1] (20×209)",
    "W[1] ← W[1] − α·dW[1]",
    "z[1] (20×1) = W[1] (20×12288) · a[0] (12288×1) + b[1] (20×1)",
    "dW[1] (20×12288) = dz[1] (20×1) · a[0]ᵀ (1×12288)",
    "db[1] = dz[1]",
]


@pytest.mark.parametrize("line", BRIEF_LINES)
def test_cat_exact_lines_appear_once(cat_text, line):
    assert count_lines(cat_text, line) == 1


def expected_cat_lines(l: int) -> list[str]:
    """Every equation of Dense layer l of the cat model, built from SPEC §1's shapes."""
    n, p, L = CAT[l], CAT[l - 1], len(CAT) - 1
    g = "sigmoid" if l == L else "relu"
    lines = [
        f"check: W[{l}] is (n[{l}], n[{l - 1}]) = ({n}, {p}); b[{l}] is (n[{l}], 1) = ({n}, 1); "
        f"Z[{l}] and A[{l}] are (n[{l}], m) = ({n}, {M}); dW[{l}], db[{l}] have the shapes of "
        f"W[{l}], b[{l}] and dZ[{l}], dA[{l}] those of Z[{l}], A[{l}]",
        f"z[{l}] ({n}×1) = W[{l}] ({n}×{p}) · a[{l - 1}] ({p}×1) + b[{l}] ({n}×1)",
        f"a[{l}] ({n}×1) = {g}(z[{l}])",
        f"Z[{l}] ({n}×{M}) = W[{l}] ({n}×{p}) · A[{l - 1}] ({p}×{M}) + b[{l}] ({n}×1, broadcast)",
        f"A[{l}] ({n}×{M}) = {g}(Z[{l}])",
        f"dW[{l}] ({n}×{p}) = dz[{l}] ({n}×1) · a[{l - 1}]ᵀ (1×{p})",
        f"db[{l}] = dz[{l}]",
        f"da[{l - 1}] ({p}×1) = W[{l}]ᵀ ({p}×{n}) · dz[{l}] ({n}×1)",
        f"dW[{l}] ({n}×{p}) = 1/m · dZ[{l}] ({n}×{M}) · A[{l - 1}]ᵀ ({M}×{p})",
        f"db[{l}] ({n}×1) = 1/m · Σ_columns dZ[{l}] ({n}×{M})",
        f"dA[{l - 1}] ({p}×{M}) = W[{l}]ᵀ ({p}×{n}) · dZ[{l}] ({n}×{M})",
        f"W[{l}] ← W[{l}] − α·dW[{l}]",
        f"b[{l}] ← b[{l}] − α·db[{l}]",
    ]
    if l == L:
        lines += [f"dz[{l}] ({n}×1) = a[{l}] − y ({n}×1)", f"dZ[{l}] ({n}×{M}) = A[{l}] − Y ({n}×{M})"]
    else:
        lines += [
            f"dz[{l}] ({n}×1) = da[{l}] ⊙ relu'(z[{l}])",
            f"dZ[{l}] ({n}×{M}) = dA[{l}] ⊙ relu'(Z[{l}])",
        ]
    return lines


@pytest.mark.parametrize("l", [1, 2, 3, 4])
def test_cat_every_layer_has_all_its_equations_once(cat_text, l):
    for line in expected_cat_lines(l):
        assert count_lines(cat_text, line) == 1, line


SHAPE_TOKEN = re.compile(r"(d?)([WbZAzaY])(?:\[(\d+)\])?(ᵀ?) \((\w+)×(\w+)(?:, broadcast)?\)")


def expected_shape(letter: str, l: int | None, transposed: bool, dims, m, rows: bool):
    """The SPEC §1 shape of a symbol in the column layout; its transpose in the row layout."""
    if letter == "Y":
        shape = (dims[-1], m)
    elif letter == "y":
        shape = (dims[-1], 1)
    elif letter == "W":
        shape = (dims[l], dims[l - 1])
    elif letter == "b":
        shape = (dims[l], 1)
    else:
        shape = (dims[l], m if letter in "ZA" else 1)
    if transposed != rows:  # Xᵀ in columns and X in rows are both the transpose
        shape = shape[::-1]
    return tuple(str(d) for d in shape)


@pytest.mark.parametrize("m", [M, "m"])
@pytest.mark.parametrize("layout", ["columns", "rows"])
def test_every_shape_mentioned_matches_spec_section_1(layout, m):
    text = explain(CAT, m=m, layout=layout)
    rows = layout == "rows"
    seen = 0
    for token in SHAPE_TOKEN.finditer(text):
        _, letter, l, t, a, b = token.groups()
        l = None if l is None else int(l)
        assert (a, b) == expected_shape(letter, l, t == "ᵀ", CAT, m, rows), token.group(0)
        seen += 1
    assert seen >= 100  # the scan is not vacuous: the cat text names 105 shapes


@pytest.mark.parametrize("layout", ["columns", "rows"])
def test_dimension_check_line_per_layer(layout):
    text = explain(CAT, m=M, layout=layout)
    checks = [line for line in lines_of(text) if line.startswith("check")]
    assert len(checks) == 4
    for l, line in enumerate(checks, start=1):
        n, p = CAT[l], CAT[l - 1]
        if layout == "columns":
            assert f"W[{l}] is (n[{l}], n[{l - 1}]) = ({n}, {p})" in line
            assert f"b[{l}] is (n[{l}], 1) = ({n}, 1)" in line
            assert f"Z[{l}] and A[{l}] are (n[{l}], m) = ({n}, {M})" in line
        else:
            assert f"W[{l}] is (n[{l - 1}], n[{l}]) = ({p}, {n}), deepmat's W[{l}]ᵀ" in line
            assert f"b[{l}] is (1, n[{l}]) = (1, {n})" in line
            assert f"Z[{l}] and A[{l}] are (m, n[{l}]) = ({M}, {n})" in line
        assert f"dW[{l}], db[{l}] have the shapes of W[{l}], b[{l}]" in line


def test_forward_runs_up_and_backward_runs_down_then_update(cat_text):
    lines = lines_of(cat_text)
    forward = [
        lines.index(f"A[{l}] ({CAT[l]}×{M}) = {'sigmoid' if l == 4 else 'relu'}(Z[{l}])")
        for l in (1, 2, 3, 4)
    ]
    backward = [
        lines.index(next(x for x in lines if x.startswith(f"dW[{l}] ({CAT[l]}×{CAT[l - 1]}) = 1/m")))
        for l in (4, 3, 2, 1)
    ]
    update = [lines.index(f"W[{l}] ← W[{l}] − α·dW[{l}]") for l in (1, 2, 3, 4)]
    assert forward == sorted(forward)
    assert backward == sorted(backward)
    assert forward[-1] < backward[0] and backward[-1] < update[0] and update == sorted(update)


def test_cat_header_and_dA0_note(cat_text):
    head = "\n".join(cat_text.splitlines()[:6])
    assert "network [12288, 20, 7, 5, 1]" in head
    assert "L = 4 layers with parameters" in head
    assert "m = 209 samples" in head
    assert "g[1..3] = relu, g[4] = sigmoid" in head
    assert "binary cross-entropy" in head
    assert "W[l] is (n[l], n[l-1])" in head
    lines = lines_of(cat_text)
    dA0 = lines.index("dA[0] (12288×209) = W[1]ᵀ (12288×20) · dZ[1] (20×209)")
    assert lines[dA0 + 1].startswith("dA[0] is not needed for training")


def test_network_gives_the_same_text_as_its_layer_dims(cat_text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = Network(CAT)
    assert explain(net=net, m=M) == cat_text


def test_numpy_integer_m():
    assert explain([3, 2, 1], m=np.int64(7)) == explain([3, 2, 1], m=7)


# -- symbolic m, rows ----------------------------------------------------------------------------


def test_symbolic_m():
    text = explain(CAT)
    assert text == explain(CAT, m="m")
    for line in [
        "Z[1] (20×m) = W[1] (20×12288) · A[0] (12288×m) + b[1] (20×1, broadcast)",
        "A[1] (20×m) = relu(Z[1])",
        "dZ[4] (1×m) = A[4] − Y (1×m)",
        "dW[1] (20×12288) = 1/m · dZ[1] (20×m) · A[0]ᵀ (m×12288)",
        "db[1] (20×1) = 1/m · Σ_columns dZ[1] (20×m)",
        "dA[0] (12288×m) = W[1]ᵀ (12288×20) · dZ[1] (20×m)",
        "z[1] (20×1) = W[1] (20×12288) · a[0] (12288×1) + b[1] (20×1)",
    ]:
        assert count_lines(text, line) == 1, line
    assert "Z[1] and A[1] are (n[1], m) = (20, m)" in text
    assert "m samples (symbolic: no batch size given)" in text
    assert "209" not in text


def test_rows_layout_exact_lines():
    text = explain(CAT, m=M, layout="rows")
    for line in [
        "Z[1] (209×20) = A[0] (209×12288) · W[1] (12288×20) + b[1] (1×20, broadcast)",
        "A[1] (209×20) = relu(Z[1])",
        "dZ[4] (209×1) = A[4] − Y (209×1)",
        "dZ[3] (209×5) = dA[3] ⊙ relu'(Z[3])",
        "dW[1] (12288×20) = 1/m · A[0]ᵀ (12288×209) · dZ[1] (209×20)",
        "db[1] (1×20) = 1/m · Σ_rows dZ[1] (209×20)",
        "dA[0] (209×12288) = dZ[1] (209×20) · W[1]ᵀ (20×12288)",
        "z[1] (1×20) = a[0] (1×12288) · W[1] (12288×20) + b[1] (1×20)",
        "dW[1] (12288×20) = a[0]ᵀ (12288×1) · dz[1] (1×20)",
        "db[1] = dz[1]",
        "W[1] ← W[1] − α·dW[1]",
    ]:
        assert count_lines(text, line) == 1, line
    header = next(line for line in text.splitlines() if line.startswith("layout:"))
    assert "deepmat stores W[l] as (n[l], n[l-1]) and the row form uses its transpose" in header
    assert "Σ_columns" not in text


# -- output activations and losses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("dims", "hidden", "output", "expected", "loss_words"),
    [
        (
            [4, 3, 10],
            "relu",
            "softmax",
            [
                "A[2] (10×32) = softmax(Z[2])",
                "dZ[2] (10×32) = A[2] − Y (10×32)",
                "dz[2] (10×1) = a[2] − y (10×1)",
                "dZ[1] (3×32) = dA[1] ⊙ relu'(Z[1])",
            ],
            "cross-entropy, L(a, y) = −Σ_k y_k·log a_k",
        ),
        (
            [3, 5, 2],
            "tanh",
            "identity",
            [
                "A[2] (2×32) = identity(Z[2])",
                "dZ[2] (2×32) = A[2] − Y (2×32)",
                "dZ[1] (5×32) = dA[1] ⊙ tanh'(Z[1])",
                "A[1] (5×32) = tanh(Z[1])",
            ],
            "mean squared error, L(a, y) = ½‖a − y‖²",
        ),
    ],
)
def test_softmax_and_identity_outputs(dims, hidden, output, expected, loss_words):
    text = explain(dims, m=32, hidden_activation=hidden, output_activation=output)
    for line in expected:
        assert count_lines(text, line) == 1, line
    assert loss_words in text
    assert f"g[1] = {hidden}, g[2] = {output}" in text


def test_non_canonical_losses_chain_through_the_activation():
    net = Network([3, 4, 2], output_activation="sigmoid", loss="mse")
    text = explain(net=net, m=5)
    assert count_lines(text, "dA[2] (2×5) = A[2] − Y") == 1
    assert count_lines(text, "dZ[2] (2×5) = dA[2] ⊙ sigmoid'(Z[2])") == 1
    assert "dZ[2] (2×5) = A[2] − Y (2×5)" not in text

    net = Network([3, 4, 3], output_activation="softmax", loss="binary_cross_entropy")
    text = explain(net=net, m=5)
    assert count_lines(text, "dA[2] (3×5) = −(Y / A[2] − (1 − Y) / (1 − A[2]))") == 1
    assert count_lines(text, "dZ[2] (3×5) = A[2] ⊙ (dA[2] − Σ_units(A[2] ⊙ dA[2]))") == 1


# -- batch norm, dropout, L2 ---------------------------------------------------------------------


def test_batch_norm_and_dropout_shorthand_network():
    net = Network([6, 5, 4, 1], batch_norm=True, dropout=0.25)
    text = explain(net=net, m=32)
    for line in [
        "Z[1] (5×32) = W[1] (5×6) · A[0] (6×32) + b[1] (5×1, broadcast)",
        "Ẑ[1] (5×32) = γ[1] (5×1) ⊙ (Z[1] − μ) / √(σ² + ε) + β[1] (5×1)",
        "A[1] (5×32) = relu(Ẑ[1])",
        "A[1] (5×32) = A[1] ⊙ D[1] / (1 − p)",
        "Ẑ[2] (4×32) = γ[2] (4×1) ⊙ (Z[2] − μ) / √(σ² + ε) + β[2] (4×1)",
        "A[3] (1×32) = sigmoid(Z[3])",
        "dZ[3] (1×32) = A[3] − Y (1×32)",
        "dA[2] (4×32) = dA[2] ⊙ D[2] / (1 − p)",
        "dẐ[2] (4×32) = dA[2] ⊙ relu'(Ẑ[2])",
        "dγ[2] (4×1) = 1/m · Σ_columns (dẐ[2] ⊙ X̂[2]) (4×32)",
        "dβ[2] (4×1) = 1/m · Σ_columns dẐ[2] (4×32)",
        "dZ[2] (4×32) = γ[2] ⊙ (dẐ[2] − mean(dẐ[2]) − X̂[2] ⊙ mean(dẐ[2] ⊙ X̂[2])) / √(σ² + ε)",
        "dW[2] (4×5) = 1/m · dZ[2] (4×32) · A[1]ᵀ (32×5)",
        "γ[1] ← γ[1] − α·dγ[1]",
        "β[2] ← β[2] − α·dβ[2]",
    ]:
        assert count_lines(text, line) == 1, line
    assert "(p = 0.25)" in text
    assert "γ[1] and β[1] are (n[1], 1) = (5, 1)" in text
    lines = lines_of(text)
    # backward order inside a layer: dropout, activation, batch norm, then the Dense gradients
    order = [
        lines.index("dA[2] (4×32) = dA[2] ⊙ D[2] / (1 − p)"),
        lines.index("dẐ[2] (4×32) = dA[2] ⊙ relu'(Ẑ[2])"),
        lines.index("dβ[2] (4×1) = 1/m · Σ_columns dẐ[2] (4×32)"),
        lines.index("dW[2] (4×5) = 1/m · dZ[2] (4×32) · A[1]ᵀ (32×5)"),
    ]
    assert order == sorted(order)


def test_custom_layers_input_dropout_norm_after_activation_and_split_softmax():
    net = Network(
        layers=[Dropout(0.2), Dense(8, "relu"), BatchNorm(), Dense(3, "identity"), Activation("softmax")],
        input_dim=5,
    )
    text = explain(net=net)
    for line in [
        "A[0] (5×m) = A[0] ⊙ D[0] / (1 − p)",
        "A[1] (8×m) = relu(Z[1])",
        "A[1] (8×m) = γ[1] (8×1) ⊙ (A[1] − μ) / √(σ² + ε) + β[1] (8×1)",
        "A[2] (3×m) = softmax(Z[2])",
        "dZ[2] (3×m) = A[2] − Y (3×m)",
        "dZ[1] (8×m) = dA[1] ⊙ relu'(Z[1])",
    ]:
        assert count_lines(text, line) == 1, line
    assert "Dropout(0.2) → Dense(8, relu) → BatchNorm → Dense(3, identity) → Activation(softmax)" in text
    assert "dA[0] is not needed for training" in text
    assert "γ[0]" not in text  # input dropout has no parameters: no layer-0 backward, no update

    net = Network(layers=[BatchNorm(), Dense(2, "sigmoid")], input_dim=3)
    text = explain(net=net, m=4, layout="rows")
    assert count_lines(text, "A[0] (4×3) = γ[0] (1×3) ⊙ (A[0] − μ) / √(σ² + ε) + β[0] (1×3)") == 1
    assert count_lines(text, "dγ[0] (1×3) = 1/m · Σ_rows (dA[0] ⊙ X̂[0]) (4×3)") == 1
    assert count_lines(text, "γ[0] ← γ[0] − α·dγ[0]") == 1
    assert "dA[0] is needed here" in text


def test_l2_penalty_adds_to_dW():
    text = explain(net=Network([4, 3, 1], l2=0.1), m=6)
    lines = lines_of(text)
    dW = lines.index("dW[1] (3×4) = 1/m · dZ[1] (3×6) · A[0]ᵀ (6×4)")
    assert lines[dW + 2] == "dW[1] += λ·W[1]  (L2 penalty (λ/2)·‖W[1]‖²_F in J, λ = 0.1)"
    assert "λ" not in explain([4, 3, 1], m=6)


# -- summary -------------------------------------------------------------------------------------


def nets():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "cat": Network(CAT),
            "softmax float32": Network([784, 256, 10], output_activation="softmax", dtype="float32"),
            "bn dropout": Network([6, 5, 4, 1], batch_norm=True, dropout=0.25),
            "custom": Network(
                layers=[BatchNorm(), Dropout(0.1), Dense(8, "tanh"), BatchNorm(), Dense(2, "identity")],
                input_dim=4,
                l2=0.01,
            ),
        }


def table_rows(text: str) -> list[str]:
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"─"}]
    assert len(rules) == 2
    return [lines[rules[0] - 1], *lines[rules[0] + 1 : rules[1]]]


def cells(row: str) -> list[str]:
    return re.split(r" {2,}", row.strip())


@pytest.mark.parametrize("name", ["cat", "softmax float32", "bn dropout", "custom"])
def test_summary_totals_are_the_real_parameter_counts(name):
    net = nets()[name]
    text = summary(net)
    trainable = int(re.search(r"^Trainable parameters: ([\d,]+)$", text, re.M).group(1).replace(",", ""))
    buffers = int(re.search(r"^Non-trainable parameters: ([\d,]+)", text, re.M).group(1).replace(",", ""))
    assert trainable == sum(a.size for a in net.params.values())
    assert buffers == sum(a.size for a in net.buffers.values())
    header, *rows = table_rows(text)
    assert cells(header) == ["layer", "output shape", "W / γ", "b / β", "parameters", "activation"]
    assert len(rows) == len(net.layers)
    assert sum(int(cells(row)[4].replace(",", "")) for row in rows) == trainable
    for row, layer in zip(rows, net.layers, strict=True):
        assert cells(row)[0].startswith(f"{layer.index} {layer.kind}")
        assert cells(row)[1] == f"({layer.n_out}, m)"
    assert (
        f"Input n[0] = {net.layer_dims[0]} · L = {net.L} · dtype {net.dtype.name} · loss {net.loss}" in text
    )
    assert "\x1b" not in text


@pytest.mark.parametrize("name", ["cat", "bn dropout", "custom"])
def test_summary_columns_are_aligned(name):
    header, *rows = table_rows(summary(nets()[name]))
    starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", header)]
    param_end = header.index("parameters") + len("parameters")
    for row in rows:
        found = list(re.finditer(r"\S+(?: \S+)*", row))
        assert [m.start() for m in found[:4]] == starts[:4]
        assert found[4].end() == param_end
        assert found[5].start() == starts[5]


def test_summary_cat_rows_and_layer_kinds():
    _, *rows = table_rows(summary(nets()["cat"]))
    assert [cells(row) for row in rows] == [
        ["1 Dense", "(20, m)", "(20, 12288)", "(20, 1)", "245,780", "relu"],
        ["2 Dense", "(7, m)", "(7, 20)", "(7, 1)", "147", "relu"],
        ["3 Dense", "(5, m)", "(5, 7)", "(5, 1)", "40", "relu"],
        ["4 Dense", "(1, m)", "(1, 5)", "(1, 1)", "6", "sigmoid"],
    ]
    _, *rows = table_rows(summary(nets()["bn dropout"]))
    assert [cells(row) for row in rows[:4]] == [
        ["1 Dense", "(5, m)", "(5, 6)", "(5, 1)", "35", "identity"],
        ["1 BatchNorm", "(5, m)", "γ (5, 1)", "β (5, 1)", "10", "—"],
        ["1 Activation", "(5, m)", "—", "—", "0", "relu"],
        ["1 Dropout p=0.25", "(5, m)", "—", "—", "0", "—"],
    ]
    text = summary(nets()["custom"])
    assert "L2 penalty: λ[1] = 0.01, λ[2] = 0.01" in text
    assert "Non-trainable parameters: 24 (batch-norm running mean and variance)" in text


class _Cells(HTMLParser):
    """The text of every row of an HTML table, by section (thead, tbody, tfoot), and the caption."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {"thead": [], "tbody": [], "tfoot": []}
        self.section, self.cell, self.caption = "", None, ""
        self.tags: set[str] = set()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.open.append(tag)
        if tag in self.rows:
            self.section = tag
        elif tag == "tr":
            self.rows[self.section].append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        self.open.pop()
        if tag in ("td", "th"):
            self.rows[self.section][-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        elif self.open and self.open[-1] == "caption":
            self.caption += data


@pytest.mark.parametrize("name", ["cat", "bn dropout", "custom"])
def test_repr_html_is_the_summary_as_a_table(name):
    net = nets()[name]
    parser = _Cells()
    parser.feed(net._repr_html_())
    header, *rows = table_rows(summary(net))
    text = summary(net).splitlines()
    assert parser.caption == text[0]
    assert parser.rows["thead"] == [cells(header)]
    assert parser.rows["tbody"] == [cells(row) for row in rows]
    assert [row[0] for row in parser.rows["tfoot"]] == text[len(rows) + 4 :]
    assert parser.tags <= {"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td"}


def test_repr_html_escapes_what_it_shows():
    class Shown(Dropout):
        kind = "<script>alert(1)</script> & $x$"

    net = Network(layers=[Dense(3), Shown(0.1), Dense(2, "softmax")], input_dim=4)
    page = net._repr_html_()
    assert "<script>" not in page
    parser = _Cells()
    parser.feed(page)
    assert parser.rows["tbody"][1][0] == "1 <script>alert(1)</script> & $x$ p=0.1"
    assert "script" not in parser.tags


# -- errors --------------------------------------------------------------------------------------


def test_unknown_layout_lists_choices():
    with pytest.raises(ValueError, match=r"unknown layout 'diagonal'.*'columns', 'rows'"):
        explain(CAT, layout="diagonal")


@pytest.mark.parametrize("bad", ["softmax", "swish", None])
def test_unknown_hidden_activation_lists_choices(bad):
    with pytest.raises(
        ValueError, match=r"hidden activation.*'identity', 'leaky_relu', 'relu', 'sigmoid', 'tanh'"
    ):
        explain(CAT, hidden_activation=bad)


@pytest.mark.parametrize("bad", ["relu", "Sigmoid"])
def test_unknown_output_activation_lists_choices(bad):
    with pytest.raises(ValueError, match=r"output activation.*'identity', 'sigmoid', 'softmax'"):
        explain(CAT, output_activation=bad)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "n", "209", None])
def test_m_must_be_positive_int_or_symbolic(bad):
    with pytest.raises(ValueError, match="m must be a positive integer"):
        explain(CAT, m=bad)


def test_architecture_errors():
    with pytest.raises(ValueError, match="either layer_dims"):
        explain()
    with pytest.raises(ValueError, match="either layer_dims"):
        explain(CAT, net=Network([3, 1]))
    with pytest.raises(TypeError, match=r"deepmat\.Network"):
        explain(net=CAT)
    with pytest.raises(ValueError, match="at least an input and an output"):
        explain([5])
    with pytest.raises(ValueError, match=r"n\[1\]\) must be positive"):
        explain([3, 0, 1])
    with pytest.raises(ValueError, match=r"softmax output needs n\[L\] ≥ 2"):
        explain([3, 1], output_activation="softmax")
    with pytest.raises(ValueError, match="a net brings its own activations"):
        explain(net=Network([3, 1]), hidden_activation="tanh")
    with pytest.raises(TypeError, match=r"deepmat\.Network"):
        summary(CAT)
