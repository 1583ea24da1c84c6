/*
 * Internals of the local DynamoDB service (platform/ddb*.c), shared by its
 * files; not a public interface (that is ddb.h).  The pieces, in the order
 * a request meets them:
 *
 *   errors     ddb_err: the error a request ends with, as the service
 *              names it (ValidationException, ...) and its text;
 *   numbers    ddb_dec: exact decimals of at most 38 digits (ddb_num.c);
 *   values     ddb_val: an AttributeValue tree, from and to DynamoDB JSON,
 *              sizes, order and equality (ddb_value.c);
 *   expressions parsed into ddb_node / ddb_update / ddb_proj trees with
 *              their placeholders resolved (ddb_lex.c, ddb_expr.c,
 *              ddb_reserved.c), evaluated against items (ddb_eval.c,
 *              ddb_update.c);
 *   tables     ddb_table: a table's definition (ddb_table.c);
 *   store      SQLite: the catalog, items, indexes, one write at a time
 *              (ddb_store.c);
 *   requests   typed readers of the request's JSON, the operations
 *              (ddb_req.c, ddb_ops.c, ddb_query.c, ddb_batch.c);
 *   server     the HTTP front (ddb_server.c).
 *
 * Memory: values own their bytes (ddb_val_free); expressions live in a
 * request's arena (ddb_arena) and point at the request's values.
 */
#ifndef NERD_DDB_INT_H
#define NERD_DDB_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonw.h"

/* ---- limits (the service's, spec §3.3) ---- */
#define DDB_MAX_ITEM 409600           /* item size, bytes */
#define DDB_MAX_HASH_KEY 2048         /* partition key value, bytes */
#define DDB_MAX_RANGE_KEY 1024        /* sort key value, bytes */
#define DDB_MAX_DEPTH 32              /* nesting of M and L */
#define DDB_MAX_EXPR 4096             /* one expression's text, bytes */
#define DDB_MAX_PLACEHOLDER 255       /* one #name / :value key, bytes */
#define DDB_MAX_IN 100                /* IN operands */
#define DDB_MAX_UPDATE_OPS 300        /* operators and functions in an UpdateExpression */
#define DDB_MAX_BODY (16u << 20)      /* a request body */
#define DDB_PAGE (1u << 20)           /* Query / Scan page: 1 MB of items read */
#define DDB_MAX_NAME 255              /* table and index names */
#define DDB_MAX_INDEXES 25            /* 20 global + 5 local */
#define DDB_MAX_ATTRDEFS 64
#define DDB_MAX_OUT (64u << 20)       /* a response body */

/* ---- errors ---- */

typedef enum ddb_code {
    DDB_OK = 0,
    DDB_EVALIDATION,    /* 400 ValidationException */
    DDB_ECONDITION,     /* 400 ConditionalCheckFailedException */
    DDB_ENOTFOUND,      /* 400 ResourceNotFoundException */
    DDB_EINUSE,         /* 400 ResourceInUseException */
    DDB_ECANCELED,      /* 400 TransactionCanceledException */
    DDB_EIDEMPOTENT,    /* 400 IdempotentParameterMismatchException */
    DDB_ESERIAL,        /* 400 SerializationException */
    DDB_EUNKNOWNOP,     /* 400 UnknownOperationException */
    DDB_EAUTH,          /* 400 MissingAuthenticationTokenException */
    DDB_ESIGNATURE,     /* 400 IncompleteSignatureException */
    DDB_EINTERNAL,      /* 500 InternalServerError */
    DDB_N_CODES
} ddb_code;

typedef struct ddb_err {
    int code;           /* a ddb_code */
    char msg[1536];
    char *extra;        /* malloc'd JSON members appended to the error body
                         * (",\"Item\":{...}"), or NULL */
} ddb_err;

