"""The code that runs inside the sandboxes, bound read-only at /sandbox (engine/sandbox.py).

There its modules are top-level (`import wire`): the judge's sandbox holds judge*.py and wire*.py,
the student's student*.py and wire*.py. The grader imports only `wire` from here, as
`autograder.engine.sandboxed.wire`, to speak the same frames.

    wire.py              the frames that cross, and the errors of reading them (both sides, and the grader)
    wire_values.py       the plain data inside them: encoded on either side, decoded strictly by the judge
    judge.py             the judge's zygote and one submission's cells, in order
    judge_protocol.py    the judge's reading of the student's replies: errors, in-place changes, callbacks
    judge_link.py        process control of the student's process (restart, replay) and the proxies
    judge_env.py         the test environment: what a locked cell sees (names, time limit, printed text)
    student.py           the student's zygote and process: namespaces, capabilities, limits
    student_server.py    the student's answers to the judge's requests
    student_env.py       what a student cell sees (printed text, get_ipython, numpy's rules, tracebacks)
"""
