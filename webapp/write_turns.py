"""Writers to one SQLite file take turns on an OS file lock beside it, so the next one wakes the moment one ends.

SQLite lets one transaction write at a time and makes the others wait in its busy handler, which sleeps (1, 2, 5
... 100 ms) and looks again: it never learns that the lock came free. Under steady writes from several threads
and processes the lock then lay idle while they slept, and a writer that kept losing slept for seconds. A blocking
``flock`` on ``<database>-write-lock`` wakes a waiter as soon as the holder lets go, in any process (web workers,
RQ workers, the CLI), and the kernel lets go for a process that dies.

Within a process the threads first queue on a thread lock, so at most one per process waits at the file lock and a
commit wakes one waiter rather than all of them (each would need its process's GIL only to find the lock gone).

SQLite copies the write-ahead log back into the database (a checkpoint) in the commit that takes the log past 1,000
pages: every tenth API order or so, 5-20 ms. Done inside the commit, that time is spent holding the turn although
a PASSIVE checkpoint never blocks a writer; so a queueing connection also runs one after giving the turn back,
every CHECKPOINT_EVERY commits of its process, often enough that the log rarely reaches SQLite's own threshold.
That automatic checkpoint stays on: a large transaction (an import) still gets its log copied back at once.

The file lock is only the queue: SQLite's own lock still decides who writes, so a writer that does not queue here
(the sqlite3 shell, a restore) is safe too and is waited for by the busy timeout as before. A turn is taken just
before BEGIN IMMEDIATE and given back by the connection's commit, rollback or close, whichever comes first, so every
way a transaction ends (an exception, a pool reset, an invalidated connection) ends the turn. Readers never take
one. A thread that holds a turn on one connection and begins to write on another does not queue behind itself:
that second BEGIN waits in the busy handler, as it did before.
"""
import fcntl
import functools
import os
import sqlite3
import threading

# Commits with a turn by this process between its checkpoints: an API order adds ~50 pages to the log, so about half
# SQLite's own 1,000-page threshold.
CHECKPOINT_EVERY = 10
_commits_since_checkpoint = [0]
# Threads that hold a turn, with how many (a thread may hold turns through two connections, see above).
_turns_by_thread: dict[int, int] = {}
_turns_lock = threading.Lock()
# Per lock file, the thread lock this process's writers queue on before the file lock (see above).
_process_turns: dict[str, threading.Lock] = {}



def _forget_turns_in_child() -> None:
    """A turn held when the process forked (an RQ job) stays the parent's: the child starts holding none."""
    _process_turns.clear()
    _turns_by_thread.clear()
    _commits_since_checkpoint[0] = 0


os.register_at_fork(after_in_child=_forget_turns_in_child)


def lock_path_for(database: str | None) -> str | None:
    """The lock file's path for an SQLite database path; None for an in-memory database (one process only)."""
    if not database or database == ":memory:" or database.startswith("file:") or "mode=memory" in database:
        return None
    return os.path.abspath(database) + "-write-lock"


def holds_write_turn() -> bool:
    """This thread holds a write turn (tests, and the nested-writer case above)."""
    return bool(_turns_by_thread.get(threading.get_ident()))


def _process_turn(path: str) -> threading.Lock:
    lock = _process_turns.get(path)
    if lock is None:
        with _turns_lock:
            lock = _process_turns.setdefault(path, threading.Lock())
    return lock


class QueueingConnection(sqlite3.Connection):
    """An sqlite3 connection whose writing transactions first take their turn on the database's lock file."""

    lock_path: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock_file = None
        self._lock_pid = 0
        self._turn_thread: int | None = None
        self._turn_in_process: threading.Lock | None = None

    def _open_lock_file(self):
        if self._lock_pid != os.getpid():  # a forked child (an RQ job) must not share its parent's open file
            self._lock_pid = os.getpid()
            self._turn_thread = self._turn_in_process = None  # nor its turn
            try:
                self._lock_file = open(self.lock_path, "ab")  # noqa: SIM115 - kept open for the connection's life
            except OSError:
                self._lock_file = None  # a read-only folder, say: the busy timeout alone then orders writers
        return self._lock_file

    def wait_for_write_turn(self) -> None:
        """Block until no other queueing writer is in a transaction on this database; call before BEGIN IMMEDIATE."""
        lock_file = self._open_lock_file()
        thread = threading.get_ident()
        if lock_file is None or self._turn_thread is not None or _turns_by_thread.get(thread):
            return
        in_process = _process_turn(self.lock_path)
        in_process.acquire()
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # releases the GIL while it waits
        except BaseException:
            in_process.release()
            raise
        self._turn_thread, self._turn_in_process = thread, in_process
        with _turns_lock:
            _turns_by_thread[thread] = _turns_by_thread.get(thread, 0) + 1

    def end_write_turn(self) -> None:
        """Let the next writer in; harmless when this connection holds no turn."""
        thread, self._turn_thread = self._turn_thread, None
        if thread is None:
            return
        with _turns_lock:
            left = _turns_by_thread.pop(thread, 1) - 1
            if left:
                _turns_by_thread[thread] = left
        if self._lock_pid == os.getpid():  # a child forked mid-turn must not unlock its parent's open file
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._turn_in_process.release()
        self._turn_in_process = None

    def commit(self):
        wrote = self._turn_thread is not None
        try:
            super().commit()
        finally:
            self.end_write_turn()
        if wrote:
            self._checkpoint_now_and_then()

    def _checkpoint_now_and_then(self) -> None:
        with _turns_lock:
            _commits_since_checkpoint[0] += 1
            if _commits_since_checkpoint[0] < CHECKPOINT_EVERY:
                return
            _commits_since_checkpoint[0] = 0
        try:
            self.execute("PRAGMA wal_checkpoint(PASSIVE)")  # copies what no reader still needs; never waits
        except sqlite3.Error:
            pass  # the next one catches up; SQLite also checkpoints when the last connection closes

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.end_write_turn()

    def close(self):
        try:
            super().close()
        finally:
            self.end_write_turn()
            if self._lock_file is not None and self._lock_pid == os.getpid():
                self._lock_file.close()
            self._lock_file = None


@functools.cache
def queueing_connection(lock_path: str) -> type[QueueingConnection]:
    """The sqlite3 connection class (``factory=``) for a database whose lock file is ``lock_path``."""
    return type("QueueingConnection", (QueueingConnection,), {"lock_path": lock_path})
