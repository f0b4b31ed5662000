from kubectl_harness_rollback.cli import main

if __name__ == "__main__":
    main()
