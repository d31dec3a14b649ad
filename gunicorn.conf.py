"""gunicorn's settings for eventreg in production: `gunicorn -c gunicorn.conf.py -w 4 -b 127.0.0.1:8000 app:app`
(the README's command; gunicorn also reads this file by itself when started from this directory).

The access log is on (standard output, in the usual combined format), and it never holds a private link: the request
line, the path, the query string and every header (the Referer above all: a page under /r/<token> sends its own
address to the next page of the site) pass through eventreg.private_paths.mask_private_paths.
"""

from gunicorn.glogging import Logger

from eventreg.private_paths import mask_private_paths


class PrivatePathsMaskingLogger(Logger):
    """gunicorn's logger, with private URLs masked in every value the access log format can name."""

    def atoms(self, resp, req, environ, request_time):
        """The access log's values (request line %(r)s, path %(U)s, query %(q)s, Referer %(f)s, headers…), masked."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: mask_private_paths(value) if isinstance(value, str) else value for name, value in atoms.items()}


logger_class = PrivatePathsMaskingLogger
accesslog = "-"
