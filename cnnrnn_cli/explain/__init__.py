"""Rich and LaTeX renderings of a trace: each module has rich(trace, style), latex(...)."""
