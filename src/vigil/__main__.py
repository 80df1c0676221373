"""`python -m vigil`: the same command line as the `vigil` script."""

from vigil.cli.app import main

# Guarded: worker processes started with 'spawn' import this module as __mp_main__.
if __name__ == "__main__":
    main()
