/* ccer.ledger._core — the chain walk's and the table scan's per-event and per-row work in C (issue #20), on the
 * format's mechanics in verifier/ccer_verify/_format.h (shared with the stand-alone verifier).
 *
 * An accelerator, not a second rule: every function here only ever *accepts* what the Python definition
 * (ccer/ledger/codec.py: canonical JSON = Python's json with sorted keys, no spaces, characters as themselves;
 * the event hash; the Merkle leaf, docs/ledger-format.md §2, §3, §6) would accept, and hands anything else —
 * a gap, a wrong hash, a payload it cannot prove canonical, a type it does not know — back to the Python path,
 * which decides and words the problem. tests/test_ledger_core.py checks it against that definition.
 *
 *   walk(rows, start, expected_seq, prev, stop_seq, kinds, plain, last_at, at_text)
 *       -> (index, expected_seq, prev, status, last_at, at_text)
 *   walk_copy(data, start, expected_seq, prev, stop_seq, kinds, at_of, last_micros, at_text)
 *       -> (offset, expected_seq, prev, status, last_micros, at_text)
 *   copy_read(conn, get_copy_data, freemem, at_least) -> (bytes, status)
 *   row_digests(rows, order, keys) -> bytes | None
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define KIND_EXTRA                                                                                                  \
    PyObject *slots, *rooted_obj, *seqs, *digests, *other, *present, *hashes, *texts;                                     \
    PyObject *sparse;         /* Slots.sparse, a dict (incremental verification: integer ids by key), or NULL */        \
    Py_buffer bseqs, bdigests, bpresent, bhashes; /* the arrays' memory (bytearrays, or scratch-file mappings) */    \
    int held;                 /* those buffers are held (never across a call into Python, which may resize them) */  \
    long long count_delta;    /* new ids written in place (Slots.count) */
#include "_format.h"

static int kind_attrs(Kind *kind);
static void kind_release(Kind *kind);

/* Slots and Rooted (verify.py) written in place when the id is inside their arrays; anything else through their
 * own Python methods (growth, sparse ids, ids kept by text). */
static int vouch_item(Item *it, const unsigned char *s, long long seq) {
    Kind *k = it->kind;
    unsigned char h[32];
    leaf_hash(it->id, it->id_n, s + it->v0, it->v1 - it->v0, h);
    long long i = int_id(it->id, it->id_n);
    int done = 0;
    if (i >= 0 && !k->sparse && i < k->bseqs.len / 8 && 16 * i + 16 <= k->bdigests.len) {
        long long *seqs = k->bseqs.buf;
        if (!seqs[i]) k->count_delta++;
        seqs[i] = seq;
        memcpy((char *)k->bdigests.buf + 16 * i, h, 16);
        done = 1;
    }
    if (!done && i >= 0 && k->sparse) { /* Slots.put_int's sparse case: {id: (seq, digest)} */
        PyObject *key = PyLong_FromLongLong(i);
        PyObject *val = key ? Py_BuildValue("(Ly#)", seq, (const char *)h, (Py_ssize_t)16) : NULL;
        int r = val ? PyDict_SetItem(k->sparse, key, val) : -1;
        Py_XDECREF(key);
        Py_XDECREF(val);
        if (r < 0) return -1;
        done = 1;
    }
    if (!done) {
        PyObject *r;
        if (i >= 0) {
            kind_release(k); /* Python may grow or replace the arrays */
            r = PyObject_CallMethod(k->slots, "put_int", "LLy#", i, seq, (const char *)h, (Py_ssize_t)16);
        } else {
            PyObject *key = PyUnicode_DecodeUTF8(it->id, it->id_n, "strict");
            PyObject *val = key ? Py_BuildValue("(Ly#)", seq, (const char *)h, (Py_ssize_t)16) : NULL;
            r = val ? (PyDict_SetItem(k->other, key, val) < 0 ? NULL : Py_NewRef(Py_None)) : NULL;
            Py_XDECREF(key);
            Py_XDECREF(val);
        }
        if (!r) return -1;
        Py_DECREF(r);
        if (kind_attrs(k) < 0) return -1;
    }
    if (!k->rooted) return 0;
    int keep = kept(k, s, it->v0, it->v1);
    if (i >= 0 && i < k->bpresent.len && 32 * i + 32 <= k->bhashes.len && PyDict_GET_SIZE(k->texts) == 0) {
        ((char *)k->bpresent.buf)[i] = keep ? 1 : 0;
        if (keep) memcpy((char *)k->bhashes.buf + 32 * i, h, 32);
        return 0;
    }
    kind_release(k);
    PyObject *key = i >= 0 ? PyLong_FromLongLong(i) : PyUnicode_DecodeUTF8(it->id, it->id_n, "strict");
    if (!key) return -1;
    PyObject *r = keep ? PyObject_CallMethod(k->rooted_obj, "put", "Oy#", key, (const char *)h, (Py_ssize_t)32)
                       : PyObject_CallMethod(k->rooted_obj, "put", "OO", key, Py_None);
    Py_DECREF(key);
    if (!r) return -1;
    Py_DECREF(r);
    return kind_attrs(k);
}

