"""`flask visa-letters`: the visa queue from the command line (issue what is pending, write the letters to a folder)."""

commands = []
