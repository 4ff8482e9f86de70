/* goroutines._race._sink: the race detector's sinks, compiled.

   What this module owns
     Nothing of its own: these are detector.py's sink functions (read_attr,
     write_attr, read_item, write_item, read_global, write_global, read_cell,
     write_cell), doing exactly what its Python ``_seen`` does, only faster,
     and its clocks' inner loop (``raise_all``, ``_raise_all_python``).
     The Python functions are the reference, and run where this module is not
     built or GOROUTINES_PURE is set; the tests run both.

   What a call does
     The fast path of ``_seen``: the active session's state (detector.py's
     ``_sink_state``: the detector, its ``_attrs`` and ``_cells`` tables and
     its ``_dead`` queue, or None); the location's cell in the table
     (``_attrs`` for an attribute, ``_cells`` otherwise), keyed by the
     container's id and the key; the calling goroutine's epoch token
     (``tls.worker.current.race.token``); if the cell's mark for this kind of
     access is that token, and no dead container waits to be dropped, the
     access adds nothing and the call returns. Anything else, where Python
     would raise KeyError, AttributeError or TypeError, goes to
     ``Detector.access`` with the caller's frame (a C function has none of
     its own: the current frame is the user's).

   Slots read in place
     ``G.race``, ``Actor.token`` and ``_Cell``'s marks are ``__slots__``:
     ``bind`` finds their offsets once (their member descriptors), and they
     are read straight from the object, when its type is exactly the class
     bound (else the slow path). ``G.race`` is set once; an actor's token is
     only replaced while its goroutine does not run; and a cell's mark is
     only compared with the token, never used, so it needs no reference of
     its own: a mark that another thread is replacing is as some instant
     left it, as the Python fast path reads it.

   Invariants
     Nothing here is changed: the tables, the cells and the actors are read
     as the Python fast path reads them, without the detector's lock (see
     detector.py). Every other object read is held by a strong reference
     while it is used (the state tuple holds the tables), so that on a
     free-threaded build another thread's change cannot free it underneath.
     ``bind`` is called once, by sink.py at import, before any sink runs.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* PyMemberDescrObject, before 3.12's Py_T_OBJECT_EX */

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif

enum { ATTR = 0, ITEM = 1, GLOBAL = 2, CELL = 3 };

static PyObject *detector_globals; /* detector.py's module dict: "_sink_state" is read per call */
static PyObject *tls;              /* goroutines._runtime.threads.tls */
static PyObject *s_sink_state, *s_worker, *s_current, *s_access;
static PyObject *zero; /* the time of a clock's missing entry */

/* A ``__slots__`` member of exactly one class, read in place (see above). */
typedef struct {
    PyTypeObject *type;
    Py_ssize_t offset;
} slot_t;

static slot_t g_race, actor_token, cell_fast_read, cell_fast_write;

/* The object in ``obj``'s slot (borrowed), or NULL if obj is not of the
   slot's class or the slot is empty. */
static inline PyObject *
read_slot(PyObject *obj, const slot_t *slot)
{
    if (Py_TYPE(obj) != slot->type)
        return NULL;
    return *(PyObject *volatile *)((char *)obj + slot->offset);
}

static int
bind_slot(PyObject *cls, const char *name, slot_t *slot)
{
    if (!PyType_Check(cls)) {
        PyErr_Format(PyExc_TypeError, "bind(): %R is not a class", cls);
        return -1;
    }
    PyObject *descr = PyObject_GetAttrString(cls, name);
    if (descr == NULL)
        return -1;
    int ok = Py_IS_TYPE(descr, &PyMemberDescr_Type) &&
             ((PyMemberDescrObject *)descr)->d_member->type == Py_T_OBJECT_EX;
    if (ok) {
        Py_XSETREF(slot->type, (PyTypeObject *)Py_NewRef(cls));
        slot->offset = ((PyMemberDescrObject *)descr)->d_member->offset;
    }
    else {
        PyErr_Format(PyExc_TypeError, "bind(): %R.%s is not a __slots__ member", cls, name);
    }
    Py_DECREF(descr);
    return ok ? 0 : -1;
}

/* d[key] as a new reference in *out: 1 found, 0 missing, -1 error. */
static int
get_item_ref(PyObject *d, PyObject *key, PyObject **out)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyDict_GetItemRef(d, key, out);
#else
    *out = PyDict_GetItemWithError(d, key);
    if (*out == NULL)
        return PyErr_Occurred() ? -1 : 0;
    Py_INCREF(*out);
    return 1;
#endif
}

/* Whether the access adds nothing (1), needs the slow path (0), or failed
   with an error that Python's fast path would not have caught (-1). */