/* ---------------------------------------------------------------- walk */

enum { DONE = 0, CHECKPOINT = 1, HAND = 2 };

static const char *utf8(PyObject *o, Py_ssize_t *n) {
    if (!PyUnicode_Check(o)) return NULL;
    const char *s = PyUnicode_AsUTF8AndSize(o, n);
    if (!s) PyErr_Clear(); /* a lone surrogate (SQLite): the Python path decides */
    return s;
}

/* The arrays and dicts a kind writes into, as strong references, read (again) from its Slots and Rooted: again
 * after every call into Python, which may have replaced one of them. */
static void kind_release(Kind *kind) {
    if (kind->held) {
        PyBuffer_Release(&kind->bseqs);
        PyBuffer_Release(&kind->bdigests);
        if (kind->rooted) {
            PyBuffer_Release(&kind->bpresent);
            PyBuffer_Release(&kind->bhashes);
        }
        kind->held = 0;
    }
    Py_CLEAR(kind->sparse);
    Py_CLEAR(kind->seqs);
    Py_CLEAR(kind->digests);
    Py_CLEAR(kind->other);
    Py_CLEAR(kind->present);
    Py_CLEAR(kind->hashes);
    Py_CLEAR(kind->texts);
}

static int kind_attrs(Kind *kind) {
    kind_release(kind);
    PyObject *sparse = PyObject_GetAttrString(kind->slots, "sparse");
    if (!sparse) return -1;
    if (sparse == Py_None) Py_DECREF(sparse);
    else if (!PyDict_Check(sparse)) {
        Py_DECREF(sparse);
        PyErr_SetString(PyExc_TypeError, "Slots: sparse a dict or None");
        return -1;
    } else kind->sparse = sparse;
    if (!(kind->seqs = PyObject_GetAttrString(kind->slots, "seqs")) || !(kind->digests = PyObject_GetAttrString(kind->slots, "digests"))
        || !(kind->other = PyObject_GetAttrString(kind->slots, "other")))
        return -1;
    if (!PyDict_Check(kind->other)) {
        PyErr_SetString(PyExc_TypeError, "Slots: other a dict");
        return -1;
    }
    if (kind->rooted && (!(kind->present = PyObject_GetAttrString(kind->rooted_obj, "present"))
                         || !(kind->hashes = PyObject_GetAttrString(kind->rooted_obj, "hashes"))
                         || !(kind->texts = PyObject_GetAttrString(kind->rooted_obj, "texts"))))
        return -1;
    if (kind->rooted && !PyDict_Check(kind->texts)) {
        PyErr_SetString(PyExc_TypeError, "Rooted: texts a dict");
        return -1;
    }
    /* the arrays' memory, writable (seqs: 8-byte integers) */
    if (PyObject_GetBuffer(kind->seqs, &kind->bseqs, PyBUF_WRITABLE) < 0) return -1;
    if (PyObject_GetBuffer(kind->digests, &kind->bdigests, PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&kind->bseqs);
        return -1;
    }
    if (kind->rooted) {
        if (PyObject_GetBuffer(kind->present, &kind->bpresent, PyBUF_WRITABLE) < 0) {
            PyBuffer_Release(&kind->bseqs);
            PyBuffer_Release(&kind->bdigests);
            return -1;
        }
        if (PyObject_GetBuffer(kind->hashes, &kind->bhashes, PyBUF_WRITABLE) < 0) {
            PyBuffer_Release(&kind->bseqs);
            PyBuffer_Release(&kind->bdigests);
            PyBuffer_Release(&kind->bpresent);
            return -1;
        }
    }
    kind->held = 1;
    if (kind->bseqs.len % 8) {
        kind_release(kind);
        PyErr_SetString(PyExc_TypeError, "Slots: seqs of 8-byte integers");
        return -1;
    }
    return 0;
}

