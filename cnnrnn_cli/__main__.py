from cnnrnn_cli.cli.main import main

main()
