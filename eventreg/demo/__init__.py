"""The demo: the Beijing ceremony with 700 fictitious delegates, and the `flask demo` command."""
