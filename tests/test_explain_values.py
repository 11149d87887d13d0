"""``deepmat explain --values``: the one-sample equations with a network's numbers.

The numbers are parsed back out of each format and compared with what the network's own
passes give for that sample (``forward_pass``, the layers' caches, ``backward_pass``, ``cost``),
every printed shape with the network's; the Markdown tables and the LaTeX document are checked
for structure; the command line picks a run's test sample (through the model's preprocessing),
an --input file's row with a --label, and refuses what does not go together.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from deepmat import Activation, BatchNorm, Dense, Dropout, Network
from deepmat.cli import main
from deepmat.explain import explain, explain_lines
from deepmat.explain_formats import MAX_SHOWN, number_text, shown
from deepmat.explain_values import explain_values

X = np.array([[0.5, -1.0, 2.0, 0.1, -0.3, 1.7, 0.0, 0.9]])


def nets() -> dict[str, tuple[Network, object]]:
    """Networks (with a sample's target) that cover every step kind and both output forms."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "softmax dropout": (Network([8, 9, 7, 3], dropout=0.2, seed=3), 2),
            "sigmoid l2": (Network([8, 5, 1], seed=4, l2=0.05), 1),
            "mse sigmoid bn": (
                Network(
                    layers=[Dense(9, "identity"), BatchNorm(), Activation("relu"), Dense(2, "sigmoid")],
                    input_dim=8,
                    loss="mse",
                    seed=5,
                ),
                np.array([1.0, 0.0]),
            ),
            "input bn, bn of A, identity": (
                Network(
                    layers=[BatchNorm(), Dropout(0.1), Dense(7, "tanh"), BatchNorm(), Dense(2, "identity")],
                    input_dim=8,
                    seed=6,
                ),
                np.array([0.3, -2.0]),
            ),
        }


def trained_like(net: Network) -> Network:
    """Batch-norm running statistics away from (0, 1), so a batch norm changes the numbers."""
    rng = np.random.default_rng(0)
    for name, array in net.buffers.items():
        array[...] = (
            rng.uniform(0.5, 2.0, array.shape)
            if name.startswith("running_var")
            else rng.normal(size=array.shape)
        )
    for name, array in net.params.items():
        if name.startswith(("gamma", "beta")):
            array[...] = rng.normal(1.0 if name.startswith("gamma") else 0.0, 0.3, array.shape)
    return net


# -- parsing the text format back --------------------------------------------------------------

MATRIX = re.compile(r"^      (\S+) \((\d+)×(\d+)\) =(?: \[ (.*) \]ᵀ)?$")


def parse_text(text: str) -> list[tuple[str, tuple[int, int], list[list[str]]]]:
    """Every matrix the text shows, in order: (name, shape, the shown cells row by row)."""
    found = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = MATRIX.match(line)
        if not match:
            continue
        name, rows, cols, column = match.groups()
        if column is not None:  # a column, written as a transposed row
            cells = [[c] for c in column.split("  ")]
        else:
            cells = []
            for row in lines[i + 1 :]:
                if not row.startswith("        [ "):
                    break
                cells.append(row.strip()[2:-2].split())
        found.append((name, (int(rows), int(cols)), cells))
    return found


def assert_shows(cells: list[list[str]], expected: np.ndarray, digits: int) -> None:
    """The shown cells are ``expected``'s entries of the shown rows and columns, to ``digits``."""
    rows, cols = shown(expected.shape[0]), shown(expected.shape[1])
    assert len(cells) == len(rows) and all(len(row) == len(cols) for row in cells)
    for i, row in zip(rows, cells, strict=True):
        for j, cell in zip(cols, row, strict=True):
            if i is None or j is None:
                assert cell in ("⋮", "…", "⋱")
            else:
                assert cell == number_text(expected[i, j], digits), (i, j, cell, expected[i, j])


def reference(net: Network, y: object) -> dict[str, np.ndarray]:
    """What the network's own passes give for sample X: the layers' caches after forward_pass,
    the gradients of backward_pass, A[L], and dA[0] = W[1]ᵀ·dZ[1] for a plain Dense stack."""
    A0 = net.input_columns(X)
    Y = net.target_rows(np.asarray(y).reshape(1, -1) if np.ndim(y) else np.asarray([y]), 1).T
    AL = net.forward_pass(A0)
    expected = {"a[0]": A0, "y": Y, f"a[{net.L}]": AL}
    for layer in net.layers:
        if isinstance(layer, Dense):
            expected[f"z[{layer.index}]"] = layer.cache.Z
    expected.update({f"{k[:-1]}[{k[-1]}]": v for k, v in net.params.items() if k[0] in "Wb"})
    grads = net.backward_pass(AL, Y)
    expected.update({f"{k[:-1]}[{k[-1]}]": v.copy() for k, v in grads.items() if k[:2] in ("dW", "db")})
    if all(isinstance(layer, Dense) for layer in net.layers):
        first = net.layers[0]
        expected["da[0]"] = first.W.T @ (first.dZ_mean * 1)
    return expected


