# Installed by `make` into .venv/etc/ipython/: every kernel of the course's venv reads it.
# The book's build starts one kernel per chapter, and each printed "Kernel is running over TCP
# without encryption" (the kernel only listens on 127.0.0.1 for the build's own client). Drop
# exactly that notice; every other kernel message still reaches the build log.
import logging


class _DropTcpNotice(logging.Filter):
    def filter(self, record):
        return "running over TCP without encryption" not in record.getMessage()


logging.getLogger("IPKernelApp").addFilter(_DropTcpNotice())
