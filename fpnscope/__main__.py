from fpnscope.cli import main

main()
