"""`flask invite`: import a file of invitations from the command line."""

commands = []
