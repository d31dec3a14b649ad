"""An event's categories of participants: labels per language, colours, order, and who may set each."""
