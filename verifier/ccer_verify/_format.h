/* The ledger format's mechanics in C (docs/ledger-format.md §2 canonical JSON, §3 the event hash's content, §5 the
 * states a payload vouches for, §6 Merkle leaves), shared by the platform's verification core (ccer/ledger/_core.c)
 * and the stand-alone verifier's optional accelerator (ccer_verify/_fast.c): one implementation, two bindings. It
 * lives beside the verifier so that the verifier's distribution is whole on its own.
 *
 * An accelerator, not a second rule: everything here only ever *accepts* what the Python definition
 * (ccer/ledger/codec.py: Python's json with sorted keys, no spaces, characters as themselves) would accept; a caller
 * hands anything else to its Python path, which decides and words the problem. Include after <Python.h>. */
#ifndef CCER_FORMAT_H
#define CCER_FORMAT_H
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---------------------------------------------------------------- byte buffer */

typedef struct {
    char *p;
    Py_ssize_t n, cap;
} Buf;

static inline int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->n + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra) cap *= 2;
    char *p = PyMem_Realloc(b->p, cap);
    if (!p) { PyErr_NoMemory(); return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline int buf_put(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

/* Bytes a JSON string cannot hold as themselves: '"', '\\' and the controls below 0x20. */
static const char HEX[] = "0123456789abcdef";
static unsigned char SPECIAL[256];
/* '"' and '\\': all a proven canonical text needs escaped inside a JSON string */
static unsigned char QUOTE[256];

static inline void init_tables(void) {
    for (int c = 0; c < 0x20; c++) SPECIAL[c] = 1;
    SPECIAL['"'] = SPECIAL['\\'] = 1;
    QUOTE['"'] = QUOTE['\\'] = 1;
}

/* A JSON string as Python's json writes it with ensure_ascii=False: '"' and '\' escaped, \b \f \n \r \t short,
 * other characters below 0x20 as \u00xx (lowercase hex), everything else as itself (the input is UTF-8). Runs of
 * ordinary bytes are copied whole. */
static inline int buf_json_string(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, 6 * n + 2) < 0) return -1;
    char *o = b->p + b->n;
    const unsigned char *u = (const unsigned char *)s;
    *o++ = '"';
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t j = i;
        while (j < n && !SPECIAL[u[j]]) j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        if (j == n) break;
        unsigned char c = u[j];
        *o++ = '\\';
        switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            default: *o++ = 'u'; *o++ = '0'; *o++ = '0'; *o++ = HEX[c >> 4]; *o++ = HEX[c & 15];
        }
        i = j + 1;
    }
    *o++ = '"';
    b->n = o - b->p;
    return 0;
}

/* buf_json_string of a text proven canonical JSON: it holds no raw control character (canonical JSON escapes
 * them), so only '"' and '\\' are escaped. With SSE2 (every x86-64): 16 bytes at a time are stored as they are,
 * and the output is kept up to the first of them to escape (a payload's are 1 byte in 8: its quotes); the rest one
 * byte at a time, without a branch per byte. */
static inline int buf_json_proven(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, 2 * n + 2 + 16) < 0) return -1;  /* + a block stored beyond what is kept */
    char *o = b->p + b->n;
    *o++ = '"';
    Py_ssize_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        _mm_storeu_si128((__m128i *)o, v);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        if (!m) {
            o += 16;
            i += 16;
            continue;
        }
        unsigned k = (unsigned)__builtin_ctz(m);  /* the bytes before it are in place */
        o += k;
        *o++ = '\\';
        *o++ = s[i + k];
        i += k + 1;
    }
#endif
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        *o = '\\';
        o += QUOTE[c];
        *o++ = (char)c;
    }
    *o++ = '"';
    b->n = o - b->p;
    return 0;
}

/* A 64-bit integer in decimal, as Python's str(int) writes it. */
static inline int buf_int(Buf *b, long long x) {
    char tmp[24];
    int k = 0;
    unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    do { tmp[k++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (buf_reserve(b, k + 1) < 0) return -1;
    if (x < 0) b->p[b->n++] = '-';
    while (k) b->p[b->n++] = tmp[--k];
    return 0;
}

/* ---------------------------------------------------------------- canonical JSON, conservatively
 * Each skip_* returns the index just after a value that is provably canonical, or -1 ("not proven": the Python
 * path decides). Proven: no whitespace; integers only (no fraction or exponent; no -0; at most 640 characters, the
 * lowest int-string limit Python can be set to); strings whose escapes are exactly the ones Python writes; object keys without
 * escapes in strictly increasing order (UTF-8 byte order is code point order, Python's sort_keys order; strictly:
 * no duplicates); nesting at most 64 deep (Python's parser would refuse far deeper). The input is valid UTF-8. */

#define MAX_DEPTH 64

static inline Py_ssize_t skip_value(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, int depth);

static inline int is_lower_hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* The first SPECIAL byte ('"', '\\' or a control character) from i on, or n; with SSE2 16 bytes at a time. */
static inline Py_ssize_t next_special(const unsigned char *s, Py_ssize_t i, Py_ssize_t n) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1f);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                   _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));  /* v <= 0x1f */
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) return i + (Py_ssize_t)__builtin_ctz(m);
    }
