/* goroutines._core: a channel's hot paths, compiled.

   What this module owns
     ``ChanCore``, the base class of ``goroutines.Chan`` when this module is
     built and GOROUTINES_PURE is not set: a channel's fields (the same names
     and meanings as the pure-Python ``_chan._PyChanCore``'s slots) and the
     fast paths of ``send``, ``recv``, ``recv_ok`` and ``_recv``. ``Lock``,
     the channel's lock. Everything else about a channel stays in _chan.py:
     when a fast path cannot finish, it lets go of the lock and calls the
     channel's Python slow path (``_send_slow``, ``_recv_slow``), which starts
     again from the beginning under the lock; with the pure-Python core every
     operation goes there, and its first steps are these fast paths. The two
     implementations are kept the same: the tests run with both
     (GOROUTINES_PURE=1 selects the Python one).

   The fast paths (under the channel's lock, on a known thread, with the
   race detector off; anything else goes to the slow path)
     send: a free slot in the buffer and no receiver waiting: append. A
       goroutine (a ``G``, not a select's case or a plain thread's record)
       waits to receive: hand it the value and make it ready (``complete``:
       on its own worker's thread, append it to that worker's run queue;
       else ``G.complete``). Nobody to hand to and no free slot, and the
       caller is a goroutine: queue it as a waiting sender and park it
       (``park``: ``G.park``'s steps, then ``Worker.switch_away``).
     recv: a value handed back (see _chan), or a value buffered and no
       sender waiting: take it. A goroutine waits to send: take its value
       (on a buffered channel, the buffer's head, and its value goes to the
       tail) and make it ready. Closed and drained: ``_CLOSED``. Nothing to
       take, and the caller is a goroutine: queue it and park it.
     After a park, the waker has completed the G (``value``/``ok``), as
     with ``_chan``'s slow path; a park that raises (an interrupted run
     unwinds the goroutine) gives the wait up as ``Chan._withdraw`` does.

   Invariants
     ``_chan``'s invariants hold here too: this module takes the same lock
     before it reads or changes a field. A ``G`` popped from a wait queue
     here is completed at once, under the lock, as ``_chan`` does. The
     fields are read and written only with the channel's lock held, except
     ``_cap`` (set once) and ``_stale`` (a heuristic, see ``_chan``).

   Locks
     ``Lock`` is a ``PyMutex`` on CPython 3.13+ (with or without the GIL:
     ``PyMutex_Lock`` lets go of the GIL, or detaches the thread, while it
     waits) and a ``PyThread_type_lock`` before (the GIL let go while it
     waits). It is held only for a few steps, and never across a switch. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#define Py_T_PYSSIZET T_PYSSIZET
#define Py_T_BOOL T_BOOL
#define Py_READONLY READONLY
#endif

#if PY_VERSION_HEX >= 0x030D0000
#define USE_PYMUTEX 1
#endif

/* ---- Lock ---------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
#ifdef USE_PYMUTEX
    PyMutex mutex;
#else
    PyThread_type_lock lock;
#endif
    char held; /* for ``locked()`` and to refuse releasing an unheld lock */
} LockObject;

static PyTypeObject Lock_Type;

static inline void
lock_acquire(LockObject *self)
{
#ifdef USE_PYMUTEX
    PyMutex_Lock(&self->mutex);
#else
    if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
#endif
    self->held = 1;
}

static inline void
lock_release(LockObject *self)
{
    self->held = 0;
#ifdef USE_PYMUTEX
    PyMutex_Unlock(&self->mutex);
#else
    PyThread_release_lock(self->lock);
#endif
}

