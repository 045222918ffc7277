/* ccer_verify._fast — the optional compiled accelerator of the stand-alone verifier: an event line of the export
 * (docs/ledger-format.md §9.3) checked in one call, on the format's mechanics in _format.h (the same file the
 * platform's verification core is built from).
 *
 *   event_line(raw: bytes, rooted: tuple[(type, field, pending), ...]) -> (seq, hash, prev_hash) | None
 *   event_lines(data, pos, rooted, seq, hash, trust_seq) -> (pos, lines, seq, hash): the same, for the lines that
 *       follow on from the event before them, many in one call (no object per line)
 *
 * It only ever *accepts*: the line valid UTF-8 and canonical JSON (§2) with exactly the ten members of §1 and their
 * types; its hash the SHA-256 of the line without its hash member (§3, §9); the payload its own canonical text.
 * Then the rooted states the payload vouches for go, in its order (§5: "state", then "states"), into their type's
 * `pending` dict by id (a canonical decimal id as its number: how ids sort, §6): the Merkle leaf hash when the
 * type's field is true, False when it is not. Anything else — a checkpoint line, a float, an escape in a key, a
 * wrong hash — gives None with nothing written, and the Python path decides and words it, so the verdicts and
 * messages are the verifier's own with or without this module. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>

#define KIND_EXTRA PyObject *pending; /* its states by id, for the next checkpoint */
#include "_format.h"

/* Well-formed UTF-8 (no overlong forms, no surrogates, nothing beyond U+10FFFF): what bytes.decode("utf-8") takes. */
static int valid_utf8(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        if (i + 8 <= n) { /* eight ASCII bytes at a time */
            uint64_t word;
            memcpy(&word, s + i, 8);
            if (!(word & 0x8080808080808080ULL)) { i += 8; continue; }
        }
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        int len;
        unsigned int cp;
        if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n) return 0;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += len;
    }
    return 1;
}

/* The ten members of an event line, in their (sorted) order. */
static const char *MEMBERS[] = {"action", "actor", "actor_user_id", "hash", "occurred_at", "payload", "prev_hash", "seq",
                                "subject_id", "subject_type"};
enum { ACTION, ACTOR, UID, HASH, AT, PAYLOAD, PREV, SEQ, SID, STYPE, NMEMBERS };

typedef struct {
    Py_ssize_t k0[NMEMBERS], v0[NMEMBERS], v1[NMEMBERS]; /* each member's key and value spans */
    int seen;
    int escaped[NMEMBERS];
} Line;

static Py_ssize_t line_member(void *ctx, const unsigned char *s, Py_ssize_t n, int depth, const unsigned char *key,
                              Py_ssize_t kn, Py_ssize_t v0) {
    Line *line = ctx;
    int m = line->seen; /* keys come sorted and strictly increasing: the next one must be MEMBERS[seen] */
    if (v0 >= n) return -1;
    if (m >= NMEMBERS || (Py_ssize_t)strlen(MEMBERS[m]) != kn || memcmp(key, MEMBERS[m], kn) != 0) return -1;
    if (m == UID ? !(s[v0] == 'n' || s[v0] == '-' || (s[v0] >= '0' && s[v0] <= '9'))
                 : m == SEQ ? !(s[v0] == '-' || (s[v0] >= '0' && s[v0] <= '9')) : s[v0] != '"')
        return -1; /* §1's types: strings, seq an integer, actor_user_id an integer or null */
    Py_ssize_t v = s[v0] == '"' ? skip_string(s, v0, n, &line->escaped[m]) : skip_value(s, v0, n, depth);
    if (v < 0) return -1;
    line->k0[m] = (const unsigned char *)key - s - 1;
    line->v0[m] = v0;
    line->v1[m] = v;
    line->seen++;
    return v;
}

/* A JSON string's value (its span, quotes included; escapes as _format.h proves them: the short ones and \u00xx).
 * With SSE2, 16 bytes at a time are stored as they are and kept up to the first backslash. */
static int unescape(Buf *b, const unsigned char *s, Py_ssize_t v0, Py_ssize_t v1) {
    b->n = 0;
    if (buf_reserve(b, v1 - v0 + 16) < 0) return -1;
    unsigned char *o = (unsigned char *)b->p;
    const Py_ssize_t end = v1 - 1;
    for (Py_ssize_t i = v0 + 1; i < end; i++) {
#if defined(__SSE2__)
        if (i + 16 <= end) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            _mm_storeu_si128((__m128i *)o, v);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
            if (!m) {
                o += 16;
                i += 15;
                continue;
            }
            unsigned k = (unsigned)__builtin_ctz(m);  /* the bytes before it are in place; s[i] the backslash */
            o += k;
            i += k;
        }
#endif
        if (s[i] != '\\') { *o++ = s[i]; continue; }
        unsigned char e = s[++i];
        switch (e) {
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                unsigned char h = s[i + 3], l = s[i + 4];
                *o++ = (unsigned char)(((h <= '9' ? h - '0' : h - 'a' + 10) << 4) | (l <= '9' ? l - '0' : l - 'a' + 10));
                i += 4;
                break;
            }
            default: *o++ = e; /* '"' and '\' */
        }
    }
    b->n = (char *)o - b->p;
    return 0;
}

