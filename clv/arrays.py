"""Array helpers shared by the fitting and the scoring code."""

from __future__ import annotations

import numpy as np


def unique_rows(*columns):
    """The distinct rows of equally long float columns, with the index of each input row's distinct row and the
    number of input rows per distinct row. Rows come out sorted, so the result does not depend on the input order.

    np.unique(axis=0) does the same through a structured view and is several times slower at a million rows."""
    stacked = [np.asarray(column, dtype=float) for column in columns]
    if stacked[0].size == 0:
        return [column[:0] for column in stacked], np.zeros(0, dtype=np.intp), np.zeros(0, dtype=float)
    order = np.lexsort(stacked[::-1])
    ordered = [column[order] for column in stacked]
    starts = np.ones(ordered[0].size, dtype=bool)
    for column in ordered:
        starts[1:] &= column[1:] == column[:-1]
    starts = ~starts
    starts[0] = True
    group = np.cumsum(starts) - 1
    inverse = np.empty_like(group)
    inverse[order] = group
    counts = np.bincount(group).astype(float)
    return [column[starts] for column in ordered], inverse, counts