@pytest.mark.parametrize("name", list(nets()))
@pytest.mark.parametrize("digits", [4, 17])
def test_the_numbers_are_the_networks_own(name, digits):
    net, y = nets()[name]
    net = trained_like(net)
    text = explain_values(net, X, y, digits=digits)
    matrices = parse_text(text)
    expected = reference(net, y)
    checked = set()
    for shown_name, shape, cells in matrices:
        if shown_name in expected and shown_name not in checked:  # the first showing of a name
            assert shape == expected[shown_name].shape, shown_name
            assert_shows(cells, expected[shown_name], digits)
            checked.add(shown_name)
    L = net.L
    assert {
        "a[0]",
        "y",
        f"a[{L}]",
        *(f"{p}[{l}]" for l in range(1, L + 1) for p in ("W", "b", "dW", "db")),
    } <= checked
    cost = re.search(
        r"^cost of this sample \(m = 1\): J = L\(a\[\d\], y\)(?: \+ L2 penalty)? = (\S+)$", text, re.M
    )
    assert cost.group(1) == number_text(net.cost(X, np.reshape(y, (1, -1)) if np.ndim(y) else [y]), digits)


@pytest.mark.parametrize("name", list(nets()))
def test_every_shape_is_the_networks_and_each_equation_comes_in_explains_order(name):
    net, y = nets()[name]
    text = explain_values(net, X, y)
    dims = net.layer_dims
    for shown_name, (rows, cols), _ in parse_text(text):
        l = int(shown_name[shown_name.index("[") + 1 : -1]) if "[" in shown_name else None
        stem = shown_name.split("[")[0]
        if stem in ("W", "dW"):
            assert (rows, cols) == (dims[l], dims[l - 1])
        elif shown_name == "y":
            assert (rows, cols) == (dims[-1], 1)
        else:  # a vector of layer l: a column (n[l], 1)
            assert (rows, cols) == (dims[l], 1), shown_name
    # the equations are explain's one-sample lines, in its order and wording, the update left out
    one_sample = [
        line.text for line in explain_lines(net=net, m=1, vectorised=False) if line.kind == "equation"
    ]
    equations = [
        line.strip()
        for line in text.splitlines()
        if line.startswith("    ") and not line.startswith("      ")
    ]
    assert equations == one_sample
    whole = [line.strip() for line in explain(net=net, m=1).splitlines()]
    assert all(line in whole for line in equations)
    assert len(equations) >= 5 * net.L


def test_a_batch_norm_of_a_shows_the_normalised_values_after_its_line():
    net, y = nets()["input bn, bn of A, identity"]
    net = trained_like(net)
    matrices = parse_text(explain_values(net, X, y, digits=17))
    a0 = [cells for name, _, cells in matrices if name == "a[0]"]
    A0 = net.input_columns(X)
    assert_shows(a0[0], A0, 17)  # the sample, before the input's batch norm
    assert_shows(a0[1], net.layers[0].forward(A0, training=False), 17)  # after it


def test_large_matrices_are_truncated_to_the_first_and_last_rows_and_columns():
    net = Network([30, 12, 10], seed=0)
    x = np.linspace(-1, 1, 30)[None, :]
    text = explain_values(net, x, 4, digits=3)
    _, shape, cells = next(m for m in parse_text(text) if m[0] == "W[1]")
    assert shape == (12, 30) and len(cells) == MAX_SHOWN + 1 and len(cells[0]) == MAX_SHOWN + 1
    assert (
        cells[3] == ["⋮"] * 3 + ["⋱"] + ["⋮"] * 3 and [row[3] for row in cells if row[0] != "⋮"] == ["…"] * 6
    )
    assert_shows(cells, net.params["W1"], 3)


