"""The modelyard command line: one module per noun."""
