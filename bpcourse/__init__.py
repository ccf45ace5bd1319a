"""Helpers shared by the chapters, the exercises' reference checks and the tests.

Modules:
    gradcheck  numerical derivatives and gradients, relative error
    circuits   the worked examples of the chain-rule chapter (reference forward/backward)
    normalization  softmax as a VJP, batch/layer normalization staged and compact (new-layer chapter)
"""