static PyObject *
Lock_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) || (kwargs && PyDict_GET_SIZE(kwargs))) {
        PyErr_SetString(PyExc_TypeError, "Lock() takes no arguments");
        return NULL;
    }
    LockObject *self = (LockObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
#ifndef USE_PYMUTEX
    self->lock = PyThread_allocate_lock();
    if (self->lock == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
#endif
    return (PyObject *)self;
}

static void
Lock_dealloc(LockObject *self)
{
#ifndef USE_PYMUTEX
    if (self->lock != NULL)
        PyThread_free_lock(self->lock);
#endif
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Lock_acquire(LockObject *self, PyObject *Py_UNUSED(ignored))
{
    lock_acquire(self);
    Py_RETURN_TRUE;
}

static PyObject *
Lock_release(LockObject *self, PyObject *Py_UNUSED(ignored))
{
    if (!self->held) {
        PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
        return NULL;
    }
    lock_release(self);
    Py_RETURN_NONE;
}

static PyObject *
Lock_exit(LockObject *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
    return Lock_release(self, NULL);
}

static PyObject *
Lock_locked(LockObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(self->held);
}

static PyMethodDef Lock_methods[] = {
    {"acquire", (PyCFunction)Lock_acquire, METH_NOARGS, "Acquire the lock, waiting if need be."},
    {"release", (PyCFunction)Lock_release, METH_NOARGS, "Release the lock."},
    {"locked", (PyCFunction)Lock_locked, METH_NOARGS, "Whether the lock is held (a snapshot)."},
    {"__enter__", (PyCFunction)Lock_acquire, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))Lock_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Lock_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goroutines._core.Lock",
    .tp_doc = "A channel's lock: acquire (blocking), release, locked, and a context manager.",
    .tp_basicsize = sizeof(LockObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Lock_new,
    .tp_dealloc = (destructor)Lock_dealloc,
    .tp_methods = Lock_methods,
};

/* ---- what bind() gives ----------------------------------------------------- */

static PyTypeObject *G_type; /* goroutines._runtime.g.G */
/* its slots' offsets */
static Py_ssize_t g_value, g_ok, g_state, g_worker, g_wait_reason, g_waiting_since, g_waiting_on;
static PyObject *runnable, *waiting; /* g.RUNNABLE, g.WAITING */
static PyObject *closed_marker;      /* _chan._CLOSED */
static PyObject *closed_error;       /* _chan.ClosedChannelError */
static PyObject *tls;                /* goroutines._runtime.threads.tls */
static PyObject *hooks_dict;         /* goroutines._runtime.hooks.__dict__ */
static PyObject *monotonic;          /* time.monotonic, as G.park reads it */
static PyObject *s_known, *s_race, *s_thread_id, *s_tracer, *s_runq, *s_complete, *s_append,
    *s_appendleft, *s_popleft, *s_send_slow, *s_recv_slow, *s_worker, *s_current,
    *s_switch_away, *s_chan_send, *s_chan_receive;

static inline PyObject **
slot(PyObject *obj, Py_ssize_t offset)
{
    return (PyObject **)((char *)obj + offset);
}

/* Set a G's slot to ``value`` (a new reference is taken), as a member
   descriptor sets it: without the GIL, in a critical section on the G and
   with a release store, since a dump may read it from another thread. */
static inline void
set_slot(PyObject *g, Py_ssize_t offset, PyObject *value)
{
    PyObject **where = slot(g, offset);
    PyObject *old;
#ifdef Py_GIL_DISABLED
    Py_BEGIN_CRITICAL_SECTION(g);
    old = *where;
    _Py_atomic_store_ptr_release(where, Py_NewRef(value));
    Py_END_CRITICAL_SECTION();
#else
    old = *where;
    *where = Py_NewRef(value);
#endif
    Py_XDECREF(old);
}

/* The fast paths' preconditions that need no lock: this thread is known to
   the runtime (``tls.known``: see threads.register_thread) and the race
   detector is off. 1: yes; 0: no (take the slow path); -1: error. */
static int
fast_path_allowed(void)
{
    int race_off;
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *race;
    if (PyDict_GetItemRef(hooks_dict, s_race, &race) < 0)
        return -1;
    race_off = race == Py_None;
    Py_XDECREF(race);
#else
    PyObject *race = PyDict_GetItemWithError(hooks_dict, s_race); /* borrowed */
    if (race == NULL && PyErr_Occurred())
        return -1;
    race_off = race == Py_None;
#endif
    if (!race_off)
        return 0;
    PyObject *known = PyObject_GetAttr(tls, s_known);
    if (known == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(known);
    return 1;
}

/* Hand ``value``/``ok`` to the goroutine ``g`` and make it ready, as
   ``G.complete`` does: inline when ``g``'s worker is this thread's and is not
   tracing (set the fields, RUNNABLE, append to its run queue), else by
   calling ``G.complete`` itself. */
static int
complete(PyObject *g, PyObject *value, PyObject *ok)
{
    PyObject *worker = *slot(g, g_worker);
    if (worker == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "goroutines._core: a waiting goroutine has no worker");
        return -1;
    }
    Py_INCREF(worker);
    int rc = -1, inline_here = 0;
    PyObject *thread_id = PyObject_GetAttr(worker, s_thread_id);
    if (thread_id == NULL)
        goto done;
    unsigned long ident = PyLong_AsUnsignedLong(thread_id);
    Py_DECREF(thread_id);
    if (ident == (unsigned long)-1 && PyErr_Occurred())
        goto done;
    if (ident == PyThread_get_thread_ident()) {
        PyObject *tracer = PyObject_GetAttr(worker, s_tracer);
        if (tracer == NULL)
            goto done;
        inline_here = tracer == Py_None;
        Py_DECREF(tracer);
    }
    PyObject *r;
    if (inline_here) {
        set_slot(g, g_value, value);
        set_slot(g, g_ok, ok);
        set_slot(g, g_state, runnable);
        PyObject *runq = PyObject_GetAttr(worker, s_runq);
        if (runq == NULL)
            goto done;
        r = PyObject_CallMethodOneArg(runq, s_append, g);
        Py_DECREF(runq);
    }
    else {
        PyObject *call[] = {g, value, ok};
        r = PyObject_VectorcallMethod(s_complete, call, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    }
    rc = r == NULL ? -1 : 0;
    Py_XDECREF(r);
done:
    Py_DECREF(worker);
    return rc;
}

/* ---- ChanCore --------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *buf;   /* deque: the buffered values */
    PyObject *lock;  /* a Lock */
    PyObject *recvq; /* deque: waiting receivers */
    PyObject *sendq; /* deque: waiting senders */
    Py_ssize_t cap;
    Py_ssize_t stale;
    char closed;
} ChanObject;

/* The first waiter of ``queue`` if it is a goroutine waiting as itself (new
   reference), else NULL with no error (a select's case or a plain thread's
   record: the slow path claims those). -1 on error. */
static int
first_goroutine(PyObject *queue, PyObject **g)
{
    *g = NULL;
    Py_ssize_t n = PyObject_Size(queue);
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    PyObject *first = PySequence_GetItem(queue, 0);
    if (first == NULL)
        return -1;
    if (Py_TYPE(first) != G_type) {
        Py_DECREF(first);
        return 0;
    }
    PyObject *popped = PyObject_CallMethodNoArgs(queue, s_popleft);
    if (popped == NULL) {
        Py_DECREF(first);
        return -1;
    }
    Py_DECREF(popped); /* the same object: the lock is held */
    *g = first;
    return 1;
}

static int
chan_fields_ready(ChanObject *self)
{
    if (self->lock == NULL || Py_TYPE(self->lock) != &Lock_Type || self->buf == NULL ||
        self->recvq == NULL || self->sendq == NULL) {
        PyErr_SetString(PyExc_TypeError, "channel used before Chan.__init__ ran");
        return -1;
    }
    if (G_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "goroutines._core: bind() was not called");
        return -1;
    }
    return 0;
}

/* What the fast paths found, besides a result and an error. */
enum { SLOW = 0, DONE = 1, BLOCK = 2 };

/* send's fast path. DONE: sent; BLOCK: the sender must wait (not closed,
   nobody to hand to, no free slot); SLOW: take the slow path; -1: error.
   Lock held. */
static int
send_locked(ChanObject *self, PyObject *value)
{
    if (self->closed)
        return SLOW;
    Py_ssize_t buffered = PyObject_Size(self->buf);
    if (buffered < 0)
        return -1;
    PyObject *receiver;
    int found = first_goroutine(self->recvq, &receiver);
    if (found < 0)
        return -1;
    if (found) {
        int rc = complete(receiver, value, Py_True);
        Py_DECREF(receiver);
        return rc < 0 ? -1 : DONE;
    }
    Py_ssize_t receivers = PyObject_Size(self->recvq);
    if (receivers < 0)
        return -1;
    if (receivers)
        return SLOW;
    if (buffered >= self->cap)
        return BLOCK;
    PyObject *r = PyObject_CallMethodOneArg(self->buf, s_append, value);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return DONE;
}

/* The goroutine calling (new reference): the current G of this thread's
   worker; NULL without an error on a plain thread or in a timer callback
   (the slow path deals with those), NULL with one on failure. */
static PyObject *
running_goroutine(void)
{
    PyObject *worker = PyObject_GetAttr(tls, s_worker);
    if (worker == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError))
            PyErr_Clear();
        return NULL;
    }
    PyObject *g = worker == Py_None ? NULL : PyObject_GetAttr(worker, s_current);
    Py_DECREF(worker);
    if (g != NULL && Py_TYPE(g) != G_type)
        Py_CLEAR(g);
    return g;
}

