"""QR symbols for tickets: segno's code, with its choice of data mask computed a whole row at a time.

ISO/IEC 18004:2015 (7.8.3) has the encoder try all eight data masks and keep the one with the lowest penalty.
segno scores them module by module in Python: 1.3 of the 1.5 ms a ticket's code took, once per ticket mail. Here
a row of the symbol is one int (bit j is column j), so a few integer operations score a whole row, or the same
column of several rows at once. The rules, and segno's reading of them, are kept exactly: the same mask and the
same symbol as `segno.make_qr()` (tests/test_qr.py compares both over thousands of codes, and the scores over
random matrices).

How: segno makes the code with mask 0. Which modules a mask flips is the same for every code of one version, and
the format and version information depend only on the version, error level and mask: both are read once per
(version, error level) from a reference code made with each mask. Like segno, the eight candidates are scored
with the format and version information and the dark module still light, and are filled in after.

Why it stays (issue 15 asked to replace it with segno's own output if the mail drain lost no more than 15 %):
measured on 2026-12-06 (commit 6c802e9, `bench.side_by_side … mail_drain --workers 2`, nine pairs run A B A B on
the shared two-core machine, load 2.0–7.1), segno's symbol and PNG writer (`segno.make_qr(code, error="m")
.save(buffer, kind="png", scale=8, border=4)`) instead of this module and codes.qr_png()'s writer cost the workers
about 1.1 ms more CPU per mail (median of the pairs; 4.3 against 3.2 ms: segno's mask choice takes 1.0 ms and its
PNG writer 0.6 ms, both here 0.6–0.7 ms), and the drain's ratio to plain smtplib in the same run fell in 8 of the
9 pairs: median 10 % against 20 %, a loss of 27 % (median of the pairs). docs/benchmarks.md has the runs.
"""

import functools
import itertools
from dataclasses import dataclass

import segno

MASKS = range(8)
BITS = bytes.maketrans(b"\x00\x01", b"01")
# Penalty weights, ISO/IEC 18004:2015 table 11.
N1, N2, N3, N4 = 3, 3, 40, 10


@dataclass(frozen=True)
class Layout:
    """What a version and error level fix: the rows' width, the information modules, and each mask's effect."""

    width: int
    information: tuple[int, ...]  # per row: format and version information and the dark module
    flips: tuple[tuple[int, ...], ...]  # per mask, per row: the data modules it turns over (against mask 0)
    filled: tuple[tuple[int, ...], ...]  # per mask, per row: the information modules that are dark


def qr_rows(content: str, error: str) -> tuple[int, list[int]]:
    """The symbol `segno.make_qr(content, error=error)` makes, as (width, rows): bit j of a row is column j."""
    base = segno.make_qr(content, error=error, mask=0)
    layout = symbol_layout(base.version, base.error)
    rows = [row & ~information for row, information in zip(matrix_rows(base.matrix), layout.information, strict=True)]
    candidates = [[row ^ flip for row, flip in zip(rows, flips, strict=True)] for flips in layout.flips]
    best = min(MASKS, key=lambda mask: penalty(candidates[mask], layout.width))
    return layout.width, [row | filled for row, filled in zip(candidates[best], layout.filled[best], strict=True)]


def matrix_rows(matrix) -> list[int]:
    """segno's matrix (rows of 0 and 1 bytes) as ints, bit j of each being column j."""
    return [int(bytes(row).translate(BITS)[::-1], 2) for row in matrix]


@functools.cache
def symbol_layout(version: int, error: str) -> Layout:
    """The Layout of QR codes of `version` at `error` level, from a reference code made with each mask."""
    masked = [
        matrix_rows(segno.make_qr("0", version=version, error=error, mask=mask, boost_error=False).matrix)
        for mask in MASKS
    ]
    width = len(masked[0])
    information = information_modules(width)
    return Layout(
        width=width,
        information=tuple(information),
        flips=tuple(
            tuple((first ^ row) & ~bits for first, row, bits in zip(masked[0], rows, information, strict=True))
            for rows in masked
        ),
        filled=tuple(tuple(row & bits for row, bits in zip(rows, information, strict=True)) for rows in masked),
    )