#endif
    while (i < n && !SPECIAL[s[i]]) i++;
    return i;
}

static inline Py_ssize_t skip_string(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, int *escaped) {
    i++; /* the opening quote */
    while (i < n) {
        i = next_special(s, i, n);
        if (i >= n) return -1;
        unsigned char c = s[i];
        if (c == '"') return i + 1;
        if (c < 0x20) return -1;
        if (i + 1 >= n) return -1;
        *escaped = 1;
        unsigned char e = s[i + 1];
        if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') { i += 2; continue; }
        if (e != 'u' || i + 5 >= n || s[i + 2] != '0' || s[i + 3] != '0' || !is_lower_hex(s[i + 4]) || !is_lower_hex(s[i + 5]))
            return -1;
        int v = ((s[i + 4] <= '9' ? s[i + 4] - '0' : s[i + 4] - 'a' + 10) << 4) | (s[i + 5] <= '9' ? s[i + 5] - '0' : s[i + 5] - 'a' + 10);
        if (v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t') return -1;
        i += 6;
    }
    return -1;
}

static inline Py_ssize_t skip_number(const unsigned char *s, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t start = i;
    if (s[i] == '-') i++;
    if (i >= n || s[i] < '0' || s[i] > '9') return -1;
    if (s[i] == '0') {
        if (i != start) return -1; /* -0: Python writes 0 */
        i++;
    } else {
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i - start > 640) return -1; /* the lowest int-string limit Python can be set to */
    if (i < n && (s[i] == '.' || s[i] == 'e' || s[i] == 'E' || (s[i] >= '0' && s[i] <= '9'))) return -1;
    return i;
}

static inline int key_before(const unsigned char *a, Py_ssize_t an, const unsigned char *b, Py_ssize_t bn) {
    Py_ssize_t m = an < bn ? an : bn;
    for (Py_ssize_t i = 0; i < m; i++)
        if (a[i] != b[i]) return a[i] < b[i];
    return an < bn;
}

/* An object's members. `member` (when given) is called with each key (without quotes) and the index of its value,
 * and checks the value itself: it returns the index after it, -1 (not proven) or STOP (the caller has what it
 * needed from an object already proven). Without `member` each value is skipped. */
#define STOP (-2)
typedef Py_ssize_t (*member_fn)(void *ctx, const unsigned char *s, Py_ssize_t n, int depth, const unsigned char *key,
                                Py_ssize_t kn, Py_ssize_t v0);

static inline Py_ssize_t skip_object(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, int depth, member_fn member, void *ctx) {
    if (depth > MAX_DEPTH) return -1;
    i++;
    if (i < n && s[i] == '}') return i + 1;
    const unsigned char *last = NULL;
    Py_ssize_t last_n = 0;
    while (i < n) {
        if (s[i] != '"') return -1;
        int escaped = 0;
        Py_ssize_t k = skip_string(s, i, n, &escaped);
        if (k < 0 || escaped || k >= n || s[k] != ':') return -1;
        const unsigned char *key = s + i + 1;
        Py_ssize_t kn = k - i - 2;
        if (last && !key_before(last, last_n, key, kn)) return -1;
        last = key;
        last_n = kn;
        Py_ssize_t v = member ? member(ctx, s, n, depth + 1, key, kn, k + 1) : skip_value(s, k + 1, n, depth + 1);
        if (v == STOP) return STOP;
        if (v < 0 || v >= n) return -1;
        if (s[v] == '}') return v + 1;
        if (s[v] != ',') return -1;
        i = v + 1;
    }
    return -1;
}

static inline Py_ssize_t skip_array(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, int depth) {
    if (depth > MAX_DEPTH) return -1;
    i++;
    if (i < n && s[i] == ']') return i + 1;
    while (i < n) {
        Py_ssize_t v = skip_value(s, i, n, depth + 1);
        if (v < 0 || v >= n) return -1;
        if (s[v] == ']') return v + 1;
        if (s[v] != ',') return -1;
        i = v + 1;
    }
    return -1;
}

static inline Py_ssize_t skip_value(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, int depth) {
    if (i >= n) return -1;
    int escaped = 0;
    switch (s[i]) {
        case '{': return skip_object(s, i, n, depth, NULL, NULL);
        case '[': return skip_array(s, i, n, depth);
        case '"': return skip_string(s, i, n, &escaped);
        case 't': return (n - i >= 4 && memcmp(s + i, "true", 4) == 0) ? i + 4 : -1;
        case 'f': return (n - i >= 5 && memcmp(s + i, "false", 5) == 0) ? i + 5 : -1;
        case 'n': return (n - i >= 4 && memcmp(s + i, "null", 4) == 0) ? i + 4 : -1;
        default: return skip_number(s, i, n);
    }
}

/* ---------------------------------------------------------------- subject kinds and the states a payload vouches for (§5) */

#ifndef KIND_EXTRA
#define KIND_EXTRA
#endif
typedef struct {
    const char *name;
    Py_ssize_t name_n;
    const char *field;        /* the Merkle predicate "member `field` is true" (KeptWhen), or NULL */
    Py_ssize_t field_n;
    int rooted;               /* its states are Merkle leaves (when the predicate holds) */
    KIND_EXTRA                /* what a binding keeps beside it */
} Kind;

typedef struct {
    Kind *kind;
    const char *id;
    Py_ssize_t id_n;
    Py_ssize_t v0, v1;        /* the state's span in the payload */
} Item;

typedef struct {
    Kind *kinds;
    Py_ssize_t nkinds;
    Item *items;
    Py_ssize_t nitems, cap;
    Py_ssize_t state0, state1;
    int unknown_rooted;       /* a rooted kind without a predicate C can evaluate: the Python path vouches */
} Walk;

static inline Kind *find_kind(Walk *w, const char *name, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < w->nkinds; k++)
        if (w->kinds[k].name_n == n && memcmp(w->kinds[k].name, name, n) == 0) return &w->kinds[k];
    return NULL;
}

