from corsgen.cli import main

main()