def information_modules(width: int) -> list[int]:
    """Per row, the format information, the dark module and (version 7 and up) the version information."""
    rows = [0] * width

    def mark(row: int, column: int) -> None:
        rows[row] |= 1 << column

    for k in (0, 1, 2, 3, 4, 5, 7, 8):  # around the upper left finder; 6 is the timing pattern
        mark(8, k)
        mark(k, 8)
    for k in range(width - 8, width):  # beside the other two finders; (width - 8, 8) is the dark module
        mark(8, k)
        mark(k, 8)
    if width >= 45:
        for i in range(6):
            for j in range(width - 11, width - 8):
                mark(i, j)
                mark(j, i)
    return rows


def penalty(rows: list[int], width: int) -> int:
    """The penalty score of a square symbol (ISO/IEC 18004:2015 7.8.3.1), as segno's encoder.evaluate_mask."""
    full = (1 << width) - 1
    light = [full ^ row for row in rows]
    score = 0
    # N1 along rows, and N3 in each row.
    for row, inverse in zip(rows, light, strict=True):
        score += _runs_in_row(row) + _runs_in_row(inverse)
        score += _finder_like_in_row(row, inverse)
    # N1 down columns: a window marks the columns where five rows from it share a colour.
    for same in (rows, light):
        windows = [same[i] & same[i + 1] & same[i + 2] & same[i + 3] & same[i + 4] for i in range(width - 4)]
        windows.append(0)
        for i in range(width - 4):
            # Each run of n ≥ 5 holds n - 4 windows and ends once: N1 + (n - 5) = (n - 4) + 2.
            score += windows[i].bit_count() + 2 * (windows[i] & ~windows[i + 1]).bit_count()
    # N2: each 2 × 2 block of one colour.
    for same in (rows, light):
        for upper, lower in itertools.pairwise(same):
            both = upper & lower
            score += N2 * (both & (both >> 1)).bit_count()
    score += _finder_like_in_columns(rows, light, width)
    # N4: how far the share of dark modules is from half.
    percent = float(sum(row.bit_count() for row in rows)) / (width**2)
    return score + N4 * int(abs(percent * 100 - 50) / 5)


def _runs_in_row(row: int) -> int:
    """N1 of one colour in a row (its set bits): N1 + (n - 5) for each run of n ≥ 5."""
    windows = row & (row >> 1) & (row >> 2) & (row >> 3) & (row >> 4)
    return windows.bit_count() + 2 * (windows & ~(windows >> 1)).bit_count()


def _finder_like_in_row(row: int, inverse: int) -> int:
    """N3 in a row: dark, light, dark × 3, light, dark with four light modules (or the edge) on one side.

    Read as segno reads it: the search goes on after a counted pattern, or from its fifth module after one that
    does not count. Beyond the edge counts as light (a pattern at the edge counts): no bits are set there."""
    starts = row & (inverse >> 1) & (row >> 2) & (row >> 3) & (row >> 4) & (inverse >> 5) & (row >> 6)
    score = 0
    start = 0
    while remaining := starts >> start << start:
        at = (remaining & -remaining).bit_length() - 1
        before = (row >> max(at - 4, 0)) & ((1 << (at - max(at - 4, 0))) - 1)
        after = (row >> (at + 7)) & 0b1111
        if not before or not after:
            score += N3
            start = at + 7
        else:
            start = at + 4
    return score


def _finder_like_in_columns(rows: list[int], light: list[int], width: int) -> int:
    """N3 down every column at once, as _finder_like_in_row reads a row."""
    score = 0
    resume = [0] * width  # per column, the first row the search may start at
    for at in range(width - 6):
        starts = rows[at] & light[at + 1] & rows[at + 2] & rows[at + 3] & rows[at + 4] & light[at + 5] & rows[at + 6]
        while starts:
            column_bit = starts & -starts
            starts ^= column_bit
            column = column_bit.bit_length() - 1
            if at < resume[column]:
                continue
            before = any(row & column_bit for row in rows[max(at - 4, 0) : at])
            after = any(row & column_bit for row in rows[at + 7 : at + 11])
            if not before or not after:
                score += N3
                resume[column] = at + 7
            else:
                resume[column] = at + 4
    return score
