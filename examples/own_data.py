"""Writes the tables of the README's "Your own data" walk-through into a folder (default:
``own-data/``): ``iris.csv`` (scikit-learn's bundled iris, with a text column ``garden`` and
a few empty cells), ``iris-new.csv`` (five rows to classify, no species), and ``nines.csv``
(scikit-learn's digits as 64 pixel columns and ``nine`` = yes/no: one sample in ten is a
nine, an imbalanced table).

    python3 examples/own_data.py [FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, load_iris


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    iris = load_iris(as_frame=True)
    table = iris.data.copy()
    table.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    table.insert(2, "garden", rng.choice(["north", "south", "west"], len(table)))
    table["species"] = [iris.target_names[t] for t in iris.target]
    for row, column in [(3, "sepal_width"), (40, "petal_width"), (77, "garden"), (120, "sepal_length")]:
        table.loc[row, column] = None
    order = rng.permutation(len(table))
    table.iloc[order[:145]].to_csv(folder / "iris.csv", index=False)
    table.iloc[order[145:]].drop(columns=["species"]).to_csv(folder / "iris-new.csv", index=False)
    digits = load_digits()
    nines = pd.DataFrame(digits.data.astype(int), columns=[f"p{i}" for i in range(64)])
    nines["nine"] = np.where(digits.target == 9, "yes", "no")
    nines.to_csv(folder / "nines.csv", index=False)
    print(f"wrote {folder / 'iris.csv'}, {folder / 'iris-new.csv'}, {folder / 'nines.csv'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "own-data"))
