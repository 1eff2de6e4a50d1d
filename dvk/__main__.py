from dvk.cli import main

main()
