from prodbench.cli import main

main()