static int kinds_attrs(Walk *w) {
    for (Py_ssize_t k = 0; k < w->nkinds; k++)
        if (kind_attrs(&w->kinds[k]) < 0) return -1;
    return 0;
}

static int load_kinds(PyObject *kinds, Walk *w) {
    /* kinds: a tuple of (name, slots, rooted or None, field or None); `kinds` holds the names, slots and rooted
     * for the call */
    if (!PyTuple_Check(kinds)) { PyErr_SetString(PyExc_TypeError, "kinds: a tuple"); return -1; }
    w->nkinds = PyTuple_GET_SIZE(kinds);
    w->kinds = PyMem_Calloc(w->nkinds ? w->nkinds : 1, sizeof(Kind));
    if (!w->kinds) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t k = 0; k < w->nkinds; k++) {
        Kind *kind = &w->kinds[k];
        PyObject *name, *slots, *rooted, *field;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(kinds, k), "UOOO", &name, &slots, &rooted, &field)) return -1;
        kind->name = PyUnicode_AsUTF8AndSize(name, &kind->name_n);
        if (!kind->name) return -1;
        kind->slots = slots;
        kind->rooted_obj = rooted;
        kind->rooted = rooted != Py_None;
        if (field != Py_None && !(kind->field = PyUnicode_AsUTF8AndSize(field, &kind->field_n))) return -1;
        if (kind_attrs(kind) < 0) return -1;
    }
    return 0;
}

static int store_counts(Walk *w) {
    for (Py_ssize_t k = 0; k < w->nkinds; k++) {
        Kind *kind = &w->kinds[k];
        if (!kind->count_delta) continue;
        PyObject *count = PyObject_GetAttrString(kind->slots, "count");
        if (!count) return -1;
        long long c = PyLong_AsLongLong(count);
        Py_DECREF(count);
        if (c == -1 && PyErr_Occurred()) return -1;
        PyObject *now = PyLong_FromLongLong(c + kind->count_delta);
        if (!now) return -1;
        int r = PyObject_SetAttrString(kind->slots, "count", now);
        Py_DECREF(now);
        if (r < 0) return -1;
        kind->count_delta = 0;
    }
    return 0;
}


/* An event's fields, wherever they were read from: a row tuple (`walk`) or a binary COPY row (`walk_copy`). */
typedef struct {
    long long seq, uid;
    int uid_null;
    const char *actor, *stype, *sid, *action, *payload, *prev, *hash;
    Py_ssize_t n_actor, n_stype, n_sid, n_action, n_payload, n_prev, n_hash;
} Ev;