static inline int add_item(Walk *w, const char *name, Py_ssize_t name_n, const char *id, Py_ssize_t id_n, Py_ssize_t v0, Py_ssize_t v1) {
    Kind *kind = find_kind(w, name, name_n);
    if (!kind) return 0; /* not a registered subject type: nothing to compare it with */
    if (kind->rooted && !kind->field) w->unknown_rooted = 1;
    if (w->nitems == w->cap) {
        Py_ssize_t cap = w->cap ? 2 * w->cap : 16;
        Item *items = PyMem_Realloc(w->items, cap * sizeof(Item));
        if (!items) { PyErr_NoMemory(); return -1; }
        w->items = items;
        w->cap = cap;
    }
    w->items[w->nitems++] = (Item){kind, id, id_n, v0, v1};
    return 0;
}

static inline Py_ssize_t states_member(void *ctx, const unsigned char *s, Py_ssize_t n, int depth, const unsigned char *key,
                                Py_ssize_t kn, Py_ssize_t v0) {
    Py_ssize_t v = skip_value(s, v0, n, depth);
    if (v < 0) return -1;
    /* "type:id", split at the first colon (no colon: the id is empty), as str.partition */
    const unsigned char *colon = memchr(key, ':', kn);
    Py_ssize_t name_n = colon ? colon - key : kn;
    const char *id = colon ? (const char *)colon + 1 : (const char *)key + kn;
    Py_ssize_t id_n = colon ? kn - name_n - 1 : 0;
    return add_item((Walk *)ctx, (const char *)key, name_n, id, id_n, v0, v) < 0 ? -1 : v;
}

/* The payload's own members: "state" (its subject's state) and "states" (the others it touched, read in the
 * same pass that proves them canonical). */
static inline Py_ssize_t top_member(void *ctx, const unsigned char *s, Py_ssize_t n, int depth, const unsigned char *key,
                             Py_ssize_t kn, Py_ssize_t v0) {
    Walk *w = ctx;
    if (kn == 6 && memcmp(key, "states", 6) == 0 && v0 < n && s[v0] == '{')
        return skip_object(s, v0, n, depth, states_member, w);
    Py_ssize_t v = skip_value(s, v0, n, depth);
    if (v >= 0 && kn == 5 && memcmp(key, "state", 5) == 0) { w->state0 = v0; w->state1 = v; }
    return v;
}

/* The id as a flat-array index when it is a canonical non-negative integer below 2^31 (verify._int_id). */
static inline long long int_id(const char *s, Py_ssize_t n) {
    if (n < 1 || n > 10 || (n > 1 && s[0] == '0')) return -1;
    long long v = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = 10 * v + (s[i] - '0');
    }
    return v < (1LL << 31) ? v : -1;
}