static int
unchanged(PyObject *state, PyObject *container, PyObject *key, int kind, int write)
{
    PyObject *table = PyTuple_GET_ITEM(state, kind == ATTR ? 1 : 2);
    PyObject *dead = PyTuple_GET_ITEM(state, 3);
    PyObject *ident = NULL, *cells = NULL, *cell = NULL, *worker = NULL, *g = NULL;
    int result = -1;

    ident = PyLong_FromVoidPtr(container);
    if (ident == NULL)
        goto done;
    int found = get_item_ref(table, ident, &cells);
    if (found <= 0) {
        result = found;
        goto done;
    }
    found = get_item_ref(cells, key, &cell); /* a TypeError if the key is unhashable */
    if (found <= 0) {
        result = found;
        goto done;
    }
    worker = PyObject_GetAttr(tls, s_worker);
    if (worker == NULL)
        goto done;
    g = PyObject_GetAttr(worker, s_current);
    if (g == NULL)
        goto done;
    PyObject *actor = read_slot(g, &g_race);
    PyObject *token = actor != NULL ? read_slot(actor, &actor_token) : NULL;
    PyObject *mark = read_slot(cell, write ? &cell_fast_write : &cell_fast_read);
    if (token == NULL || mark != token) {
        result = 0;
        goto done;
    }
    int any = PyObject_IsTrue(dead);
    result = any < 0 ? -1 : !any;
done:
    if (result < 0 && (PyErr_ExceptionMatches(PyExc_KeyError) ||
                       PyErr_ExceptionMatches(PyExc_AttributeError) ||
                       PyErr_ExceptionMatches(PyExc_TypeError))) {
        PyErr_Clear();
        result = 0;
    }
    Py_XDECREF(ident);
    Py_XDECREF(cells);
    Py_XDECREF(cell);
    Py_XDECREF(worker);
    Py_XDECREF(g);
    return result;
}

/* ``_seen``: 0 on success, -1 with an exception set. */
static int
seen(PyObject *container, PyObject *key, int kind, int write)
{
    PyObject *state;
    if (detector_globals == NULL)
        return 0; /* not bound yet: nothing is active */
    int found = get_item_ref(detector_globals, s_sink_state, &state);
    if (found <= 0)
        return found;
    int result = 0;
    if (PyTuple_CheckExact(state) && PyTuple_GET_SIZE(state) == 4) {
        int fast = unchanged(state, container, key, kind, write);
        if (fast < 0) {
            result = -1;
        }
        else if (!fast) {
            PyObject *frame = (PyObject *)PyEval_GetFrame();
            PyObject *kind_obj = PyLong_FromLong(kind);
            PyObject *done = kind_obj == NULL ? NULL
                : PyObject_CallMethodObjArgs(PyTuple_GET_ITEM(state, 0), s_access, container,
                                             key, kind_obj, write ? Py_True : Py_False,
                                             frame != NULL ? frame : Py_None, NULL);
            Py_XDECREF(kind_obj);
            result = done == NULL ? -1 : 0;
            Py_XDECREF(done);
        }
    }
    Py_DECREF(state);
    return result;
}

static int
check_args(const char *name, Py_ssize_t nargs, Py_ssize_t want)
{
    if (nargs == want)
        return 0;
    PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)", name, want,
                 nargs);
    return -1;
}