/* One event: HAND when anything is not as the fast path proves it (nothing written), -1 on a Python error. */
static int check_event(Walk *w, Buf *b, const Ev *e, long long expected, const char *prev, Py_ssize_t n_prev,
                       const char *at_text, Py_ssize_t at_n) {
    if (e->seq != expected || e->n_prev != n_prev || memcmp(e->prev, prev, n_prev) != 0 || e->n_hash != 64) return HAND;
    /* the payload: proven canonical, its vouched states found (verify._Walk.vouch_all) */
    const unsigned char *s = (const unsigned char *)e->payload;
    Py_ssize_t n_payload = e->n_payload;
    w->nitems = 0;
    w->unknown_rooted = 0;
    w->state0 = -1;
    if (n_payload && s[0] == '{') {
        if (skip_object(s, 0, n_payload, 1, top_member, w) != n_payload) {
            if (PyErr_Occurred()) return -1;
            return HAND;
        }
        Py_ssize_t others = w->nitems;
        if (w->state0 >= 0 && add_item(w, e->stype, e->n_stype, e->sid, e->n_sid, w->state0, w->state1) < 0) return -1;
        if (w->nitems > others && others) { /* its own state first, as vouch_all takes them */
            Item own = w->items[w->nitems - 1];
            memmove(w->items + 1, w->items, (w->nitems - 1) * sizeof(Item));
            w->items[0] = own;
        }
    } else if (skip_value(s, 0, n_payload, 1) != n_payload) {
        return HAND;
    }
    /* codec.event_content's canonical JSON: its keys in sorted order */
    b->n = 0;
    if (buf_put(b, "{\"action\":", 10) < 0 || buf_json_string(b, e->action, e->n_action) < 0
        || buf_put(b, ",\"actor\":", 9) < 0 || buf_json_string(b, e->actor, e->n_actor) < 0
        || buf_put(b, ",\"actor_user_id\":", 17) < 0) return -1;
    if (e->uid_null ? buf_put(b, "null", 4) : buf_int(b, e->uid)) return -1;
    if (buf_put(b, ",\"occurred_at\":", 15) < 0 || buf_json_string(b, at_text, at_n) < 0
        || buf_put(b, ",\"payload\":", 11) < 0 || buf_json_proven(b, e->payload, n_payload) < 0
        || buf_put(b, ",\"prev_hash\":", 13) < 0 || buf_json_string(b, e->prev, e->n_prev) < 0
        || buf_put(b, ",\"seq\":", 7) < 0 || buf_int(b, expected) < 0
        || buf_put(b, ",\"subject_id\":", 14) < 0 || buf_json_string(b, e->sid, e->n_sid) < 0
        || buf_put(b, ",\"subject_type\":", 16) < 0 || buf_json_string(b, e->stype, e->n_stype) < 0
        || buf_put(b, "}", 1) < 0) return -1;
    unsigned char h[32];
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, b->p, b->n);
    SHA256_Final(h, &c);
    if (!hex_is(e->hash, h)) return HAND;
    if (w->unknown_rooted) return HAND;
    for (Py_ssize_t j = 0; j < w->nitems; j++)
        if (vouch_item(&w->items[j], s, expected) < 0) return -1;
    return DONE;
}

/* A row tuple's fields: HAND unless each is of the type the chain's columns give. */
static int tuple_event(Walk *w, Buf *b, PyObject *row, long long expected, PyObject *prev, const char *at_text,
                       Py_ssize_t at_n) {
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 10) return HAND;
    PyObject **f = &PyTuple_GET_ITEM(row, 0);
    Ev e = {0};
    int overflow = 0;
    if (!PyLong_CheckExact(f[0])) return HAND;
    e.seq = PyLong_AsLongLongAndOverflow(f[0], &overflow);
    if (overflow || (e.seq == -1 && PyErr_Occurred())) { PyErr_Clear(); return HAND; }
    Py_ssize_t n_prev_now;
    const char *prev_now = utf8(prev, &n_prev_now);
    if (!prev_now || !(e.actor = utf8(f[3], &e.n_actor)) || !(e.stype = utf8(f[4], &e.n_stype))
        || !(e.sid = utf8(f[5], &e.n_sid)) || !(e.action = utf8(f[6], &e.n_action))
        || !(e.payload = utf8(f[7], &e.n_payload)) || !(e.prev = utf8(f[8], &e.n_prev)) || !(e.hash = utf8(f[9], &e.n_hash)))
        return HAND;
    e.uid_null = f[2] == Py_None;
    if (!e.uid_null) {
        if (!PyLong_CheckExact(f[2])) return HAND;
        e.uid = PyLong_AsLongLongAndOverflow(f[2], &overflow);
        if (overflow || (e.uid == -1 && PyErr_Occurred())) { PyErr_Clear(); return HAND; }
    }
    return check_event(w, b, &e, expected, prev_now, n_prev_now, at_text, at_n);
}

