"""`flask badges`: a run of badges written to a file, for scripts and printers."""

commands = []