# -- Markdown and LaTeX ---------------------------------------------------------------------------


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    tables, lines = {}, text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("| `") and lines[i + 1].startswith("|---|"):
            name = line.split("`")[1]
            header = [c.strip() for c in line.strip("|").split("|")]
            assert lines[i + 1] == "|---|" + "---:|" * (len(header) - 1)  # a separator per column
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                cells = [c.strip() for c in row.strip("|").split("|")]
                assert len(cells) == len(header)
                rows.append(cells[1:])
            tables.setdefault(name, rows)
    return tables


def test_markdown_renders_as_headings_code_and_tables_with_the_same_numbers():
    net, y = nets()["softmax dropout"]
    text = explain_values(net, X, y, format="markdown", about=["sample | <b>x</b> $y$ *z*"])
    assert text.startswith("# Forward and backward propagation of the network \\[8, 9, 7, 3\\]\n")
    assert (
        "\n## Backward propagation, l = L..1\n" in text
        and "\n### Layer 3 (output): Dense 7 → 3, softmax\n" in text
    )
    assert "\n`z[1] (9×1) = W[1] (9×8) · a[0] (8×1) + b[1] (9×1)`\n" in text
    assert "- sample \\| \\<b\\>x\\</b\\> \\$y\\$ \\*z\\*" in text  # user text is escaped
    assert "\n\n\n" not in text
    for line in text.splitlines():
        assert line.count("`") % 2 == 0, line
        if line.startswith("#"):
            assert text.split(line)[0].endswith("\n\n") or text.startswith(
                line
            )  # a blank line before a heading
    tables = markdown_tables(text)
    expected = reference(net, y)
    for name in ("W[1]", "a[0]", "z[2]", "dW[3]", "db[1]"):
        assert_shows(tables[name], expected[name], 4)


#: the macros the LaTeX output may use: LaTeX's own and amsmath's
LATEX_MACROS = {
    "documentclass", "usepackage", "begin", "end", "section", "subsection", "subsubsection", "noindent",
    "ensuremath", "cdot", "odot", "mathsf", "times", "Sigma", "surd", "sigma", "varepsilon", "mu", "gamma",
    "beta", "alpha", "lambda", "leftarrow", "to", "tfrac", "dots", "hat", "geq", "partial", "textbackslash",
    "textless", "textgreater", "textbar", "S", "mathrm", "cdots", "vdots", "ddots", "text", "infty",
}  # fmt: skip


def test_latex_is_a_balanced_amsmath_document_with_the_same_numbers():
    net, y = nets()["mse sigmoid bn"]
    net = trained_like(net)
    text = explain_values(
        net, X, y, format="latex", about=["class <script>alert(1)</script> $x$ 50% a_b {c} ~ # & \\"]
    )
    assert text.isascii()
    assert text.startswith("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n")
    assert text.rstrip().endswith("\\end{document}")
    body = re.sub(r"\\[{}$&#_%]", "", text)  # escaped characters are not groups
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert body.count("$") == 0  # math is \ensuremath or \[ \], never a stray $
    environments = re.findall(r"\\(begin|end)\{(\w+)\}", text)
    stack = []
    for kind, name in environments:
        if kind == "begin":
            stack.append(name)
        else:
            assert stack.pop() == name
    assert not stack and {name for _, name in environments} == {"document", "bmatrix"}
    assert text.count("\\[") == text.count("\\]") == text.count("\\begin{bmatrix}")
    assert set(re.findall(r"\\([A-Za-z]+)", text)) <= LATEX_MACROS
    assert (
        "class \\textless{}script\\textgreater{}alert(1)\\textless{}/script\\textgreater{} \\$x\\$ 50\\% a\\_b \\{c\\} \\~{} \\# \\& \\textbackslash{}"
        in text
    )
    # a matrix: its shape, then its rows, the numbers as the text format writes them
    W1 = re.search(
        r"W\^\{\[1\]\}_\{\(9 \\times 8\)\} = \\begin\{bmatrix\}\n(.*?)\n\\end\{bmatrix\}", text, re.S
    )
    rows = [[c.strip() for c in row.split("&")] for row in W1.group(1).split(" \\\\\n")]
    expected = net.params["W1"]
    for i, row in zip(shown(9), rows, strict=True):
        for j, cell in zip(shown(8), row, strict=True):
            if i is None or j is None:
                assert cell == (
                    "\\ddots" if i is None and j is None else "\\vdots" if i is None else "\\cdots"
                )
            else:
                text_number = number_text(expected[i, j], 4)
                mantissa, _, exponent = text_number.partition("e")
                assert cell == (mantissa if not exponent else f"{mantissa} \\times 10^{{{int(exponent)}}}")