static PyObject *walk(PyObject *self, PyObject *args) {
    PyObject *rows, *prev, *kinds, *plain, *last_at, *at_text;
    Py_ssize_t start;
    long long expected, stop_seq;
    if (!PyArg_ParseTuple(args, "O!nLULOOOU", &PyList_Type, &rows, &start, &expected, &prev, &stop_seq, &kinds, &plain,
                          &last_at, &at_text))
        return NULL;
    Walk w = {0};
    Buf b = {0};
    PyObject *result = NULL;
    rows = PyList_AsTuple(rows); /* its own references: nothing a call into Python does can take a row away */
    if (!rows) return NULL;
    Py_INCREF(prev);
    Py_INCREF(last_at);
    Py_INCREF(at_text);
    int status = DONE;
    Py_ssize_t i = start, n = PyTuple_GET_SIZE(rows);
    if (start < 0 || start > n) {
        PyErr_SetString(PyExc_IndexError, "start: an index of rows");
        goto out;
    }
    if (load_kinds(kinds, &w) < 0) goto out;
    for (; i < n; i++) {
        PyObject *row = PyTuple_GET_ITEM(rows, i);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 10) { status = HAND; break; }
        PyObject *at = PyTuple_GET_ITEM(row, 1);
        if (at != last_at) { /* a day's settlement writes its events at one clock reading */
            int same = PyObject_RichCompareBool(at, last_at, Py_EQ);
            if (same < 0) goto out;
            if (!same) {
                for (Py_ssize_t k = 0; k < w.nkinds; k++) kind_release(&w.kinds[k]);
                PyObject *text = PyObject_CallOneArg(plain, at);
                if (!text || kinds_attrs(&w) < 0) { Py_XDECREF(text); goto out; }
                if (!PyUnicode_Check(text)) { Py_DECREF(text); status = HAND; break; }
                Py_SETREF(at_text, text);
            }
            Py_INCREF(at);
            Py_SETREF(last_at, at);
        }
        Py_ssize_t at_n;
        const char *at_s = utf8(at_text, &at_n);
        if (!at_s) { status = HAND; break; }
        int r = tuple_event(&w, &b, row, expected, prev, at_s, at_n);
        if (r < 0) goto out;
        if (r == HAND) { status = HAND; break; }
        Py_INCREF(PyTuple_GET_ITEM(row, 9));
        Py_SETREF(prev, PyTuple_GET_ITEM(row, 9));
        expected++;
        if (expected - 1 == stop_seq) { i++; status = CHECKPOINT; break; }
    }
    if (store_counts(&w) < 0) goto out;
    result = Py_BuildValue("(nLOiOO)", i, expected, prev, status, last_at, at_text);
out:
    if (!result) { /* keep Slots.count true to what was written, whatever happens */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (store_counts(&w) < 0) PyErr_Clear();
        PyErr_Restore(type, value, tb);
    }
    Py_DECREF(rows);
    Py_DECREF(prev);
    Py_DECREF(last_at);
    Py_DECREF(at_text);
    for (Py_ssize_t k = 0; k < w.nkinds && w.kinds; k++) kind_release(&w.kinds[k]);
    PyMem_Free(w.kinds);
    PyMem_Free(w.items);
    PyMem_Free(b.p);
    return result;
}

/* ---------------------------------------------------------------- walk over a binary COPY
 * The chain's rows as PostgreSQL's COPY … (FORMAT BINARY) sends them (its tuple format: a 16-bit field count, then
 * each field as a 32-bit length, -1 for NULL, and its bytes, integers big-endian): the columns of verify._CHAIN_COLUMNS,
 * seq and actor_user_id as 4- or 8-byte integers, occurred_at as microseconds since 2000-01-01 UTC, the rest as
 * UTF-8 text (the caller reads it so only from a UTF-8 connection). */
static long long be_int(const unsigned char *p, Py_ssize_t n) {
    unsigned long long v = 0;
    for (Py_ssize_t k = 0; k < n; k++) v = (v << 8) | p[k];
    if (n == 4) return (long long)(int32_t)(uint32_t)v;
    return (long long)v;
}

