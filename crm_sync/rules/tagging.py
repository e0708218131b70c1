"""Tag lists (collect sets) built without sorting or filtering a list per record.

A record's tags are the ids of its true rules, sorted (what the reference evaluator returns).
The ids are known when the set is compiled, so the order is fixed once: rules are sorted by id,
and each record's true rules become a bit pattern (one bit per rule). The list for every possible
pattern is built once in Python and each record picks its list with a ``gather``. On 1M contacts
this takes ~0.04 s of CPU where ``concat_list(...).list.drop_nulls().list.sort()`` took ~9 s.

Patterns have at most :data:`_CHUNK` bits so the lookup table stays small (1,024 lists); larger
sets are split into chunks of consecutive sorted ids whose lists are concatenated, which keeps the
order.
"""

from __future__ import annotations

import polars as pl

__all__ = ["tag_lists"]

_CHUNK = 10


def tag_lists(conds: pl.DataFrame, ids: list[str]) -> pl.Series:
    """Per row of ``conds``, the sorted ids whose condition column ``__r<i>`` is true."""
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    chunks: list[pl.Series] = []
    for at in range(0, len(order), _CHUNK):
        part = order[at : at + _CHUNK]
        bits = [
            pl.col(f"__r{i}").fill_null(False).cast(pl.UInt32) * (1 << bit)
            for bit, i in enumerate(part)
        ]
        codes = conds.select(pl.sum_horizontal(bits).alias("code"))["code"]
        table = pl.Series(
            [
                [ids[i] for bit, i in enumerate(part) if code >> bit & 1]
                for code in range(1 << len(part))
            ],
            dtype=pl.List(pl.String()),
        )
        chunks.append(table.gather(codes))
    if not chunks:
        return pl.Series([[]] * conds.height, dtype=pl.List(pl.String()))
    if len(chunks) == 1:
        return chunks[0]
    frame = pl.DataFrame({f"c{i}": c for i, c in enumerate(chunks)})
    return frame.select(pl.concat_list(pl.all()).alias("t"))["t"]
