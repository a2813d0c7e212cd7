from cnnrnn_cli.entry import main

main()
