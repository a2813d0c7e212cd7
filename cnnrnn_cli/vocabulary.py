"""The words options take, defined once for the core, the library and the command line.

Pure Python, so that a command's options (and its --help) cost no NumPy import.
"""

PAD_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_WORDS = ("same", "valid", "full")
POOL_MODES = ("max", "avg", "min", "sum", "l2")
ACTIVATION_NAMES = ("tanh", "relu", "sigmoid", "identity")
# The notes' GRU weights: W_x·, W_h·, b· for the update (z), reset (r) and candidate (h)
# gates, and PyTorch's bias inside the reset product.
GRU_GATES = ("wxz", "whz", "bz", "wxr", "whr", "br", "wxh", "whh", "bh", "bhh")
# The LSTM's weights: W_x·, W_h·, b· for the input (i), forget (f), candidate (g) and
# output (o) gates, in PyTorch's stacking order.
LSTM_GATES = ("wxi", "whi", "bi", "wxf", "whf", "bf", "wxg", "whg", "bg", "wxo", "who", "bo")

# outsize --model: the classic networks stored as --layers specs (cnnrnn_cli/core/models).
MODEL_NAMES = ("lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "googlenet", "mobilenet_v2")
