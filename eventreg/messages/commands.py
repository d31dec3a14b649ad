"""`flask send-message`: a message to an event's delegates from the command line."""

commands = []
