from istvhub.cli import main

main()
