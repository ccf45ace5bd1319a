"""Process control of the student's process, seen from the judge: start, timeout, restart, replay.

A `StudentProcess` sends one request at a time and waits for its reply, serving the student's
calls of the test's functions meanwhile (judge_protocol.serve_callback). When the student's
process runs past the cell's limit, ends or sends garbage, it is marked broken; the next request
first replaces it with a fresh process (asked of the grader), which replays the student's cells
that had completed (at most MAX_RESTARTS times per submission; the replay does not count
against the test cell's time, see judge_env.alarm).
"""

from __future__ import annotations

import wire
import wire_values
from judge_env import alarm, test_environment
from judge_protocol import ENDED, CellTimeout, StudentError, StudentGone, serve_callback, student_error, write_back

MAX_RESTARTS = 4  # student processes replaced per submission after a timeout or crash
NOT_DATA = "your code sent something that is not plain data ({})"


class StudentProcess:
    """The judge's side of one student process at a time (its subclass, judge_link.Link, adds the
    requests about student values and decodes handles with `resolve`)."""

    def __init__(self, judge, sock: wire.Connection):
        self.judge, self.sock = judge, sock
        self.generation = 0
        self.broken: str | None = None  # why the current student process cannot be used
        self.dead: str | None = None  # why no student process will be started again
        self.restarts = 0
        self.hung: set[str] = set()  # the student's functions that ran past a cell's limit (judge_link.Link.op)
        self.replay: list[dict] = []  # requests running the student cells that completed, in order
        self.callbacks: dict[int, object] = {}  # the test functions passed during the current cell
        self.next_callback = 1  # never reused: an expired callback's number stays unknown
        self.sent_handles: dict[int, object] = {}  # the proxies encoded by the request being built
        self.releases: list[int] = []
        self.next_promise = -1  # handles the judge names itself, for pipelined operators (negative)

    # -- life ----------------------------------------------------------------------------------
    def start(self, preamble: str) -> None:
        if preamble:
            message = {"op": "run", "source": preamble, "cell": -1}
            self.replay.append(message)
            try:
                with alarm(self.judge.limits["cell_timeout"]):
                    self.request(dict(message))
            except StudentGone:
                pass

    def expire_callbacks(self) -> None:
        """The test's functions passed to student code end with the cell that passed them: a
        student that kept one and calls it later gets an error, and the judge keeps nothing."""
        self.callbacks.clear()

    def ensure(self) -> None:
        if self.dead:
            raise StudentGone(self.dead)
        if not self.broken:
            return
        if self.restarts >= MAX_RESTARTS:
            self.dead = f"{self.broken}; not restarted again ({MAX_RESTARTS} restarts already)"
            raise StudentGone(self.dead)
        self.restarts += 1
        self.sock.close()
        self.sock = self.judge.new_student()
        self.generation += 1
        self.callbacks.clear()
        self.releases.clear()
        self.broken = None
        for message in self.replay:  # the state the student's cells had built, built again
            try:
                with alarm(self.judge.limits["cell_timeout"]):
                    self.request(dict(message))
            except StudentGone as gone:
                self.dead = f"your cells could not be run again after a restart ({gone})"
                raise StudentGone(self.dead) from None

    def fail(self, why: str) -> StudentGone:
        self.broken = why
        return StudentGone(why)

    # -- requests ------------------------------------------------------------------------------
    def request(self, message: dict, arrays: list | None = None, sent: dict | None = None):
        """Send one request, serve callbacks until its reply, return the decoded value.

        `arrays`: the test's lists, dicts and arrays sent with the request, in order (in-place changes);
        `sent`: the proxies sent with it, by handle (the only student objects a change may hold).
        """
        self.ensure()
        try:
            self.sock.send(self._stamped(message))
            while True:
                reply = self.sock.receive()
                if type(reply) is not dict:
                    raise wire.WireError("a reply that is not an object")
                if reply.get("op") == "callback":
                    serve_callback(self, reply)
                    continue
                break
            self.judge.add_output(reply.get("out"))
            if "err" in reply:
                raise student_error(reply["err"]) or self.fail(NOT_DATA.format("an error"))
            data = self.sock.data  # the reply's arrays' bytes
            value = wire_values.decode(reply.get("ok"), self.resolve, data=data)
            write_back(reply.get("w"), arrays or [], sent or {}, data)
            return value
        except CellTimeout:  # the alarm, while the student's code ran (or a test's function it called)
            raise self.fail(self._too_long()) from None
        except wire.Closed:
            raise self.fail(ENDED) from None
        except wire.WireError as error:
            raise self.fail(f"your code sent something that is not plain data ({error})") from None
        except StudentError:
            raise
        except BaseException:  # the judge's alarm or an error mid-request: the protocol state is unknown
            self.broken = self.broken or "a request was interrupted"
            raise

    def _stamped(self, message: dict) -> dict:
        """A request with the handles the judge no longer needs and the test's numeric rules."""
        if self.releases:
            message["rel"], self.releases = self.releases, []
        env = test_environment()
        if env:
            message["env"] = env
        return message

    def _too_long(self) -> str:
        limit = self.judge.limits["cell_timeout"]
        return f"your code ran longer than the limit of {limit:g} s per cell and was stopped"
