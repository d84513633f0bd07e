"""The only code that sees argparse: the parser, the verbs, the one error boundary (``main``)."""