/* One field at *pos: 0 (its bytes in *s, *n; *s NULL for NULL) or -1 when the row ends short. */
static int copy_field(const unsigned char *d, Py_ssize_t end, Py_ssize_t *pos, const char **s, Py_ssize_t *n) {
    if (*pos + 4 > end) return -1;
    long long len = be_int(d + *pos, 4);
    *pos += 4;
    if (len < 0) { *s = NULL; *n = 0; return 0; }
    if (len > end - *pos) return -1;
    *s = (const char *)d + *pos;
    *n = (Py_ssize_t)len;
    *pos += len;
    return 0;
}

/* The row at *pos: 0 with its fields and *pos after it, or HAND (nothing read) when it is not a row of the
 * chain's columns as the walk takes them. */
static int copy_row(const unsigned char *d, Py_ssize_t end, Py_ssize_t *pos, Ev *e, long long *micros) {
    Py_ssize_t p = *pos;
    if (p + 2 > end || be_int(d + p, 2) != 10) return HAND;
    p += 2;
    const char *f[10];
    Py_ssize_t n[10];
    for (int k = 0; k < 10; k++)
        if (copy_field(d, end, &p, &f[k], &n[k]) < 0) return HAND;
    if (!f[0] || (n[0] != 8 && n[0] != 4) || !f[1] || n[1] != 8) return HAND;
    e->seq = be_int((const unsigned char *)f[0], n[0]);
    *micros = be_int((const unsigned char *)f[1], 8);
    e->uid_null = f[2] == NULL;
    if (!e->uid_null) {
        if (n[2] != 8 && n[2] != 4) return HAND;
        e->uid = be_int((const unsigned char *)f[2], n[2]);
    }
    for (int k = 3; k < 10; k++)
        if (!f[k]) return HAND;
    e->actor = f[3], e->n_actor = n[3], e->stype = f[4], e->n_stype = n[4], e->sid = f[5], e->n_sid = n[5];
    e->action = f[6], e->n_action = n[6], e->payload = f[7], e->n_payload = n[7];
    e->prev = f[8], e->n_prev = n[8], e->hash = f[9], e->n_hash = n[9];
    *pos = p;
    return 0;
}

static PyObject *walk_copy(PyObject *self, PyObject *args) {
    Py_buffer data;
    PyObject *prev, *kinds, *at_of, *at_text;
    Py_ssize_t start;
    long long expected, stop_seq, last_micros;
    if (!PyArg_ParseTuple(args, "y*nLULOOLU", &data, &start, &expected, &prev, &stop_seq, &kinds, &at_of, &last_micros,
                          &at_text))
        return NULL;
    Walk w = {0};
    Buf b = {0};
    PyObject *result = NULL;
    Py_INCREF(at_text);
    const unsigned char *d = data.buf;
    Py_ssize_t end = data.len, pos = start;
    Py_ssize_t n_prev;
    const char *prev_s = utf8(prev, &n_prev); /* then the hash of the row before, in `data` (held for the call) */
    int status = DONE;
    if (!prev_s) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "prev: a str");
        goto out;
    }
    if (start < 0 || start > end) {
        PyErr_SetString(PyExc_IndexError, "start: an offset of data");
        goto out;
    }
    if (load_kinds(kinds, &w) < 0) goto out;
    while (pos < end) {
        Ev e = {0};
        long long micros;
        Py_ssize_t next = pos;
        if (copy_row(d, end, &next, &e, &micros) == HAND) { status = HAND; break; }
        if (micros != last_micros) { /* a day's settlement writes its events at one clock reading */
            for (Py_ssize_t k = 0; k < w.nkinds; k++) kind_release(&w.kinds[k]);
            PyObject *text = PyObject_CallFunction(at_of, "L", micros);
            if (!text || kinds_attrs(&w) < 0) { Py_XDECREF(text); goto out; }
            if (!PyUnicode_Check(text)) { Py_DECREF(text); status = HAND; break; } /* not an instant Python has */
            Py_SETREF(at_text, text);
            last_micros = micros;
        }
        Py_ssize_t at_n;
        const char *at_s = utf8(at_text, &at_n);
        if (!at_s) { status = HAND; break; }
        int r = check_event(&w, &b, &e, expected, prev_s, n_prev, at_s, at_n);
        if (r < 0) goto out;
        if (r == HAND) { status = HAND; break; }
        prev_s = e.hash;
        n_prev = e.n_hash;
        pos = next;
        expected++;
        if (expected - 1 == stop_seq) { status = CHECKPOINT; break; }
    }
    if (store_counts(&w) < 0) goto out;
    result = Py_BuildValue("(nLs#iLO)", pos, expected, prev_s, n_prev, status, last_micros, at_text);
