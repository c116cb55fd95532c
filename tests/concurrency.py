"""Run the same call from many threads at once, each on its own database connection."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection


@dataclass
class Outcome:
    granted: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    crashed: list = field(default_factory=list)

    def summary(self, attempts: int) -> str:
        return (
            f"attempts={attempts} granted={len(self.granted)} refused={len(self.refused)} "
            f"crashed={len(self.crashed)} {self.crashed[:3]!r}"
        )


def run_concurrently(
    calls: list[Callable[[], object]], refusal: type[Exception], timeout: float = 60
) -> Outcome:
    """Start every call together (a barrier releases them at once) and sort the results.

    ``refusal`` is the expected domain error; anything else (a deadlock, a constraint
    violation) lands in ``crashed``.
    """
    outcome = Outcome()
    lock = threading.Lock()
    barrier = threading.Barrier(len(calls))

    def worker(call):
        try:
            barrier.wait()
            result = call()
            with lock:
                outcome.granted.append(result)
        except refusal as error:
            with lock:
                outcome.refused.append(error)
        except Exception as error:  # the test fails on these, with their text
            with lock:
                outcome.crashed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (lock wait?)"
    return outcome
