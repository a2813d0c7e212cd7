"""Reading matrices (the input grammar) and writing plain / json / csv."""

# Inputs or results above this many elements are refused (--max-elements): a typo cannot
# exhaust memory, while a 4000×4000 image still works.
DEFAULT_MAX_ELEMENTS = 10**8