out:
    if (!result) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (store_counts(&w) < 0) PyErr_Clear();
        PyErr_Restore(type, value, tb);
    }
    Py_DECREF(at_text);
    for (Py_ssize_t k = 0; k < w.nkinds && w.kinds; k++) kind_release(&w.kinds[k]);
    PyMem_Free(w.kinds);
    PyMem_Free(w.items);
    PyMem_Free(b.p);
    PyBuffer_Release(&data);
    return result;
}

/* ---------------------------------------------------------------- a COPY's rows from libpq
 * copy_read(conn, get_copy_data, freemem, at_least) -> (bytes, status): the rows of a COPY … TO STDOUT in
 * progress on libpq's connection `conn`, through that libpq's PQgetCopyData and PQfreemem (the addresses: the
 * caller finds the libpq the driver runs on, pgcopy._libpq), one message after another (waiting for each), until
 * at least `at_least` bytes are read (at least one message): a loop in C instead of one call per row from Python,
 * the GIL released while it waits. The trailer (the count
 * -1) is left out. status: PQgetCopyData's last answer when it stopped the loop (-1 the stream's end, -2 a
 * failure of libpq's: its message in PQerrorMessage), else 0. */
typedef int (*get_copy_data_fn)(void *conn, char **buffer, int async);
typedef void (*freemem_fn)(void *ptr);

static PyObject *copy_read(PyObject *self, PyObject *args) {
    unsigned long long conn_p, get_p, free_p;
    Py_ssize_t at_least;
    if (!PyArg_ParseTuple(args, "KKKn", &conn_p, &get_p, &free_p, &at_least)) return NULL;
    if (!conn_p || !get_p || !free_p) {
        PyErr_SetString(PyExc_ValueError, "copy_read: a null pointer");
        return NULL;
    }
    get_copy_data_fn get = (get_copy_data_fn)(uintptr_t)get_p;
    freemem_fn freemem = (freemem_fn)(uintptr_t)free_p;
    Buf b = {0};
    int status = 0;
    do { /* at least one message */
        char *msg = NULL;
        int n;
        Py_BEGIN_ALLOW_THREADS /* (waiting on the network) */
        n = get((void *)(uintptr_t)conn_p, &msg, 0);
        Py_END_ALLOW_THREADS
        if (n < 0) { status = n; break; }
        int ok = n == 2 && (unsigned char)msg[0] == 0xff && (unsigned char)msg[1] == 0xff ? 0 : buf_put(&b, msg, n);
        if (msg) freemem(msg);
        if (ok < 0 || PyErr_CheckSignals() < 0) { PyMem_Free(b.p); return NULL; } /* (Ctrl-C: the caller cancels) */
    } while (b.n < at_least);
    PyObject *data = PyBytes_FromStringAndSize(b.p ? b.p : "", b.n);
    PyMem_Free(b.p);
    if (!data) return NULL;
    return Py_BuildValue("(Ni)", data, status);
}

/* ---------------------------------------------------------------- table rows
 * The 16-byte digests of rows (id, v1, v2, …) of a JSON-native table: leaf("id", canonical {key: value}), keys
 * written in `order` (the column indices in sorted key order) with `keys` their JSON text. None when a value is
 * not an int (within 64 bits), a str, a bool or None: the Python path does the page. */
static int put_int(Buf *b, PyObject *v) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) { PyErr_Clear(); return 1; }
    return buf_int(b, x) < 0 ? -1 : 0;
}

