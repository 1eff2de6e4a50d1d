from dvk.entry import main

main()
