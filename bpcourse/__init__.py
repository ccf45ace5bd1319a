"""Helpers shared by the chapters, the exercises' reference checks and the tests.

Modules:
    gradcheck  numerical derivatives and gradients, relative error
    circuits   the worked examples of the chain-rule chapter (reference forward/backward)
"""
