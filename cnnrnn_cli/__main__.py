from cnnrnn_cli.entry import console

console()
