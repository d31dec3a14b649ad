"""The data keyring: what must be readable later but worthless in a stolen database or backup is stored encrypted.

Private-link tokens are sealed under it today (looked up by their digest, unsealed only to put the same link in a
later mail); invitation tokens and passport data will be too. The keys come from DATA_KEYS (FLASK_DATA_KEYS, a JSON
list of Fernet keys): the first encrypts, all decrypt, so a new key goes first and an old one stays until
`flask rotate-data-keys` has re-encrypted everything under the new one. They are never derived from SECRET_KEY,
which is rotated for other reasons (SECRET_KEY_FALLBACKS). Without the setting, a key is generated once into
instance/data_keys.json, so a fresh clone runs; production sets it (README, "Running in production").
"""

import json
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from flask import Flask, current_app
from sqlalchemy import Column, bindparam, select

from .extensions import db
from .files import write_once

_EXTENSION = "eventreg.data_keys"


class DataKeysError(ValueError):
    """DATA_KEYS is not a list of Fernet keys."""


def init_app(app: Flask) -> None:
    """Build the keyring from DATA_KEYS, or from the key generated into the instance folder; refuse bad keys now."""
    configured = app.config.get("DATA_KEYS")
    if configured is None or configured == "":  # unset; an empty list is a mistake, refused below
        configured = _instance_keys(Path(app.instance_path) / "data_keys.json")
        app.config["DATA_KEYS"] = configured
    app.extensions[_EXTENSION] = keyring_of(configured)


def keyring_of(keys) -> MultiFernet:
    """A MultiFernet of `keys` (a list of Fernet keys, or one key as a string); DataKeysError names what is wrong."""
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list | tuple) or not keys:
        raise DataKeysError("DATA_KEYS must be a JSON list of Fernet keys, e.g. FLASK_DATA_KEYS='[\"…\"]'")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (TypeError, ValueError):
            raise DataKeysError(
                f"DATA_KEYS: key {position} is not a Fernet key (32 bytes in URL-safe base 64, as "
                "cryptography.fernet.Fernet.generate_key() makes them)"
            ) from None
    return MultiFernet(fernets)


def new_key() -> str:
    """A new Fernet key, as DATA_KEYS holds it."""
    return Fernet.generate_key().decode("ascii")


def seal(text: str) -> str:
    """`text` encrypted and authenticated under the first key."""
    return _keyring().encrypt(text.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    """The text `sealed` holds; raises InvalidToken when no key of the ring opens it."""
    return _keyring().decrypt(sealed.encode("ascii")).decode("utf-8")


def reseal(sealed: str) -> str:
    """`sealed` encrypted anew under the first key (what rotate-data-keys does to every sealed value)."""
    return _keyring().rotate(sealed.encode("ascii")).decode("ascii")


def reseal_column(column: Column, batch_size: int = 500) -> int:
    """Encrypt every sealed value of `column` anew under the first key, `batch_size` rows per transaction; the
    number of values re-encrypted. A row whose value changed meanwhile (a new private link) is left as it is: it
    was just sealed under the first key, and writing the old value back would undo the change."""
    table = column.table
    row_id = table.c.id
    change = (
        table.update()
        .where(row_id == bindparam("row_id"), column == bindparam("before"))
        .values({column.key: bindparam("after")})
    )
    done = last_id = 0
    while True:
        query = select(row_id, column).where(row_id > last_id, column != "").order_by(row_id).limit(batch_size)
        rows = db.session.execute(query).all()
        if not rows:
            return done
        db.session.execute(change, [{"row_id": key, "before": sealed, "after": reseal(sealed)} for key, sealed in rows])
        db.session.commit()
        done += len(rows)
        last_id = rows[-1][0]


def _keyring() -> MultiFernet:
    return current_app.extensions[_EXTENSION]


def _instance_keys(path: Path) -> list[str]:
    """The keys generated on first start and kept in the instance folder (one host; see the module's docstring)."""
    write_once(path, json.dumps([new_key()]))
    return json.loads(path.read_text())
