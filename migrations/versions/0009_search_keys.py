"""search keys fold Arabic-script letters: registration.name_key and registration.institution_key recomputed

The search key now also folds ة→ه, ى→ي, ٱ→ا, the Persian ک→ك and ی→ي, and drops the tatweel, so "فاطمه" finds
"فاطمة". Existing registrations get both keys anew, in batches, with the formula of this revision frozen here: a
later change to eventreg.models.common.search_key must not change what replaying this migration computes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:30:00.000000

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH_SIZE = 500  # rows read and written per statement: memory stays flat however many registrations there are

KEY_EXPANSION = 3
NAME_KEY_WIDTH = (100 + 100 + 200 + 2) * KEY_EXPANSION
INSTITUTION_KEY_WIDTH = 200 * KEY_EXPANSION
IGNORED_MARKS = ((0x300, 0x36F), (0x591, 0x5C7), (0x610, 0x61A), (0x64B, 0x65F), (0x670, 0x670), (0x6D6, 0x6ED))
IGNORED_MARK = re.compile(
    '[' + ''.join(
        re.escape(chr(code))
        for low, high in IGNORED_MARKS
        for code in range(low, high + 1)
        if unicodedata.category(chr(code)) == 'Mn'
    ) + ']'
)
ARABIC_LETTER_FOLDS = str.maketrans({
    '\u0629': '\u0647',  # ة → ه
    '\u0649': '\u064a',  # ى → ي
    '\u0671': '\u0627',  # ٱ → ا
    '\u06a9': '\u0643',  # ک → ك
    '\u06cc': '\u064a',  # ی → ي
    '\u0640': None,  # tatweel
})


def _search_key(text, limit, folds=ARABIC_LETTER_FOLDS):
    bare = IGNORED_MARK.sub('', unicodedata.normalize('NFKD', text.casefold())).translate(folds)
    return ' '.join(unicodedata.normalize('NFC', bare).casefold().split())[:limit]


def _is_east_asian(text):
    return bool(text) and all(
        any(script in unicodedata.name(ch, '') for script in ('CJK', 'HIRAGANA', 'KATAKANA', 'HANGUL'))
        for ch in text
        if not ch.isspace()
    )


def _name_key(family_name, given_name, native_name, folds=ARABIC_LETTER_FOLDS):
    joiner = '' if _is_east_asian(family_name) and _is_east_asian(given_name) else ' '
    return _search_key(f'{family_name}{joiner}{given_name} {native_name}', NAME_KEY_WIDTH, folds)


def upgrade():
    _recompute_keys(ARABIC_LETTER_FOLDS)


def downgrade():
    # The keys of 0008, which the search of 0008 compares its unfolded words with.
    _recompute_keys({})


def _recompute_keys(folds):
    """Set both search keys of every registration as the formula computes them with `folds`."""
    registration = sa.table(
        'registration',
        sa.column('id', sa.Integer()),
        sa.column('family_name', sa.String()),
        sa.column('given_name', sa.String()),
        sa.column('native_name', sa.String()),
        sa.column('institution', sa.String()),
        sa.column('name_key', sa.String()),
        sa.column('institution_key', sa.String()),
    )
    connection = op.get_bind()
    update = (
        registration.update()
        .where(registration.c.id == sa.bindparam('row_id'))
        .values(name_key=sa.bindparam('new_name_key'), institution_key=sa.bindparam('new_institution_key'))
    )
    last_id = 0
    while True:  # keyset pagination on the primary key: each batch starts after the last id of the one before
        rows = connection.execute(
            sa.select(
                registration.c.id,
                registration.c.family_name,
                registration.c.given_name,
                registration.c.native_name,
                registration.c.institution,
                registration.c.name_key,
                registration.c.institution_key,
            )
            .where(registration.c.id > last_id)
            .order_by(registration.c.id)
            .limit(BATCH_SIZE)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        changes = []
        for row in rows:
            name_key = _name_key(row.family_name or '', row.given_name or '', row.native_name or '', folds)
            institution_key = _search_key(row.institution or '', INSTITUTION_KEY_WIDTH, folds)
            if (name_key, institution_key) != (row.name_key, row.institution_key):
                changes.append({'row_id': row.id, 'new_name_key': name_key, 'new_institution_key': institution_key})
        if changes:  # only the rows whose keys change: a database without Arabic-script names is barely written
            connection.execute(update, changes)

