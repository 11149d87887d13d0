"""The inputs of an exported ONNX graph: raw rows through the model's fitted preprocessing
(:class:`deepmat.preprocessor.Preprocessor`), as graph nodes, so that the graph takes what
``net.predict`` takes.

==========================  ==============================================================
graph input                 what it holds
==========================  ==============================================================
``X``  (batch, n_numbers)   the number columns, in column order, the graph's float type;
                            NaN marks a missing value
``X_text`` (batch, n_text)  the text columns, in column order, strings ("" marks a missing
                            value); only when the preprocessing has text columns
==========================  ==============================================================

Nodes: missing numbers ``Where(IsNaN(X), fill, X)``; scaling ``Div(Sub(X, offset),
denominator)``; each text column ``Gather`` → ``ai.onnx.ml.LabelEncoder`` (a missing value →
the fill category, an unseen one → no category) → ``ai.onnx.ml.OneHotEncoder`` (its sorted
categories) → ``Reshape`` (→ ``Cast`` for float64); the pieces ``Concat`` in column order,
which is the network's X. A network without preprocessing takes X as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: the ai.onnx.ml opset the text nodes need (LabelEncoder mapping strings to strings)
ML_OPSET = 2
#: what an unseen or unmapped text value becomes: no category of any column
UNSEEN = "\x00unseen"


def preprocessing_nodes(builder: Any, pre: Any, elem: int, helper: Any, string_type: int) -> list[Any]:
    """Append the preprocessing's nodes to ``builder`` (its ``current`` becomes the network's
    X) and return the graph's inputs (value infos)."""
    if pre is None:
        return [helper.make_tensor_value_info("X", elem, ["batch", builder.net.layer_dims[0]])]
    numbers = [c for c in pre.columns if c.kind == "number"]
    texts = [c for c in pre.columns if c.kind == "text"]
    inputs = []
    scaled = None
    if numbers:
        inputs.append(helper.make_tensor_value_info("X", elem, ["batch", len(numbers)]))
        scaled = "X"
        fills = np.array([np.nan if c.fill is None else float(c.fill) for c in numbers])
        if not np.isnan(fills).all():
            missing = builder.node("IsNaN", ["X"], "missing")
            scaled = builder.node("Where", [missing, builder.constant("fills", fills), "X"], "imputed")
        if pre.offset.any():
            scaled = builder.node("Sub", [scaled, builder.constant("offset", pre.offset)], "centred")
        if not (pre.denominator == 1).all():
            scaled = builder.node("Div", [scaled, builder.constant("denominator", pre.denominator)], "scaled")
    if not texts:
        if scaled == "X":  # nothing to do: a node must still produce the network's input
            builder.node("Identity", ["X"], "inputs")
        return inputs
    inputs.append(helper.make_tensor_value_info("X_text", string_type, ["batch", len(texts)]))
    pieces, number, text = [], 0, 0
    for column in pre.columns:
        if column.kind == "number":
            index = builder.integers(f"column{number}", [number])
            pieces.append(builder.node("Gather", [scaled, index], f"number{number}", axis=1))
            number += 1
            continue
        index = builder.integers(f"text_column{text}", [text])
        values = builder.node("Gather", ["X_text", index], f"text{text}", axis=1)
        keys = [*column.categories, ""]
        mapped = [*column.categories, column.fill if column.fill is not None else UNSEEN]
        values = builder.node(
            "LabelEncoder",
            [values],
            f"text{text}_known",
            domain="ai.onnx.ml",
            keys_strings=keys,
            values_strings=mapped,
            default_string=UNSEEN,
        )
        encoded = builder.node(
            "OneHotEncoder",
            [values],
            f"text{text}_onehot",
            domain="ai.onnx.ml",
            cats_strings=column.categories,
            zeros=1,
        )
        shape = builder.integers(f"text{text}_shape", [-1, len(column.categories)])
        encoded = builder.node("Reshape", [encoded, shape], f"text{text}_rows")
        if builder.dtype == "float64":  # the one-hot encoder writes float32
            encoded = builder.node("Cast", [encoded], f"text{text}_double", to=elem)
        pieces.append(encoded)
        text += 1
    builder.node("Concat", pieces, "inputs", axis=1)
    return inputs
