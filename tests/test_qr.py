"""qr.py makes the symbol segno makes: the same mask choice, the same modules, for tickets and for any content.

The reference is segno itself: `segno.make_qr()` for whole symbols, and segno's own penalty function
(`segno.encoder.evaluate_mask`, not public API, hence read only here) for scores of arbitrary matrices, including
ones crowded with finder-like patterns where the rule's reading matters.
"""

import random

import pytest
import segno
from segno import encoder

from eventreg.models.common import CHECKIN_ALPHABET, CHECKIN_CODE_LENGTH
from eventreg.tickets.codes import QR_ERROR
from eventreg.tickets.qr import information_modules, matrix_rows, penalty, qr_rows

FINDER_LIKE = (1, 0, 1, 1, 1, 0, 1)


def test_ticket_codes_get_segnos_symbol():
    """A thousand random check-in codes: the same mask, hence the same modules, as segno's own choice."""
    chooser = random.Random(20261129)
    masks = set()
    for _ in range(1000):
        code = "".join(chooser.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_CODE_LENGTH))
        reference = segno.make_qr(code, error=QR_ERROR)
        width, rows = qr_rows(code, QR_ERROR)
        assert (width, rows) == (len(reference.matrix), matrix_rows(reference.matrix)), code
        masks.add(reference.mask)
    assert masks == set(range(8))  # every mask was the best for some code: each was exercised


@pytest.mark.parametrize("error", ["l", "m", "q", "h"])
def test_any_content_version_and_error_level_gets_segnos_symbol(error):
    """Numeric, alphanumeric and byte content in versions 1 to 25 (7 and up carry version information)."""
    chooser = random.Random(error)
    versions = set()
    for length in (1, 7, 17, 30, 60, 100, 140, 200, 260, 330):
        for alphabet in ("0123456789", CHECKIN_ALPHABET, "abcé€日本 xyz?!"):
            content = "".join(chooser.choice(alphabet) for _ in range(length))
            reference = segno.make_qr(content, error=error)
            assert qr_rows(content, error) == (len(reference.matrix), matrix_rows(reference.matrix)), content
            versions.add(reference.version)
    assert min(versions) == 1 and max(versions) >= 10


def test_the_score_is_segnos_on_random_and_crowded_matrices():
    """penalty() equals segno's evaluate_mask: on random matrices and on ones tiled with finder-like patterns,
    light runs and dark runs, where N3's reading (edges, overlaps, four light modules on either side) decides."""
    chooser = random.Random(7)
    pieces = [FINDER_LIKE, (0,) * 4, (1,) * 4, (0, 1), (1,), (0,)]
    for trial in range(400):
        width = chooser.choice([21, 25, 45, 57])
        if trial % 2:
            matrix = [bytearray(chooser.getrandbits(1) for _ in range(width)) for _ in range(width)]
        else:
            matrix = []
            for _ in range(width):
                row = []
                while len(row) < width:
                    row.extend(chooser.choice(pieces))
                matrix.append(bytearray(row[:width]))
            if trial % 4 == 0:  # the same patterns down the columns
                matrix = [bytearray(column) for column in zip(*matrix, strict=True)]
        matrix = tuple(matrix)
        assert penalty(matrix_rows(matrix), width) == encoder.evaluate_mask(matrix, width, width)


def test_a_finder_like_pattern_counts_as_segno_counts_it():
    """Worked cases of N3 in one row of an otherwise light symbol: at an edge, with four light modules on one
    side, with dark on both sides, and two patterns sharing a module."""
    width = 21
    cases = {
        FINDER_LIKE + (0,) * 14: 40,  # at the left edge
        (0,) * 14 + FINDER_LIKE: 40,  # at the right edge
        (1,) * 5 + (0,) * 4 + FINDER_LIKE + (1,) * 5: 40,  # four light before
        (1,) * 5 + FINDER_LIKE + (0,) * 4 + (1,) * 5: 40,  # four light after
        (1, 1, 0, 1, 0, *FINDER_LIKE, 1, 0, 1, 0, 1, 1, 0, 1, 1): 0,  # dark on both sides
        (1, 1, 0, 1, *FINDER_LIKE, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1): 0,  # two sharing a module, dark around
    }
    for row, expected in cases.items():
        matrix = tuple(bytearray(row if i == 10 else (0,) * width) for i in range(width))
        assert encoder.mask_scores(matrix, width, width)[2] == expected, row
        assert penalty(matrix_rows(matrix), width) == encoder.evaluate_mask(matrix, width, width), row
        columns = tuple(bytearray(column) for column in zip(*matrix, strict=True))
        assert penalty(matrix_rows(columns), width) == encoder.evaluate_mask(columns, width, width), row


def test_the_information_modules_are_where_segno_reserves_them():
    """Format information (and version information from version 7) and the dark module, per version."""
    for version in (1, 2, 6, 7, 10, 40):
        width = encoder.calc_matrix_size(version)
        reserved = encoder.make_matrix(width, width)  # reserved areas (the dark module too) are 0, the rest 2 or timing
        expected = [0] * width
        for i, row in enumerate(reserved):
            for j, value in enumerate(row):
                if value == 0 and not (i == 6 or j == 6):
                    expected[i] |= 1 << j
        assert information_modules(width) == expected, version