/* Sets e (code c, printf text) and returns c. */
int ddb_fail(ddb_err *e, ddb_code c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The error's name ("ValidationException") and its __type namespace
 * ("com.amazon.coral.validate#"). */
const char *ddb_strerror(ddb_code c);
const char *ddb_namespace(ddb_code c);
int ddb_status(ddb_code c);           /* 400, or 500 */
/* Writes e's JSON body ({"__type":...,"message":...}) to w. */
void ddb_err_body(const ddb_err *e, jw *w);
void ddb_err_clear(ddb_err *e);       /* frees extra, code 0 */

/* ---- arena (a request's expressions) ---- */

typedef struct ddb_blk ddb_blk;
typedef struct ddb_arena {
    ddb_blk *blk;
    size_t used;        /* bytes allocated, all blocks (capped) */
} ddb_arena;
/* n zeroed bytes from a, or NULL (out of memory or over 64 MB). */
void *ddb_alloc(ddb_arena *a, size_t n);
char *ddb_strndup(ddb_arena *a, const char *s, size_t n);
void ddb_arena_free(ddb_arena *a);

/* ---- numbers (ddb_num.c) ---- */

#define DDB_DIGITS 38
/* ±0.d[0]d[1]...d[nd-1] × 10^exp, d[0] != 0 and d[nd-1] != 0; zero: nd 0. */
typedef struct ddb_dec {
    int neg;
    int exp;            /* -129 .. 126 once validated */
    int nd;
    unsigned char d[DDB_DIGITS + 2];  /* digit values 0..9 */
} ddb_dec;

#define DDB_NUM_TEXT 192      /* enough for any number's plain text */
#define DDB_NUM_KEY 48        /* enough for ddb_dec_key() */

/* Parses s[0..n) (sign, digits, '.', exponent) into d; DDB_EVALIDATION
 * with the service's text when it is no number, out of range or over 38
 * digits. */
int ddb_dec_parse(const char *s, size_t n, ddb_dec *d, ddb_err *e);
/* The canonical plain text of d (no exponent, no trailing fractional
 * zeros, no '+'), NUL-terminated in out[DDB_NUM_TEXT]; its length. */
size_t ddb_dec_format(const ddb_dec *d, char *out);
int ddb_dec_cmp(const ddb_dec *a, const ddb_dec *b);
/* a + b (sub: a - b), exact; DDB_EVALIDATION over 38 digits or range. */
int ddb_dec_add(const ddb_dec *a, const ddb_dec *b, int sub, ddb_dec *out, ddb_err *e);
/* Size the service counts for the number (spec §3.3). */
size_t ddb_dec_size(const ddb_dec *d);
/* Order-preserving bytes of d (memcmp order = numeric order), into
 * out[DDB_NUM_KEY]; their count. */
size_t ddb_dec_key(const ddb_dec *d, unsigned char *out);
/* d from an integer. */
void ddb_dec_from_int(long long v, ddb_dec *d);

/* ---- values (ddb_value.c) ---- */

typedef enum ddb_type {
    DDB_NONE = 0, DDB_S, DDB_N, DDB_B, DDB_BOOL, DDB_NULL, DDB_SS, DDB_NS, DDB_BS, DDB_L, DDB_M
} ddb_type;

typedef struct ddb_val ddb_val;
typedef struct ddb_pair ddb_pair;

struct ddb_val {
    ddb_type type;
    int b;              /* BOOL */
    size_t n;           /* S, N, B: bytes in s; sets, L, M: elements */
    size_t cap;         /* elements allocated in a / m */
    char *s;            /* S (UTF-8), N (canonical text), B (raw): n bytes + NUL */
    ddb_val *a;         /* SS, NS, BS, L: n elements (sets hold S, N or B values) */
    ddb_pair *m;        /* M: n pairs, names unique */
};

struct ddb_pair {
    char *k;            /* attribute name, NUL-terminated */
    size_t kl;
    ddb_val v;
};

/* The type's descriptor ("S", "NS", ...); "" for DDB_NONE. */
const char *ddb_type_name(ddb_type t);
/* The descriptor's type, or DDB_NONE. */
ddb_type ddb_type_of(const char *s, size_t n);

void ddb_val_free(ddb_val *v);          /* frees what v holds; v becomes empty */
int ddb_val_copy(const ddb_val *src, ddb_val *dst);   /* 0, or -1 out of memory */
/* Scalar constructors (copying s); 0 or -1. */
int ddb_val_str(ddb_val *v, ddb_type t, const char *s, size_t n);
int ddb_val_num(ddb_val *v, const ddb_dec *d);

/* An AttributeValue from JSON ({"S":"x"}, ...), validated as the service
 * validates request values: DDB_ESERIAL for JSON of the wrong shape,
 * DDB_EVALIDATION for empty sets, duplicates, bad numbers, NULL false, ... */
int ddb_val_from_json(json_t *j, ddb_val *out, ddb_err *e);
/* An item / key map ({"name":{AttributeValue},...}) into out (type M). */
int ddb_map_from_json(json_t *j, ddb_val *out, ddb_err *e);
/* Writes v as DynamoDB JSON: ddb_val_write {"S":"x"}, ddb_map_write the
 * members of M as an object {"a":{...},...}. */
void ddb_val_write(jw *w, const ddb_val *v);
void ddb_map_write(jw *w, const ddb_val *m);
/* Shape checks of request members shared with ddb_req.c: a string
 * member (type "String" in messages), a Boolean member, and a Boolean's
 * value (true/false or the strings the service converts). */
int ddb__shape_string(json_t *j, const char *type, ddb_err *e);
int ddb__shape_bool(json_t *j, ddb_err *e);
int ddb__bool_of(json_t *j);
/* The JSON of a map as stored (ddb_map_write's), malloc'd; NULL when out
 * of memory. */
char *ddb_map_json(const ddb_val *m, size_t *len);
/* Item JSON as stored (ddb_map_write's output) back into a value: 0, or
 * -1 (not such JSON). */
int ddb_map_parse(const char *json, size_t len, ddb_val *out);

/* The service's size of a value and of an item (names + values). */
size_t ddb_val_size(const ddb_val *v);
size_t ddb_item_size(const ddb_val *m);

/* Structural equality (sets in any order, numbers numerically). */
int ddb_val_equal(const ddb_val *a, const ddb_val *b);
/* Order of two S, N or B values of the same type (bytes, numbers). */
int ddb_val_cmp(const ddb_val *a, const ddb_val *b);
/* Parses an N value's text (already canonical). */
void ddb_val_dec(const ddb_val *v, ddb_dec *d);

/* Maps (type M). */
ddb_val *ddb_map_get(const ddb_val *m, const char *k, size_t kl);
int ddb_map_index(const ddb_val *m, const char *k, size_t kl);   /* -1 if absent */
/* Sets m[k] = *v, taking what v holds (v becomes empty); 0 or -1. */
int ddb_map_put(ddb_val *m, const char *k, size_t kl, ddb_val *v);
void ddb_map_del(ddb_val *m, const char *k, size_t kl);
/* Appends *v to an L or set (taking it); 0 or -1. */
int ddb_list_push(ddb_val *l, ddb_val *v);

/* ---- expressions (ddb_lex.c, ddb_expr.c, ddb_reserved.c) ---- */

typedef enum ddb_kind {
    DDB_X_CONDITION, DDB_X_KEYCOND, DDB_X_FILTER, DDB_X_PROJECTION, DDB_X_UPDATE
} ddb_kind;
/* "ConditionExpression", ... */
const char *ddb_kind_name(ddb_kind k);

/* 1 when word[0..n) is one of the 573 reserved words (any case). */
int ddb_reserved(const char *word, size_t n);

/* One element of a document path: a name, or a list index (idx >= 0). */
typedef struct ddb_pel {
    const char *name;   /* NUL-terminated (arena) */
    size_t nl;
    long idx;           /* -1 for a name */
} ddb_pel;

typedef struct ddb_path {
    size_t n;
    ddb_pel *e;
} ddb_path;

typedef enum ddb_op {
    X_PATH, X_VALUE,
    X_SIZE,             /* size(path): an operand */
    X_IFNE, X_APPEND,   /* update operands: if_not_exists, list_append */
    X_PLUS, X_MINUS,    /* update values */
    X_EQ, X_NE, X_LT, X_LE, X_GT, X_GE, X_BETWEEN, X_IN,
    X_AND, X_OR, X_NOT,
    X_EXISTS, X_NOT_EXISTS, X_ATTR_TYPE, X_BEGINS, X_CONTAINS,
    X_FUNC              /* any other function name (refused after parsing) */
} ddb_op;

typedef struct ddb_node ddb_node;
struct ddb_node {
    ddb_op op;
    ddb_path path;              /* X_PATH */
    const ddb_val *val;         /* X_VALUE */
    ddb_node **a;               /* operands */
    size_t n;
    const char *fname;          /* function calls: the name as written, else NULL */
    size_t nargs;               /* function calls: arguments written (a holds 8 at most) */
    int parens;                 /* wrapped in parentheses this many times */
};

typedef enum ddb_uk { DDB_U_SET, DDB_U_REMOVE, DDB_U_ADD, DDB_U_DELETE } ddb_uk;

typedef struct ddb_uact {
    ddb_uk k;
    ddb_path path;
    ddb_node *val;              /* SET: the value; ADD/DELETE: an X_VALUE */
} ddb_uact;

typedef struct ddb_update {
    size_t n;
    ddb_uact *a;
} ddb_update;

typedef struct ddb_proj {
    size_t n;
    ddb_path *p;
} ddb_proj;

/* A request's placeholders: ExpressionAttributeNames (an M of S values)
 * and ExpressionAttributeValues (an M), with what the expressions used. */
typedef struct ddb_ph {
    const ddb_val *names, *values;   /* NULL when absent */
    unsigned char *names_used, *values_used;
} ddb_ph;

/* Parses text[0..n) of kind k (a condition, key condition or filter) into
 * *out; resolves and marks placeholders in ph.  DDB_EVALIDATION with the
 * service's "Invalid <Kind>: ..." text on any problem. */
int ddb_parse_condition(ddb_arena *a, ddb_ph *ph, ddb_kind k, const char *text, size_t n,
                        ddb_node **out, ddb_err *e);
int ddb_parse_update(ddb_arena *a, ddb_ph *ph, const char *text, size_t n, ddb_update *out,
                     ddb_err *e);
int ddb_parse_projection(ddb_arena *a, ddb_ph *ph, const char *text, size_t n, ddb_proj *out,
                         ddb_err *e);
/* After every expression: placeholders given but not used. */
int ddb_ph_unused(const ddb_ph *ph, ddb_err *e);
/* "[a, b, [2]]": a path as the service prints it in messages. */
void ddb_path_text(const ddb_path *p, char *out, size_t cap);

/* Parser internals shared by ddb_expr.c (conditions, projections) and
 * ddb_update.c (update expressions). */
enum {
    DDB_T_EOF, DDB_T_NAME, DDB_T_HASH, DDB_T_COLON, DDB_T_NUM, DDB_T_EQ, DDB_T_NE, DDB_T_LT,
    DDB_T_LE, DDB_T_GT, DDB_T_GE, DDB_T_LP, DDB_T_RP, DDB_T_LB, DDB_T_RB, DDB_T_COMMA,
    DDB_T_DOT, DDB_T_PLUS, DDB_T_MINUS, DDB_T_BAD,
    DDB_T_AND, DDB_T_OR, DDB_T_NOT, DDB_T_BETWEEN, DDB_T_IN,       /* conditions */
    DDB_T_SET, DDB_T_REMOVE, DDB_T_ADD, DDB_T_DELETE                /* updates */
};
/* Kinds of problems, first message of each kept; which one the request
 * reports depends on the expression's kind (as the service orders them). */
enum {
    DDB_XE_PARENS, DDB_XE_FUNCNAME, DDB_XE_MISUSED, DDB_XE_RESERVED, DDB_XE_SECTION,
    DDB_XE_NAME, DDB_XE_VALUE, DDB_XE_OVERLAP, DDB_XE_CONFLICT, DDB_XE_OPERAND,
    DDB_XE_DISTINCT, DDB_XE_FUNCTION, DDB_XE_N
};
typedef struct ddb__tok {
    int t;
    unsigned pos, len;
} ddb__tok;
typedef struct ddb__px {
    ddb_arena *ar;
    ddb_ph *ph;
    ddb_kind kind;
    ddb_err *e;
    const char *s;
    size_t n;
    ddb__tok *t;
    size_t nt, i;
    long syn_at;                /* token of the furthest syntax error, -1 = none */
    const char *errs[DDB_XE_N];
    int oom;
    size_t nops;                /* update: operators and functions */
    int depth;                  /* nesting of parentheses and NOTs */
} ddb__px;
#define DDB_MAX_NESTING 100
/* Lexes text for kind k; DDB_EVALIDATION for an empty or oversized text. */
int ddb__px_init(ddb__px *p, ddb_arena *a, ddb_ph *ph, ddb_kind k, const char *text, size_t n,
                 ddb_err *e);
int ddb__at(const ddb__px *p, int t);          /* the current token is t */
void ddb__syntax(ddb__px *p);                  /* a syntax error at the current token */
void ddb__note(ddb__px *p, int cat, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A document path at the current token into out; 0, or -1 (syntax). */
int ddb__path(ddb__px *p, ddb_path *out);
/* An operand: path, :value, function call, ( operand ); NULL (syntax). */
ddb_node *ddb__operand(ddb__px *p);
ddb_node *ddb__node(ddb__px *p, ddb_op op, size_t n);
/* The first problem in the kind's order into p->e (with the "Invalid
 * <Kind>: " prefix); 0 when there is none. */
int ddb__finish(ddb__px *p, const int *order, size_t n_order);
/* Overlap and conflict of two paths (update and projection rules). */
void ddb__paths_overlap(ddb__px *p, const ddb_path *a, const ddb_path *b);

/* ---- evaluation (ddb_eval.c, ddb_update.c) ---- */

/* The value at p in item (an M), or NULL. */
const ddb_val *ddb_path_get(const ddb_val *item, const ddb_path *p);
/* 1 when condition c holds for item (NULL: an absent item), else 0. */
int ddb_eval(const ddb_node *c, const ddb_val *item);
/* The attributes of item that the paths select, in item's structure
 * (spec §4.5), into out (an M); 0 or -1 (out of memory). */
int ddb_project(const ddb_val *item, const ddb_proj *p, ddb_val *out);
/* Applies u to item (an M, changed in place).  touched: set to the
 * top-level names the actions name (arena strings, *n_touched of them,
 * at most u->n).  DDB_EVALIDATION with the service's text when an action
 * cannot apply. */
int ddb_apply_update(const ddb_update *u, const ddb_val *old, ddb_val *item, ddb_arena *a,
                     const char ***touched, size_t *n_touched, ddb_err *e);

/* ---- tables (ddb_table.c) ---- */

typedef struct ddb_key {
    char name[DDB_MAX_NAME + 1];    /* "" = none */
    ddb_type type;                  /* S, N or B */
} ddb_key;

typedef enum ddb_projtype { DDB_P_ALL, DDB_P_KEYS_ONLY, DDB_P_INCLUDE } ddb_projtype;

typedef struct ddb_index {
    char name[DDB_MAX_NAME + 1];
    int local;                      /* LSI */
    ddb_key hash, range;
    ddb_projtype proj;
    size_t n_nonkey;
    char (*nonkey)[DDB_MAX_NAME + 1];   /* INCLUDE: NonKeyAttributes (malloc'd) */
    long long rcu, wcu;             /* GSI ProvisionedThroughput, 0 = none */
} ddb_index;

typedef struct ddb_table {
    char name[DDB_MAX_NAME + 1];
    long long id;                   /* SQLite tables i<id>, x<id>_<k> */
    double created;                 /* epoch seconds */
    ddb_key hash, range;
    size_t n_defs;
    ddb_key defs[DDB_MAX_ATTRDEFS]; /* AttributeDefinitions, in order */
    int pay_per_request;
    long long rcu, wcu;
    size_t n_indexes;
    ddb_index idx[DDB_MAX_INDEXES]; /* GSIs first, then LSIs */
    int stream;                     /* StreamSpecification.StreamEnabled */
    char stream_view[32];
    int deletion_protection;
    char *def;                      /* the definition as JSON (what the catalog stores) */
    struct ddb_table *next;         /* catalog list */
    int dropped;                    /* deleted (kept until the store closes) */
} ddb_table;

/* A CreateTable request into t (t->def set, malloc'd); DDB_EVALIDATION /
 * DDB_ESERIAL with the service's texts.  ddb_table_fini frees what
 * ddb_table_from_json allocated. */
int ddb_table_from_json(json_t *req, ddb_table *t, ddb_err *e);
void ddb_table_fini(ddb_table *t);
/* Writes the TableDescription object of t ({...}) with its live counts;
 * status "ACTIVE" or "DELETING". */
void ddb_table_describe(jw *w, const ddb_table *t, const char *status, long long items,
                        long long bytes, const long long *index_items,
                        const long long *index_bytes);
/* The index named n of t, or NULL. */
const ddb_index *ddb_table_index(const ddb_table *t, const char *n, size_t nl);
/* 1 when name is a key attribute of the table or of index ix (NULL:
 * the table only). */
int ddb_is_key(const ddb_table *t, const ddb_index *ix, const char *name, size_t nl);
/* The table's ARN. */
void ddb_table_arn(const ddb_table *t, char *out, size_t cap);

/* ---- keys ---- */

/* A key as stored: h (scan order hash of the partition key), pk and sk
 * bytes (S and B raw, N order-preserving). */
typedef struct ddb_keyenc {
    unsigned char h[8];
    unsigned char pk[DDB_MAX_HASH_KEY + 8];
    size_t pkl;
    unsigned char sk[DDB_MAX_RANGE_KEY + 8];
    size_t skl;
} ddb_keyenc;

/* Encodes one key value (S, N or B) into out (cap bytes); its length. */
size_t ddb_key_bytes(const ddb_val *v, unsigned char *out, size_t cap);
/* The scan hash of partition key bytes. */
void ddb_key_hash(const unsigned char *pk, size_t n, unsigned char h[8]);

/* ---- store (ddb_store.c) ---- */

typedef struct ddb_store ddb_store;
typedef struct ddb_conn ddb_conn;

/* Opens (creating) DIR/dynamodb.db: WAL, the catalog loaded.  sync_full:
 * synchronous=FULL (an acknowledged write survives a power cut too) instead
 * of NORMAL (it survives the process).  DDB_EINTERNAL with the reason. */
int ddb_store_open(const char *dir, int sync_full, ddb_store **out, ddb_err *e);
void ddb_store_close(ddb_store *s);
/* TransactWriteItems' ClientRequestToken (kept 10 minutes): 0 unseen, 1
 * seen with the same request (hash), 2 seen with another; record: remember
 * it now.  Thread safe. */
int ddb_store_token(ddb_store *s, const char *tok, size_t n, uint64_t hash, double now,
                    int record);
/* Counters: write transactions, SQLITE_BUSY waits seen. */
void ddb_store_stats(ddb_store *s, unsigned long long *writes, unsigned long long *busy);

/* The store's connection (one for every thread), and the lock a request
 * holds while it uses it. */
ddb_conn *ddb_store_conn(ddb_store *s);
void ddb_store_lock(ddb_store *s);
void ddb_store_unlock(ddb_store *s);
ddb_store *ddb_conn_store(ddb_conn *c);

/* The live table named n (a catalog pointer, valid until the store
 * closes), or NULL. */
const ddb_table *ddb_table_get(ddb_conn *c, const char *n, size_t nl);
/* Table names in order, after `after` (NULL: from the start), at most max
 * (malloc'd array of catalog strings; *count). */
int ddb_table_names(ddb_conn *c, const char *after, size_t max, const char ***out,
                    size_t *count, int *more);
/* Creates t (taken over: the catalog owns it afterwards, t itself is
 * copied); DDB_EINUSE when it exists.  *created: the catalog's copy. */
int ddb_table_create(ddb_conn *c, ddb_table *t, const ddb_table **created, ddb_err *e);
/* Replaces table old by t, a new definition with the same name (t moved
 * as by ddb_table_create): the items kept when keep_items (then the
 * indexes are rebuilt from them), else none. */
int ddb_table_redefine(ddb_conn *c, const ddb_table *old, ddb_table *t, int keep_items,
                       const ddb_table **out, ddb_err *e);
/* Drops the table (its items and indexes). */
int ddb_table_drop(ddb_conn *c, const ddb_table *t, ddb_err *e);
/* Item count and bytes of the table and of each index. */
int ddb_table_counts(ddb_conn *c, const ddb_table *t, long long *items, long long *bytes,
                     long long *ix_items, long long *ix_bytes);

/* A prepared statement for sql, kept by the connection (do not finalize;
 * reset before use by the store); NULL with e set. */
void *ddb_stmt(ddb_conn *c, const char *sql, ddb_err *e);

/* A write: a savepoint in the store's open transaction (opened when there
 * is none); ddb_wend keeps it (ok) or rolls it back.  Nothing is durable
 * before ddb_store_commit().  Under ddb_store_lock. */
int ddb_wbegin(ddb_conn *c, ddb_err *e);
int ddb_wend(ddb_conn *c, int ok, ddb_err *e);
/* The open transaction's number (what answers wait for), 0 when none;
 * commits it (a failure rolls it back and is remembered for its number);
 * 1 when transaction gen failed.  Under ddb_store_lock. */
unsigned long long ddb_store_pending(ddb_store *s);
int ddb_store_commit(ddb_store *s, ddb_err *e);
int ddb_store_failed(ddb_store *s, unsigned long long gen);

/* Reads the item at k: 1 and *json (malloc'd) / *len, 0 when absent, -1
 * on error (e set). */
int ddb_item_read(ddb_conn *c, const ddb_table *t, const ddb_keyenc *k, char **json,
                  size_t *len, ddb_err *e);
/* Writes (replaces) item at k, maintaining the indexes (old: the item
 * being replaced, or NULL); inside a write transaction. */
int ddb_item_write(ddb_conn *c, const ddb_table *t, const ddb_keyenc *k, const ddb_val *item,
                   const char *json, size_t len, const ddb_val *old, ddb_err *e);
/* Deletes the item at k (old: it, for the indexes; NULL when none). */
int ddb_item_delete(ddb_conn *c, const ddb_table *t, const ddb_keyenc *k, const ddb_val *old,
                    ddb_err *e);
/* 1 when writing must first read the item (the table has indexes). */
int ddb_table_needs_old(const ddb_table *t);
/* Store internals shared by ddb_store.c and ddb_items.c: SQLite's error
 * as the request's (ResourceNotFoundException for a dropped table), and
 * the index rows of item at k added (insert) or removed. */
int ddb__db_fail(ddb_conn *c, ddb_err *e, const char *what);
int ddb__index_rows(ddb_conn *c, const ddb_table *t, const ddb_keyenc *k, const ddb_val *item,
                    int insert, ddb_err *e);

/* ---- requests (ddb_req.c) ---- */

/* What an operation works with: its connection, the request's arena, the
 * response being written, and the error. */
typedef struct ddb_ctx {
    ddb_conn *conn;
    ddb_arena ar;
    jw out;
    ddb_err err;
    double now;                 /* epoch seconds */
} ddb_ctx;

/* Typed members of a request object o (SerializationException with the
 * service's texts for JSON of another type).  Each returns 1 when the
 * member is present, 0 when absent or null, or -1 with e set; pointers
 * are NULL unless present, numbers and booleans keep their value when
 * absent (the caller's default).  cls: the structure's class in messages
 * ("Projection"). */
int ddb_rq_str(ddb_err *e, json_t *o, const char *k, const char **s, size_t *n);
int ddb_rq_int(ddb_err *e, json_t *o, const char *k, const char *type, long long *v);
int ddb_rq_bool(ddb_err *e, json_t *o, const char *k, int *v);
int ddb_rq_struct(ddb_err *e, json_t *o, const char *k, const char *cls, json_t **v);
int ddb_rq_list(ddb_err *e, json_t *o, const char *k, json_t **v);
/* A list's element that must be a structure of class cls; 0 or -1. */
int ddb_rq_elem(ddb_err *e, json_t *x, const char *cls);
/* A list of strings (each element checked); 1, 0 or -1. */
int ddb_rq_strings(ddb_err *e, json_t *o, const char *k, json_t **v);
/* An attribute-value map member (Item, Key, ...), shape and values
 * checked: 1 and *out (owned), 0 when absent, -1. */
int ddb_rq_map(ddb_err *e, json_t *o, const char *k, ddb_val *out);
/* A map of strings (ExpressionAttributeNames) into out (an M of S). */
int ddb_rq_names(ddb_err *e, json_t *o, const char *k, ddb_val *out);

/* "1 validation error detected: ..." collected in declaration order. */
typedef struct ddb_vlist {
    int n;
    char text[1400];
} ddb_vlist;
/* Adds "Value 'VAL' at 'WHERE' failed to satisfy constraint: WHAT"
 * (val NULL: Value null). */
void ddb_vl_add(ddb_vlist *v, const char *val, const char *where, const char *what);
/* DDB_EVALIDATION with the collected text when there is any, else 0. */
int ddb_vl_done(ddb_err *e, const ddb_vlist *v);
/* A table or index name: 3-255 characters of [a-zA-Z0-9_.-] (name NULL:
 * absent, an error when required). */
void ddb_vl_name(ddb_vlist *v, const char *name, size_t n, const char *where, int required);
/* An enum member: absent (NULL) or one of vals (NULL-terminated). */
void ddb_vl_enum(ddb_vlist *v, const char *val, const char *where, const char *const *vals);
/* A number member: absent (present 0) or >= lo and <= hi. */
void ddb_vl_range(ddb_vlist *v, int present, long long val, const char *where, long long lo,
                  long long hi);

/* The table of a request (ResourceNotFoundException when absent). */
int ddb_need_table(ddb_ctx *cx, const char *name, size_t n, const ddb_table **t);
/* Reads and checks a request's TableName member (required). */
int ddb_rq_table(ddb_ctx *cx, json_t *o, const char *member, const ddb_table **t);

/* Key of a request (Key / the key attributes of Item) checked against the
 * table's schema, and encoded.  item: 1 when m is a whole item (PutItem:
 * "Missing the key ..." texts), 0 for a Key member (exactly the key). */
int ddb_key_from(ddb_err *e, const ddb_table *t, const ddb_val *m, int item, ddb_keyenc *k);
/* Checks an item's index key attributes (types, empty strings). */
int ddb_check_index_keys(ddb_err *e, const ddb_table *t, const ddb_val *item);
/* The key attributes of item (table key, and index key when ix) as a new
 * M into out; 0 or -1. */
int ddb_key_of(const ddb_table *t, const ddb_index *ix, const ddb_val *item, ddb_val *out);

/* The expressions of one request, parsed with their placeholders. */
typedef struct ddb_exprs {
    ddb_ph ph;
    ddb_val names, values;          /* owned */
    ddb_node *cond, *keycond, *filter;
    ddb_update update;
    ddb_proj proj;
    unsigned have;                  /* bits 1 << DDB_X_* of those present */
} ddb_exprs;
/* What an operation (or a transaction's action) takes. */
typedef struct ddb_xspec {
    unsigned kinds;                 /* bits 1 << DDB_X_* */
    const char *const *legacy;      /* its non-expression parameters (NULL-terminated) */
} ddb_xspec;
/* Reads ExpressionAttributeNames/Values and the expressions of spec
 * present in o, validating as the service does (spec §4.7) and in its
 * order.  Trees in ar; free the rest with ddb_exprs_fini. */
int ddb_exprs_read(ddb_err *e, ddb_arena *ar, json_t *o, const ddb_xspec *spec, ddb_exprs *x);
void ddb_exprs_fini(ddb_exprs *x);

/* ConsumedCapacity members. */
typedef enum ddb_rcc { DDB_RCC_NONE, DDB_RCC_TOTAL, DDB_RCC_INDEXES } ddb_rcc;
int ddb_rq_rcc(ddb_err *e, json_t *o, ddb_rcc *out, ddb_vlist *v);
/* Writes "ConsumedCapacity":{...} (without a leading comma). */
void ddb_write_capacity(jw *w, const ddb_table *t, ddb_rcc rcc, double units);
/* The same object alone ({"TableName":...}), for lists. */
void ddb_write_capacity_obj(jw *w, const ddb_table *t, ddb_rcc rcc, double units);
/* Capacity units of an item of size bytes: reads (consistent or not) and
 * writes, as the service rounds them. */
double ddb_units(size_t size, int read, int consistent);

/* ---- single-item requests (ddb_ops.c; also transactions and batches) ---- */

typedef enum ddb_rv {
    DDB_RV_NONE, DDB_RV_ALL_OLD, DDB_RV_ALL_NEW, DDB_RV_UPDATED_OLD, DDB_RV_UPDATED_NEW
} ddb_rv;

/* What a single-item request (or a transaction's action) carries. */
typedef struct ddb_single {
    const char *table;
    size_t tl;
    ddb_val key;            /* Key, or Item for PutItem */
    ddb_exprs x;
    ddb_rv ret;
    int ret_on_fail;        /* ReturnValuesOnConditionCheckFailure ALL_OLD */
    ddb_rcc rcc;
    int consistent;
    const ddb_table *t;
    ddb_keyenc k;
} ddb_single;

/* Reads a single-item request: members, constraints, the expressions of
 * kinds, then the table and the key.  put: the item is the Item member
 * (else Key).  ret_values: 0 none, 1 ALL_OLD/NONE, 2 any. */
int ddb__single_read(ddb_ctx *cx, json_t *req, ddb_single *s, int put, unsigned kinds,
                     const char *const *legacy, int ret_values);
void ddb__single_fini(ddb_single *s);
/* The item at s->k parsed into *old: 1, 0 when absent, -1 (cx->err). */
int ddb__single_old(ddb_ctx *cx, const ddb_single *s, ddb_val *old);

typedef enum ddb_wkind { DDB_W_PUT, DDB_W_DELETE, DDB_W_UPDATE, DDB_W_CHECK } ddb_wkind;
/* Writes the new state of s's item in the open transaction (the put's
 * item, a delete, or the update applied to old: *item the new item,
 * touched its top-level names the expression named). */
int ddb__single_apply(ddb_ctx *cx, ddb_single *s, ddb_wkind kind, const ddb_val *old, int have,
                      ddb_val *item, const char ***touched, size_t *n_touched);
/* ValidationException when the update expression names a key attribute. */
int ddb__key_update_check(ddb_ctx *cx, const ddb_single *s);

/* ---- operations ---- */

typedef int (*ddb_op_fn)(ddb_ctx *cx, json_t *req);
int ddb_op_create_table(ddb_ctx *cx, json_t *req);
int ddb_op_describe_table(ddb_ctx *cx, json_t *req);
int ddb_op_delete_table(ddb_ctx *cx, json_t *req);
int ddb_op_list_tables(ddb_ctx *cx, json_t *req);
int ddb_op_put_item(ddb_ctx *cx, json_t *req);
int ddb_op_get_item(ddb_ctx *cx, json_t *req);
int ddb_op_delete_item(ddb_ctx *cx, json_t *req);
int ddb_op_update_item(ddb_ctx *cx, json_t *req);
int ddb_op_query(ddb_ctx *cx, json_t *req);
int ddb_op_scan(ddb_ctx *cx, json_t *req);
int ddb_op_batch_get(ddb_ctx *cx, json_t *req);
int ddb_op_batch_write(ddb_ctx *cx, json_t *req);
int ddb_op_transact_write(ddb_ctx *cx, json_t *req);
int ddb_op_describe_ttl(ddb_ctx *cx, json_t *req);

/* ---- dispatch (ddb_req.c) ---- */

/* What the HTTP front passes on: the headers that matter and the body. */
typedef struct ddb_http {
    const char *target;         /* X-Amz-Target, NULL when absent */
    size_t tlen;
    const char *auth;           /* Authorization, NULL when absent */
    size_t alen;
    int has_date;               /* X-Amz-Date or Date present */
    const char *body;
    size_t blen;
} ddb_http;
/* Runs one request as the service does: JSON, target, signature form
 * (spec §6.4), then the operation.  Fills cx->out (the success body) or
 * cx->err; returns the HTTP status. */
int ddb_dispatch(ddb_ctx *cx, const ddb_http *h);

#endif
