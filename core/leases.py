"""Job leases: which replica runs an active job, with fencing.

Several replicas of the bot can share one database. Each active job has an owner (a replica
id), a lease expiry and a lease version. The owner renews all its leases with one write every
:attr:`Lease.renew_every` seconds; a replica takes over jobs that are unowned or whose lease
expired (their owner died), bumping the version. Every job state write (``mark_*``) names the
owner and version it was claimed with (:class:`core.store.sql.SQLStore` does it), so a replica
that lost a lease writes nothing: the write returns False and that replica stops the job.

A job whose create may have been sent is never created again by whoever takes it over: it is
resumed from its stored state exactly as after a restart (:mod:`core.jobs`).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

#: How long a lease lasts unless renewed: also how long a dead replica's jobs wait.
DEFAULT_LEASE_SECONDS = 30.0


def default_replica_id() -> str:
    """``host-pid``: unique on one machine and across containers."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class Lease:
    replica: str
    seconds: float = DEFAULT_LEASE_SECONDS

    @property
    def renew_every(self) -> float:
        """Three renewals per lease: one lost write doesn't lose the job."""
        return self.seconds / 3


def default_lease() -> Lease:
    return Lease(default_replica_id())


def fair_share(total: int, live: int, held: int) -> int:
    """How many orphaned jobs (or requests) one look may claim: what brings this replica up to
    an even split of all ``total`` active ones among the ``live`` replicas, given it ``held``.

    The live replicas' shortfalls add up to at least the orphans (the orphans are what the live
    ones don't hold), so once every survivor has looked once after the leases ran out, all of a
    dead replica's work is taken, spread so that the least loaded take the most: the takeover
    still ends within the lease time and one look. A replica holding nothing is not seen as
    live by the others (it is counted only in its own looks), which makes their shares larger,
    never smaller; a dead replica whose leases have not all run out yet makes them smaller,
    and its jobs wait for a later look, when it no longer counts.
    """
    return max(0, -(-total // max(live, 1)) - held)
