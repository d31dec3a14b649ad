"""Delegations: named groups with a seat quota, led by focal points who register their members."""