static PyObject *row_digests(PyObject *self, PyObject *args) {
    PyObject *rows, *order, *keys;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyList_Type, &rows, &PyTuple_Type, &order, &PyTuple_Type, &keys)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(rows), m = PyTuple_GET_SIZE(order);
    if (PyTuple_GET_SIZE(keys) != m) { PyErr_SetString(PyExc_ValueError, "order and keys differ in length"); return NULL; }
    Py_ssize_t cols[256];
    if (m > 256) Py_RETURN_NONE;
    for (Py_ssize_t j = 0; j < m; j++) {
        cols[j] = PyLong_AsSsize_t(PyTuple_GET_ITEM(order, j));
        if (cols[j] == -1 && PyErr_Occurred()) return NULL;
        if (!PyBytes_Check(PyTuple_GET_ITEM(keys, j))) { PyErr_SetString(PyExc_TypeError, "keys: bytes"); return NULL; }
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, 16 * n);
    if (!out) return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    Buf b = {0}, id = {0};
    int bad = 0;
    for (Py_ssize_t r = 0; r < n && !bad; r++) {
        PyObject *row = PyList_GET_ITEM(rows, r);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) <= m) { bad = 1; break; }
        b.n = id.n = 0;
        PyObject *rid = PyTuple_GET_ITEM(row, 0);
        if (!PyLong_CheckExact(rid)) { bad = 1; break; }
        int e = put_int(&id, rid);
        if (e) { bad = e; break; }
        if (buf_put(&b, "{", 1) < 0) { bad = -1; break; }
        for (Py_ssize_t j = 0; j < m; j++) {
            PyObject *key = PyTuple_GET_ITEM(keys, j);
            if (cols[j] < 1 || cols[j] >= PyTuple_GET_SIZE(row)) { bad = 1; break; }
            PyObject *v = PyTuple_GET_ITEM(row, cols[j]);
            if ((j && buf_put(&b, ",", 1) < 0) || buf_put(&b, PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key)) < 0
                || buf_put(&b, ":", 1) < 0) { bad = -1; break; }
            if (v == Py_None) e = buf_put(&b, "null", 4);
            else if (v == Py_True) e = buf_put(&b, "true", 4);
            else if (v == Py_False) e = buf_put(&b, "false", 5);
            else if (PyLong_CheckExact(v)) e = put_int(&b, v);
            else if (PyUnicode_CheckExact(v)) {
                Py_ssize_t sn;
                const char *sv = utf8(v, &sn);
                e = sv ? buf_json_string(&b, sv, sn) : 1;
            } else e = 1;
            if (e) { bad = e; break; }
        }
        if (bad || buf_put(&b, "}", 1) < 0) { bad = bad ? bad : -1; break; }
        unsigned char h[32];
        leaf_hash(id.p, id.n, (const unsigned char *)b.p, b.n, h);
        memcpy(o + 16 * r, h, 16);
    }
    PyMem_Free(b.p);
    PyMem_Free(id.p);
    if (bad) {
        Py_DECREF(out);
        if (bad < 0) return NULL;
        Py_RETURN_NONE;
    }
    return out;
}

/* ---------------------------------------------------------------- Merkle reduction (_format.h) */
static PyObject *merkle_node(PyObject *self, PyObject *arg) { return merkle_node_of(arg); }

/* ---------------------------------------------------------------- is_canonical (tests: against codec) */
static PyObject *proven_canonical(PyObject *self, PyObject *arg) {
    Py_ssize_t n;
    const char *s = utf8(arg, &n);
    if (!s) Py_RETURN_FALSE;
    return PyBool_FromLong(skip_value((const unsigned char *)s, 0, n, 1) == n);
}

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS, "Walk chain rows from `start` while each event is provably good; see verify.py."},
    {"walk_copy", walk_copy, METH_VARARGS, "Walk binary COPY rows from an offset while each event is provably good; see verify.py."},
    {"copy_read", copy_read, METH_VARARGS, "Read a COPY's rows through libpq until at least a size: see pgcopy.py."},
    {"row_digests", row_digests, METH_VARARGS, "16-byte leaf digests of JSON-native table rows, or None."},
    {"merkle_node", merkle_node, METH_O, "The one node a level of 32-byte hashes reduces to (docs/ledger-format.md §6)."},
    {"proven_canonical", proven_canonical, METH_O, "Whether the C check proves a text canonical (False: not proven)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, methods};

PyMODINIT_FUNC PyInit__core(void) {
    init_tables();
    return PyModule_Create(&module);
}