static PyObject *span_str(const unsigned char *s, Py_ssize_t v0, Py_ssize_t v1) {
    return PyUnicode_DecodeUTF8((const char *)s + v0 + 1, v1 - v0 - 2, "strict");
}

/* An id as the verifier keys it (_key_of): a canonical decimal integer (ASCII digits, no leading zero) of at most
 * 640 digits as the number, any other id as its text. */
static PyObject *id_key(const char *s, Py_ssize_t n) {
    int digits = n > 0 && n <= 640 && (s[0] != '0' || n == 1);
    for (Py_ssize_t i = 0; digits && i < n; i++) digits = s[i] >= '0' && s[i] <= '9';
    if (!digits) return PyUnicode_DecodeUTF8(s, n, "strict");
    if (n <= 18) {
        long long v = 0;
        for (Py_ssize_t i = 0; i < n; i++) v = 10 * v + (s[i] - '0');
        return PyLong_FromLongLong(v);
    }
    PyObject *text = PyUnicode_FromStringAndSize(s, n), *v = text ? PyLong_FromUnicodeObject(text, 10) : NULL;
    Py_XDECREF(text);
    return v;
}

/* The rooted types (type, field, pending) into `w` (its kinds hold borrowed references: `rooted` outlives them). */
static int load_rooted(PyObject *rooted, Walk *w) {
    w->nkinds = PyTuple_GET_SIZE(rooted);
    w->kinds = PyMem_Calloc(w->nkinds ? w->nkinds : 1, sizeof(Kind));
    if (!w->kinds) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t k = 0; k < w->nkinds; k++) {
        PyObject *name, *field, *pending;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(rooted, k), "UUO!", &name, &field, &PyDict_Type, &pending)) return -1;
        Kind *kind = &w->kinds[k];
        kind->pending = pending;
        if (!(kind->name = PyUnicode_AsUTF8AndSize(name, &kind->name_n))
            || !(kind->field = PyUnicode_AsUTF8AndSize(field, &kind->field_n)))
            return -1;
        kind->rooted = 1;
    }
    return 0;
}

/* What a line must follow on from (event_lines): the event before it, and the seq the Python path is to see. */
typedef struct {
    long long seq, trust;
    const char *hash;
    Py_ssize_t hash_n;
} After;

/* One line s[0:n] (without its newline): 1 when accepted (its rooted states written into their pending dicts, its
 * seq in *seq, its members' spans in *line), 0 when the Python path is to decide it (nothing written), -1 on a
 * Python error. after: NULL, or the event the line must follow on from (and a seq it must not have). */
