from kubectl_harness_rollback.quick import main

if __name__ == "__main__":
    main()