/* Whether a state is kept as a Merkle leaf: an object whose member `field` is true (subjects.KeptWhen). Its keys
 * are sorted: the scan stops at the field or at the first key after it. */
typedef struct { const char *field; Py_ssize_t field_n; int kept; } Pred;

static inline Py_ssize_t pred_member(void *ctx, const unsigned char *s, Py_ssize_t n, int depth, const unsigned char *key,
                              Py_ssize_t kn, Py_ssize_t v0) {
    Pred *p = ctx;
    if (kn == p->field_n && memcmp(key, p->field, kn) == 0) {
        p->kept = n - v0 >= 4 && memcmp(s + v0, "true", 4) == 0 && (n - v0 == 4 || s[v0 + 4] == ',' || s[v0 + 4] == '}');
        return STOP;
    }
    if (key_before((const unsigned char *)p->field, p->field_n, key, kn)) return STOP;
    return skip_value(s, v0, n, depth);
}

static inline int kept(Kind *kind, const unsigned char *s, Py_ssize_t v0, Py_ssize_t v1) {
    if (s[v0] != '{') return 0;
    Pred p = {kind->field, kind->field_n, 0};
    skip_object(s, v0, v1, 1, pred_member, &p); /* already proven canonical */
    return p.kept;
}

/* Whether 64 hex digits (lowercase, as the format writes hashes) spell the SHA-256 `h`. */
static inline int hex_is(const char *hex, const unsigned char h[32]) {
    for (int j = 0; j < 32; j++)
        if (hex[2 * j] != HEX[h[j] >> 4] || hex[2 * j + 1] != HEX[h[j] & 15]) return 0;
    return 1;
}

static inline void leaf_hash(const char *id, Py_ssize_t id_n, const unsigned char *text, Py_ssize_t text_n, unsigned char out[32]) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, "\x00", 1);
    SHA256_Update(&c, id, id_n);
    SHA256_Update(&c, "|", 1);
    SHA256_Update(&c, text, text_n);
    SHA256_Final(out, &c);
}

/* ---------------------------------------------------------------- Merkle reduction
 * The one node a level of 32-byte hashes reduces to (§6: SHA-256(0x01 ‖ left ‖ right), pairs from the left, an
 * odd last node carried up), as 32 bytes: both bindings' `merkle_node`. */
static inline PyObject *merkle_node_of(PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len == 0 || view.len % 32) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "a level: a positive multiple of 32 bytes");
        return NULL;
    }
    Py_ssize_t k = view.len / 32;
    unsigned char *level = PyMem_Malloc(view.len);
    if (!level) { PyBuffer_Release(&view); return PyErr_NoMemory(); }
    memcpy(level, view.buf, view.len);
    PyBuffer_Release(&view);
    unsigned char pair[65];
    pair[0] = 0x01;
    while (k > 1) {
        Py_ssize_t j = 0;
        for (Py_ssize_t i = 0; i + 1 < k; i += 2, j++) {
            memcpy(pair + 1, level + 32 * i, 64);
            SHA256_CTX c;
            SHA256_Init(&c);
            SHA256_Update(&c, pair, 65);
            SHA256_Final(level + 32 * j, &c);
        }
        if (k % 2) memmove(level + 32 * j++, level + 32 * (k - 1), 32);
        k = j;
    }
    PyObject *out = PyBytes_FromStringAndSize((const char *)level, 32);
    PyMem_Free(level);
    return out;
}

/* The 32-byte hashes of the ids in [a, b) whose `present` byte is 1, concatenated in id order: the leaves of a
 * window of ids kept in flat arrays (present: 1 byte per id, hashes: 32). */
static inline PyObject *gather_of(PyObject *args) {
    Py_buffer present, hashes;
    Py_ssize_t a, b;
    if (!PyArg_ParseTuple(args, "y*y*nn", &present, &hashes, &a, &b)) return NULL;
    PyObject *out = NULL;
    if (a < 0 || b < a || b > present.len || 32 * b > hashes.len) {
        PyErr_SetString(PyExc_IndexError, "gather: [a, b) within the arrays");
        goto done;
    }
    Py_ssize_t n = 0;
    const unsigned char *p = present.buf;
    for (Py_ssize_t i = a; i < b; i++) n += p[i] == 1;
    out = PyBytes_FromStringAndSize(NULL, 32 * n);
    if (!out) goto done;
    char *o = PyBytes_AS_STRING(out);
    for (Py_ssize_t i = a; i < b; i++)
        if (p[i] == 1) { memcpy(o, (const char *)hashes.buf + 32 * i, 32); o += 32; }
done:
    PyBuffer_Release(&present);
    PyBuffer_Release(&hashes);
    return out;
}

#endif