static int check_line(Walk *w, Buf *payload, const unsigned char *s, Py_ssize_t n, long long *seq, Line *line,
                      const After *after) {
    memset(line, 0, sizeof *line);
    w->nitems = 0;
    w->unknown_rooted = 0;
    /* the line: UTF-8, canonical, the ten members with their types */
    if (n < 2 || s[0] != '{' || !valid_utf8(s, n)) return 0;
    if (skip_object(s, 0, n, 1, line_member, line) != n || line->seen != NMEMBERS) return 0;
    if (line->v1[HASH] - line->v0[HASH] != 66 || line->escaped[HASH] || line->escaped[PREV] || line->escaped[STYPE]
        || line->escaped[SID])
        return 0;
    for (Py_ssize_t i = line->v0[HASH] + 1; i < line->v1[HASH] - 1; i++)
        if (!is_lower_hex(s[i])) return 0;
    /* seq: an integer of at most 18 digits */
    *seq = 0;
    {
        Py_ssize_t i = line->v0[SEQ], e = line->v1[SEQ];
        int neg = s[i] == '-';
        if (e - i - neg > 18) return 0;
        for (i += neg; i < e; i++) *seq = 10 * *seq + (s[i] - '0');
        if (neg) *seq = -*seq;
    }
    /* (before the hash: a line that does not follow on is the Python path's however good it is) */
    if (after && (*seq != after->seq + 1 || *seq == after->trust || line->v1[PREV] - line->v0[PREV] - 2 != after->hash_n
                  || memcmp(s + line->v0[PREV] + 1, after->hash, after->hash_n) != 0))
        return 0;
    /* §3, §9: the hash of the line without its hash member (from the comma before it to the end of its value) */
    {
        SHA256_CTX c;
        unsigned char h[32];
        Py_ssize_t cut0 = line->k0[HASH] - 1, cut1 = line->v1[HASH];
        SHA256_Init(&c);
        SHA256_Update(&c, s, cut0);
        SHA256_Update(&c, s + cut1, n - cut1);
        SHA256_Final(h, &c);
        if (!hex_is((const char *)s + line->v0[HASH] + 1, h)) return 0;
    }
    /* the payload: its own canonical text, and the rooted states it vouches for */
    if (unescape(payload, s, line->v0[PAYLOAD], line->v1[PAYLOAD]) < 0) return -1;
    const unsigned char *p = (const unsigned char *)payload->p;
    Py_ssize_t pn = payload->n;
    w->state0 = -1;
    if (pn && p[0] == '{') {
        if (skip_object(p, 0, pn, 1, top_member, w) != pn) return PyErr_Occurred() ? -1 : 0;
        Py_ssize_t others = w->nitems;
        const char *stype = (const char *)s + line->v0[STYPE] + 1, *sid = (const char *)s + line->v0[SID] + 1;
        if (w->state0 >= 0 && add_item(w, stype, line->v1[STYPE] - line->v0[STYPE] - 2, sid, line->v1[SID] - line->v0[SID] - 2,
                                       w->state0, w->state1) < 0)
            return -1;
        if (w->nitems > others && others) { /* its own state first (§5) */
            Item own = w->items[w->nitems - 1];
            memmove(w->items + 1, w->items, (w->nitems - 1) * sizeof(Item));
            w->items[0] = own;
        }
    } else if (skip_value(p, 0, pn, 1) != pn) {
        return 0;
    }
    for (Py_ssize_t j = 0; j < w->nitems; j++) {
        Item *it = &w->items[j];
        PyObject *key = id_key(it->id, it->id_n), *leaf;
        if (!key) return -1;
        if (kept(it->kind, p, it->v0, it->v1)) {
            unsigned char h[32];
            leaf_hash(it->id, it->id_n, p + it->v0, it->v1 - it->v0, h);
            leaf = PyBytes_FromStringAndSize((const char *)h, 32);
        } else {
            leaf = Py_NewRef(Py_False);
        }
        int r = leaf ? PyDict_SetItem(it->kind->pending, key, leaf) : -1;
        Py_DECREF(key);
        Py_XDECREF(leaf);
        if (r < 0) return -1;
    }
    return 1;
}

/* A call's line state handed back (the walk's kinds and items, the payload buffer, the data), its result passed on. */
static PyObject *finished(Walk *w, Buf *payload, Py_buffer *view, PyObject *result) {
    PyMem_Free(w->kinds);
    PyMem_Free(w->items);
    PyMem_Free(payload->p);
    PyBuffer_Release(view);
    return result;
}

static PyObject *event_line(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *rooted;
    if (!PyArg_ParseTuple(args, "y*O!", &view, &PyTuple_Type, &rooted)) return NULL;
    const unsigned char *s = view.buf;
    Walk w = {0};
    Buf payload = {0};
    PyObject *result = NULL;
    Line line;
    long long seq;
    int r = load_rooted(rooted, &w) < 0 ? -1 : check_line(&w, &payload, s, view.len, &seq, &line, NULL);
    if (r == 1) {
        PyObject *hash = span_str(s, line.v0[HASH], line.v1[HASH]), *prev = span_str(s, line.v0[PREV], line.v1[PREV]);
        if (hash && prev) result = Py_BuildValue("(LOO)", seq, hash, prev);
        Py_XDECREF(hash);
        Py_XDECREF(prev);
    } else if (r == 0) {
        result = Py_NewRef(Py_None);
    }
    return finished(&w, &payload, &view, result);
}

/* event_lines(data, pos, rooted, seq, hash, trust_seq) -> (pos, lines, seq, hash): the event lines of `data` from
 * offset `pos` that `event_line` accepts and that follow on from the event before them (seq + 1, prev_hash its
 * hash) — each line ended by its newline — checked in one call, without an object per line. It stops before the
 * first line it does not take (another kind of line, a gap, a break in the chain, the event of seq `trust_seq`, a
 * line without its newline) and gives where: the Python path decides that line, and every verdict and message
 * stays its own. seq, hash: the last event's, as they were given when no line was taken. */