/* Queue ``g`` on ``queue`` and park it: ``G.park(reason, self)``. Called
   with the lock held; releases it. -1 if parking raised (an interrupted run
   unwinds the goroutine): the wait is given up as ``Chan._withdraw`` gives
   up a goroutine's (the record stays queued, stale). */
static int
park(ChanObject *self, PyObject *g, PyObject *queue, PyObject *reason)
{
    PyObject *r = PyObject_CallMethodOneArg(queue, s_append, g);
    lock_release((LockObject *)self->lock);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    PyObject *now = PyObject_CallNoArgs(monotonic);
    if (now == NULL)
        return -1;
    set_slot(g, g_wait_reason, reason); /* before the state: a dump reads both */
    set_slot(g, g_waiting_since, now);
    Py_DECREF(now);
    set_slot(g, g_waiting_on, (PyObject *)self);
    set_slot(g, g_state, waiting);
    PyObject *worker = *slot(g, g_worker);
    Py_INCREF(worker);
    r = PyObject_CallMethodNoArgs(worker, s_switch_away);
    Py_DECREF(worker);
    if (r == NULL) {
        lock_acquire((LockObject *)self->lock);
        self->stale++;
        lock_release((LockObject *)self->lock);
        set_slot(g, g_value, Py_None);
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static PyObject *
Chan_send(ChanObject *self, PyObject *value)
{
    if (chan_fields_ready(self) < 0)
        return NULL;
    int allowed = fast_path_allowed();
    if (allowed < 0)
        return NULL;
    if (allowed) {
        LockObject *lock = (LockObject *)self->lock;
        lock_acquire(lock);
        int sent = send_locked(self, value);
        PyObject *g = sent == BLOCK ? running_goroutine() : NULL;
        if (g == NULL) {
            lock_release(lock);
            if (sent < 0 || PyErr_Occurred())
                return NULL;
            if (sent == DONE)
                Py_RETURN_NONE;
        }
        else { /* wait, as _send_slow does */
            set_slot(g, g_value, value);
            int parked = park(self, g, self->sendq, s_chan_send);
            set_slot(g, g_value, Py_None);
            int ok = parked < 0 ? -1 : PyObject_IsTrue(*slot(g, g_ok));
            Py_DECREF(g);
            if (ok < 0)
                return NULL;
            if (!ok) {
                PyErr_SetString(closed_error, "send on closed channel");
                return NULL;
            }
            Py_RETURN_NONE;
        }
    }
    return PyObject_CallMethodOneArg((PyObject *)self, s_send_slow, value);
}

/* recv's fast path: the value received (new reference; ``closed_marker``
   once closed and drained), or NULL with no error and ``*found`` SLOW (take
   the slow path) or BLOCK (the receiver must wait: nothing buffered, no
   sender, not closed), or NULL with an error. Lock held. */
static PyObject *
recv_locked(ChanObject *self, int *found_out)
{
    *found_out = SLOW;
    Py_ssize_t buffered = PyObject_Size(self->buf);
    if (buffered < 0)
        return NULL;
    if (buffered > self->cap) /* a value handed back comes first: see _chan */
        return PyObject_CallMethodNoArgs(self->buf, s_popleft);
    PyObject *sender;
    int found = first_goroutine(self->sendq, &sender);
    if (found < 0)
        return NULL;
    if (found) {
        PyObject *value = *slot(sender, g_value);
        if (value == NULL)
            value = Py_None;
        Py_INCREF(value);
        if (self->cap) { /* the buffer's head now; the sender's value to the tail */
            PyObject *head = PyObject_CallMethodNoArgs(self->buf, s_popleft);
            PyObject *r = head == NULL ? NULL : PyObject_CallMethodOneArg(self->buf, s_append, value);
            Py_DECREF(value);
            if (r == NULL) {
                Py_XDECREF(head);
                Py_DECREF(sender);
                return NULL;
            }
            Py_DECREF(r);
            value = head;
        }
        int rc = complete(sender, Py_None, Py_True);
        Py_DECREF(sender);
        if (rc < 0) {
            Py_DECREF(value);
            return NULL;
        }
        return value;
    }
    Py_ssize_t senders = PyObject_Size(self->sendq);
    if (senders < 0)
        return NULL;
    if (senders)
        return NULL;
    if (buffered)
        return PyObject_CallMethodNoArgs(self->buf, s_popleft);
    if (self->closed)
        return Py_NewRef(closed_marker);
    *found_out = BLOCK;
    return NULL;
}

/* A value received, or ``closed_marker`` once closed and drained. */
static PyObject *
chan_recv(ChanObject *self)
{
    if (chan_fields_ready(self) < 0)
        return NULL;
    int allowed = fast_path_allowed();
    if (allowed < 0)
        return NULL;
    if (allowed) {
        LockObject *lock = (LockObject *)self->lock;
        lock_acquire(lock);
        int found;
        PyObject *value = recv_locked(self, &found);
        PyObject *g = value == NULL && found == BLOCK ? running_goroutine() : NULL;
        if (g == NULL) {
            lock_release(lock);
            if (value != NULL || PyErr_Occurred())
                return value;
        }
        else { /* wait, as _recv_slow does */
            int parked = park(self, g, self->recvq, s_chan_receive);
            if (parked < 0) {
                Py_DECREF(g);
                return NULL;
            }
            value = Py_NewRef(*slot(g, g_value));
            set_slot(g, g_value, Py_None);
            int ok = PyObject_IsTrue(*slot(g, g_ok));
            Py_DECREF(g);
            if (ok < 0) {
                Py_DECREF(value);
                return NULL;
            }
            if (!ok)
                Py_SETREF(value, Py_NewRef(closed_marker));
            return value;
        }
    }
    return PyObject_CallMethodNoArgs((PyObject *)self, s_recv_slow);
}

static PyObject *
Chan__recv(ChanObject *self, PyObject *Py_UNUSED(ignored))
{
    return chan_recv(self);
}

static PyObject *
Chan_recv(ChanObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *value = chan_recv(self);
    if (value == closed_marker) {
        Py_DECREF(value);
        Py_RETURN_NONE;
    }
    return value;
}

static PyObject *
Chan_recv_ok(ChanObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *value = chan_recv(self);
    if (value == NULL)
        return NULL;
    if (value == closed_marker) {
        Py_DECREF(value);
        return PyTuple_Pack(2, Py_None, Py_False);
    }
    PyObject *pair = PyTuple_Pack(2, value, Py_True);
    Py_DECREF(value);
    return pair;
}

static int
Chan_traverse(ChanObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->buf);
    Py_VISIT(self->lock);
    Py_VISIT(self->recvq);
    Py_VISIT(self->sendq);
    return 0;
}

static int
Chan_clear(ChanObject *self)
{
    Py_CLEAR(self->buf);
    Py_CLEAR(self->lock);
    Py_CLEAR(self->recvq);
    Py_CLEAR(self->sendq);
    return 0;
}

static void
Chan_dealloc(ChanObject *self)
{
    PyObject_GC_UnTrack(self);
    Chan_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Chan_methods[] = {
    {"send", (PyCFunction)Chan_send, METH_O,
     "Send a value; blocks until a receiver takes it or a slot is free."},
    {"recv", (PyCFunction)Chan_recv, METH_NOARGS,
     "Receive a value; blocks until one arrives. None once closed and drained."},
    {"recv_ok", (PyCFunction)Chan_recv_ok, METH_NOARGS,
     "Receive (value, ok); ok is False only if closed and drained."},
    {"_recv", (PyCFunction)Chan__recv, METH_NOARGS,
     "Receive a value, blocking if need be; _CLOSED once closed and drained."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Chan_members[] = {
    {"_buf", Py_T_OBJECT_EX, offsetof(ChanObject, buf), 0, NULL},
    {"_lock", Py_T_OBJECT_EX, offsetof(ChanObject, lock), 0, NULL},
    {"_recvq", Py_T_OBJECT_EX, offsetof(ChanObject, recvq), 0, NULL},
    {"_sendq", Py_T_OBJECT_EX, offsetof(ChanObject, sendq), 0, NULL},
    {"_cap", Py_T_PYSSIZET, offsetof(ChanObject, cap), 0, NULL},
    {"_stale", Py_T_PYSSIZET, offsetof(ChanObject, stale), 0, NULL},
    {"_closed", Py_T_BOOL, offsetof(ChanObject, closed), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject Chan_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goroutines._core.ChanCore",
    .tp_doc = "A channel's fields and fast paths (the base of goroutines.Chan).",
    .tp_basicsize = sizeof(ChanObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Chan_dealloc,
    .tp_traverse = (traverseproc)Chan_traverse,
    .tp_clear = (inquiry)Chan_clear,
    .tp_methods = Chan_methods,
    .tp_members = Chan_members,
};

/* ---- bind ----------------------------------------------------------------------- */

static int
slot_offset(PyObject *cls, const char *name, Py_ssize_t *offset)
{
    PyObject *descr = PyObject_GetAttrString(cls, name);
    if (descr == NULL)
        return -1;
    if (!PyObject_TypeCheck(descr, &PyMemberDescr_Type) ||
        ((PyMemberDescrObject *)descr)->d_member->type != Py_T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "bind(): %R.%s is not a __slots__ member", cls, name);
        Py_DECREF(descr);
        return -1;
    }
    *offset = ((PyMemberDescrObject *)descr)->d_member->offset;
    Py_DECREF(descr);
    return 0;
}

static PyObject *
bind(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "bind(G, RUNNABLE, WAITING, CLOSED, ClosedChannelError, tls, hooks_dict, "
                        "monotonic) takes 8 arguments");
        return NULL;
    }
    PyObject *cls = args[0];
    if (!PyType_Check(cls) || !PyExceptionClass_Check(args[4]) || !PyDict_Check(args[6]) ||
        !PyCallable_Check(args[7])) {
        PyErr_SetString(PyExc_TypeError, "bind(): G must be a class, ClosedChannelError an "
                                         "exception, hooks_dict a dict and monotonic callable");
        return NULL;
    }
    if (slot_offset(cls, "value", &g_value) < 0 || slot_offset(cls, "ok", &g_ok) < 0 ||
        slot_offset(cls, "state", &g_state) < 0 || slot_offset(cls, "worker", &g_worker) < 0 ||
        slot_offset(cls, "wait_reason", &g_wait_reason) < 0 ||
        slot_offset(cls, "waiting_since", &g_waiting_since) < 0 ||
        slot_offset(cls, "waiting_on", &g_waiting_on) < 0)
        return NULL;
    Py_XSETREF(G_type, (PyTypeObject *)Py_NewRef(cls));
    Py_XSETREF(runnable, Py_NewRef(args[1]));
    Py_XSETREF(waiting, Py_NewRef(args[2]));
    Py_XSETREF(closed_marker, Py_NewRef(args[3]));
    Py_XSETREF(closed_error, Py_NewRef(args[4]));
    Py_XSETREF(tls, Py_NewRef(args[5]));
    Py_XSETREF(hooks_dict, Py_NewRef(args[6]));
    Py_XSETREF(monotonic, Py_NewRef(args[7]));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", (PyCFunction)(void (*)(void))bind, METH_FASTCALL,
     "bind(G, RUNNABLE, WAITING, CLOSED, ClosedChannelError, tls, hooks_dict, monotonic): "
     "what the fast paths use (once, at import)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "goroutines._core",
    .m_doc = "A channel's hot paths, compiled (see _core.c).",
    .m_size = -1,
    .m_methods = module_methods,
};

static int
intern(PyObject **where, const char *name)
{
    *where = PyUnicode_InternFromString(name);
    return *where == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__core(void)
{
    if (intern(&s_known, "known") < 0 || intern(&s_race, "race") < 0 ||
        intern(&s_thread_id, "thread_id") < 0 || intern(&s_tracer, "tracer") < 0 ||
        intern(&s_runq, "runq") < 0 || intern(&s_complete, "complete") < 0 ||
        intern(&s_append, "append") < 0 || intern(&s_appendleft, "appendleft") < 0 ||
        intern(&s_popleft, "popleft") < 0 || intern(&s_send_slow, "_send_slow") < 0 ||
        intern(&s_recv_slow, "_recv_slow") < 0 || intern(&s_worker, "worker") < 0 ||
        intern(&s_current, "current") < 0 || intern(&s_switch_away, "switch_away") < 0 ||
        intern(&s_chan_send, "chan send") < 0 || intern(&s_chan_receive, "chan receive") < 0)
        return NULL;
    if (PyType_Ready(&Lock_Type) < 0 || PyType_Ready(&Chan_Type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
#ifdef Py_GIL_DISABLED
    if (PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    if (PyModule_AddObjectRef(m, "Lock", (PyObject *)&Lock_Type) < 0 ||
        PyModule_AddObjectRef(m, "ChanCore", (PyObject *)&Chan_Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
