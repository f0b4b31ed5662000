"""`python -m kubectl_harness_rollback`: the same entry point as the console script."""

from kubectl_harness_rollback.cli.fast_path import main

if __name__ == "__main__":
    main()