/* read_attr(obj, name) / write_attr(obj, name): a module's attribute is its global. */
/* read_<kind> and write_<kind>: the METH_FASTCALL functions, calling <kind>(). */
#define READ_AND_WRITE(kind)                                                  \
    static PyObject *read_##kind(PyObject *self, PyObject *const *args,      \
                                 Py_ssize_t nargs)                           \
    {                                                                         \
        return kind("read_" #kind, args, nargs, 0);                           \
    }                                                                         \
    static PyObject *write_##kind(PyObject *self, PyObject *const *args,     \
                                  Py_ssize_t nargs)                          \
    {                                                                         \
        return kind("write_" #kind, args, nargs, 1);                          \
    }

static PyObject *
attr(const char *name, PyObject *const *args, Py_ssize_t nargs, int write)
{
    if (check_args(name, nargs, 2) < 0)
        return NULL;
    PyObject *obj = args[0];
    int failed = PyModule_CheckExact(obj)
        ? seen(PyModule_GetDict(obj), args[1], GLOBAL, write)
        : seen(obj, args[1], ATTR, write);
    if (failed)
        return NULL;
    return Py_NewRef(obj);
}

READ_AND_WRITE(attr)

static PyObject *
item(const char *name, PyObject *const *args, Py_ssize_t nargs, int write)
{
    if (check_args(name, nargs, 2) < 0 || seen(args[0], args[1], ITEM, write) < 0)
        return NULL;
    return Py_NewRef(args[0]);
}

READ_AND_WRITE(item)

/* read_global(name) / write_global(name): a global of the caller's module. */
static PyObject *
global(const char *name, PyObject *const *args, Py_ssize_t nargs, int write)
{
    if (check_args(name, nargs, 1) < 0)
        return NULL;
    PyObject *globals = PyEval_GetGlobals();
    if (globals == NULL) {
        PyErr_Format(PyExc_RuntimeError, "%s() called with no Python frame", name);
        return NULL;
    }
    if (seen(globals, args[0], GLOBAL, write) < 0)
        return NULL;
    Py_RETURN_NONE;
}

READ_AND_WRITE(global)

/* read_cell(token, name) / write_cell(token, name): a shared closure variable. */
static PyObject *
cell(const char *name, PyObject *const *args, Py_ssize_t nargs, int write)
{
    if (check_args(name, nargs, 2) < 0 || seen(args[0], args[1], CELL, write) < 0)
        return NULL;
    Py_RETURN_NONE;
}

READ_AND_WRITE(cell)

/* raise_all(own, base, part): detector.py's _raise_all_python. Called under the
   detector's lock, which every change to a clock's dicts holds: the borrowed
   references cannot go stale meanwhile. */
static PyObject *
raise_all(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_args("raise_all", nargs, 3) < 0)
        return NULL;
    PyObject *own = args[0], *base = args[1], *part = args[2];
    if (!PyDict_CheckExact(own) || !PyDict_CheckExact(base) || !PyDict_CheckExact(part)) {
        PyErr_SetString(PyExc_TypeError, "raise_all(): a clock's parts are dicts");
        return NULL;
    }
    if (part == own)
        Py_RETURN_NONE; /* a clock raised to itself */
    Py_ssize_t pos = 0;
    PyObject *tid, *time;
    while (PyDict_Next(part, &pos, &tid, &time)) {
        PyObject *mine = PyDict_GetItemWithError(own, tid);
        if (mine == NULL && !PyErr_Occurred())
            mine = PyDict_GetItemWithError(base, tid);
        if (mine == NULL && PyErr_Occurred())
            return NULL;
        int less = PyObject_RichCompareBool(mine != NULL ? mine : zero, time, Py_LT);
        if (less < 0 || (less && PyDict_SetItem(own, tid, time) < 0))
            return NULL;
    }
    Py_RETURN_NONE;
}

/* bind(globals, tls, G, Actor, Cell): detector.py's module dict, the
   runtime's thread-locals, and the classes whose slots are read in place. */
static PyObject *
bind(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_args("bind", nargs, 5) < 0)
        return NULL;
    if (!PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "bind(): globals must be a dict");
        return NULL;
    }
    if (bind_slot(args[2], "race", &g_race) < 0 ||
        bind_slot(args[3], "token", &actor_token) < 0 ||
        bind_slot(args[4], "fast_read", &cell_fast_read) < 0 ||
        bind_slot(args[4], "fast_write", &cell_fast_write) < 0)
        return NULL;
    Py_XSETREF(detector_globals, Py_NewRef(args[0]));
    Py_XSETREF(tls, Py_NewRef(args[1]));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"read_attr", (PyCFunction)(void (*)(void))read_attr, METH_FASTCALL, NULL},
    {"write_attr", (PyCFunction)(void (*)(void))write_attr, METH_FASTCALL, NULL},
    {"read_item", (PyCFunction)(void (*)(void))read_item, METH_FASTCALL, NULL},
    {"write_item", (PyCFunction)(void (*)(void))write_item, METH_FASTCALL, NULL},
    {"read_global", (PyCFunction)(void (*)(void))read_global, METH_FASTCALL, NULL},
    {"write_global", (PyCFunction)(void (*)(void))write_global, METH_FASTCALL, NULL},
    {"read_cell", (PyCFunction)(void (*)(void))read_cell, METH_FASTCALL, NULL},
    {"write_cell", (PyCFunction)(void (*)(void))write_cell, METH_FASTCALL, NULL},
    {"raise_all", (PyCFunction)(void (*)(void))raise_all, METH_FASTCALL, NULL},
    {"bind", (PyCFunction)(void (*)(void))bind, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sink", "The race detector's sinks, compiled (see detector.py).", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__sink(void)
{
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&s_sink_state, "_sink_state"},
        {&s_worker, "worker"},
        {&s_current, "current"},
        {&s_access, "access"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (*names[i].slot == NULL && (*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL)
            return NULL;
    }
    if (zero == NULL && (zero = PyLong_FromLong(0)) == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
#ifdef Py_GIL_DISABLED
    if (m != NULL && PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