static PyObject *event_lines(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos;
    PyObject *rooted, *hash;
    long long seq, trust;
    if (!PyArg_ParseTuple(args, "y*nO!LUL", &view, &pos, &PyTuple_Type, &rooted, &seq, &hash, &trust)) return NULL;
    const unsigned char *s = view.buf;
    Py_ssize_t n = view.len, taken = 0, hn;
    Walk w = {0};
    Buf payload = {0};
    PyObject *result = NULL;
    After after = {seq, trust, PyUnicode_AsUTF8AndSize(hash, &hn), 0}; /* the last event: in `hash`, then in `data` */
    after.hash_n = hn;
    if (!after.hash || pos < 0 || pos > n) {
        if (after.hash) PyErr_SetString(PyExc_IndexError, "pos: an offset of data");
        goto out;
    }
    if (load_rooted(rooted, &w) < 0) goto out;
    while (pos < n) {
        const unsigned char *nl = memchr(s + pos, '\n', n - pos);
        if (!nl) break;
        Py_ssize_t len = nl - (s + pos);
        Line line;
        long long got;
        int r = check_line(&w, &payload, s + pos, len, &got, &line, &after);
        if (r < 0) goto out;
        if (!r) break;
        after.seq = got;
        /* (an accepted line's hash is 64 lowercase hex digits, unescaped: its span is its text) */
        after.hash = (const char *)s + pos + line.v0[HASH] + 1;
        after.hash_n = 64;
        taken++;
        pos += len + 1;
    }
    {
        PyObject *last = taken ? PyUnicode_DecodeASCII(after.hash, 64, "strict") : Py_NewRef(hash);
        if (last) result = Py_BuildValue("(nnLN)", pos, taken, after.seq, last);
    }
out:
    return finished(&w, &payload, &view, result);
}

/* place(present, hashes, sets, dels) -> (sets left, dels left): the leaf changes of a rooted type written into its
 * flat arrays (present: 1 byte per id, hashes: 32) — dels first, then sets ({id: 32-byte hash}), as the verifier
 * applies them; the ids that are not integers inside the arrays are returned for the caller to keep otherwise. */
static PyObject *place(PyObject *self, PyObject *args) {
    Py_buffer present, hashes;
    PyObject *sets, *dels, *left_sets = NULL, *left_dels = NULL, *result = NULL;
    if (!PyArg_ParseTuple(args, "w*w*O!O!", &present, &hashes, &PyDict_Type, &sets, &PyList_Type, &dels)) return NULL;
    Py_ssize_t size = present.len < hashes.len / 32 ? present.len : hashes.len / 32;
    unsigned char *p = present.buf, *h = hashes.buf;
    if (!(left_sets = PyDict_New()) || !(left_dels = PyList_New(0))) goto done;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(dels); j++) {
        PyObject *k = PyList_GET_ITEM(dels, j);
        int overflow = 0;
        long long i = PyLong_CheckExact(k) ? PyLong_AsLongLongAndOverflow(k, &overflow) : -1;
        if (i >= 0 && !overflow && i < size) p[i] = 0;
        else if (PyList_Append(left_dels, k) < 0) goto done;
    }
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(sets, &pos, &k, &v)) {
        int overflow = 0;
        long long i = PyLong_CheckExact(k) ? PyLong_AsLongLongAndOverflow(k, &overflow) : -1;
        if (i >= 0 && !overflow && i < size && PyBytes_CheckExact(v) && PyBytes_GET_SIZE(v) == 32) {
            p[i] = 1;
            memcpy(h + 32 * i, PyBytes_AS_STRING(v), 32);
        } else if (PyDict_SetItem(left_sets, k, v) < 0) {
            goto done;
        }
    }
    result = PyTuple_Pack(2, left_sets, left_dels);
done:
    Py_XDECREF(left_sets);
    Py_XDECREF(left_dels);
    PyBuffer_Release(&present);
    PyBuffer_Release(&hashes);
    return result;
}

static PyObject *merkle_node(PyObject *self, PyObject *arg) { return merkle_node_of(arg); }

static PyObject *gather(PyObject *self, PyObject *args) { return gather_of(args); }

static PyMethodDef methods[] = {
    {"event_line", event_line, METH_VARARGS, "An event line checked in one call, or None: see the module's comment."},
    {"event_lines", event_lines, METH_VARARGS, "event_lines(data, pos, rooted, seq, hash, trust_seq): see the comment."},
    {"merkle_node", merkle_node, METH_O, "The one node a level of 32-byte hashes reduces to (docs/ledger-format.md §6)."},
    {"place", place, METH_VARARGS, "place(present, hashes, sets, dels) -> (sets left, dels left): see the comment."},
    {"gather", gather, METH_VARARGS, "gather(present, hashes, a, b): the hashes of the ids in [a, b) present, in order."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fast", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fast(void) {
    init_tables();
    return PyModule_Create(&module);
}