def test_bad_format_and_digits_are_refused():
    net, y = nets()["sigmoid l2"]
    with pytest.raises(
        ValueError, match="unknown format 'html'; expected one of: 'latex', 'markdown', 'text'"
    ):
        explain_values(net, X, y, format="html")
    with pytest.raises(ValueError, match="digits"):
        explain_values(net, X, y, digits=0)
    with pytest.raises(ValueError, match=r"x must be one sample, a row \(1, 8\); received 2 rows"):
        explain_values(net, np.vstack([X, X]), y)


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> tuple:
    """A run on a CSV table (its model standardises and one-hot encodes raw rows itself)."""
    pd = pytest.importorskip("pandas")
    folder = tmp_path_factory.mktemp("values")
    rng = np.random.default_rng(1)
    size, colour = rng.normal(10, 3, 80), rng.choice(["red", "<b>green</b>"], 80)
    kind = np.where(size + (colour == "red") * 3 > 11, "big", "small")
    pd.DataFrame({"size": size, "colour": colour, "kind": kind}).to_csv(folder / "t.csv", index=False)
    run = folder / "run"
    status = main(
        ["train", "--data", str(folder / "t.csv"), "--target", "kind", "--layers", "6", "--epochs", "3",
         "--verbose", "0", "--out", str(run)]
    )  # fmt: skip
    assert status == 0
    return folder, run


def test_cli_values_of_a_test_sample_go_through_the_models_preprocessing(table_run, capsys):
    from deepmat import load
    from deepmat.data import load_dataset

    folder, run = table_run
    assert main(["explain", str(run), "--values", "--sample", "5", "--digits", "17"]) == 0
    text = capsys.readouterr().out
    data = load_dataset(str(folder / "t.csv"), target="kind")
    net = load(run / "model.safetensors")
    k = len(data.y_test)
    assert f"sample 5 of the test split of {folder / 't.csv'} ({k} samples)" in text
    label = int(data.y_test[5])
    assert f"target y: class {data.classes[label]} (label {label})" in text
    a0 = next(cells for name, _, cells in parse_text(text) if name == "a[0]")
    assert_shows(a0, net.input_columns(data.X_test[5:6]), 17)  # the raw row, preprocessed by the model


def test_cli_values_of_an_input_row_with_a_label_in_markdown(tmp_path, capsys):
    net = Network([8, 5, 3], seed=2)
    net.save(tmp_path / "m.safetensors")
    np.savez(tmp_path / "x.npz", X=np.vstack([X, -X]))
    assert main(["explain", str(tmp_path / "m.safetensors"), "--values", "--input", str(tmp_path / "x.npz"),
                 "--sample", "1", "--label", "2", "--format", "markdown"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "target y: class 2 (label 2), given by \\-\\-label" not in text  # '-' is not escaped
    assert "- target y: class 2 (label 2), given by --label" in text
    assert "- input: x.npz\\[1\\]" in text
    assert_shows(markdown_tables(text)["a[0]"], -X.T, 4)
    assert (
        main(["explain", str(tmp_path / "m.safetensors"), "--values", "--input", str(tmp_path / "x.npz")])
        == 0
    )
    predicted = int(net.predict(X)[0])
    assert (
        f"target y: the predicted class {predicted} (label {predicted}): no --label was given"
        in capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--values", "--layers", "4,3,2"], "--values needs a trained MODEL"),
        (["MODEL", "--format", "latex"], "--format goes with --values"),
        (["MODEL", "--values", "--layout", "rows"], "--values writes one sample in the seeds' column layout"),
        (["MODEL", "--values", "--input", "x.npz", "--sample", "2"], "--sample 2: .* holds 2 sample"),
        (
            ["MODEL", "--values", "--input", "x.npz", "--label", "seven"],
            r"--label: expected a class name or index",
        ),
        (["MODEL", "--values"], "name the data"),
        (["MODEL", "--values", "--digits", "0"], "--digits"),
    ],
)
def test_cli_values_refuses_what_does_not_go_together(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    Network([8, 5, 3], seed=2).save(tmp_path / "model.safetensors")
    np.savez(tmp_path / "x.npz", X=np.vstack([X, -X]))
    args = [str(tmp_path / "model.safetensors") if a == "MODEL" else a for a in args]
    assert main(["explain", *args]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and re.search(message, error), error
