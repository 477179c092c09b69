/* logfilter.c - a recursive-descent parser of the Logging filter subset and
 * its evaluation over a LogEntry. */
#include "logfilter.h"

#include "duration.h"
#include "mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 64
#define MAX_TEXT 256

enum node_kind { N_CMP, N_AND, N_OR, N_NOT };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_HAS };

struct node {
	enum node_kind kind;
	int a, b; /* children (N_AND, N_OR: both; N_NOT: a) */
	enum op op;
	char field[MAX_TEXT], value[MAX_TEXT];
};

struct logfilter {
	struct node n[MAX_NODES];
	int count, root; /* root -1: matches everything */
};

struct parser {
	const char *s;
	struct logfilter *f;
	char *err;
	size_t errlen;
	int failed;
};

static void skip(struct parser *p)
{
	while (isspace((unsigned char)*p->s))
		p->s++;
}

static int fail(struct parser *p, const char *msg)
{
	if (!p->failed)
		snprintf(p->err, p->errlen, "Invalid filter: %s near \"%.20s\"", msg, p->s);
	p->failed = 1;
	return -1;
}

static int new_node(struct parser *p, enum node_kind k)
{
	if (p->f->count >= MAX_NODES)
		return fail(p, "too many terms");
	struct node *n = &p->f->n[p->f->count];
	memset(n, 0, sizeof(*n));
	n->kind = k;
	return p->f->count++;
}

/* A keyword (AND, OR, NOT) ends at a non-word character. */
static int keyword(struct parser *p, const char *kw)
{
	size_t n = strlen(kw);
	if (strncmp(p->s, kw, n) == 0 && !isalnum((unsigned char)p->s[n]) && p->s[n] != '_' &&
	    p->s[n] != '.') {
		p->s += n;
		return 1;
	}
	return 0;
}

static int word(struct parser *p, char *out, int quoted_ok)
{
	skip(p);
	size_t o = 0;
	int was_quoted = quoted_ok && *p->s == '"';
	if (was_quoted) {
		p->s++;
		while (*p->s && *p->s != '"') {
			if (*p->s == '\\' && p->s[1])
				p->s++;
			if (o + 1 >= MAX_TEXT)
				return fail(p, "value too long");
			out[o++] = *p->s++;
		}
		if (*p->s != '"')
			return fail(p, "unterminated string");
		p->s++;
	} else {
		while (*p->s && (isalnum((unsigned char)*p->s) || strchr("._-@/%:+", *p->s)) &&
		       !(quoted_ok == 0 && *p->s == ':')) {
			if (o + 1 >= MAX_TEXT)
				return fail(p, "value too long");
			out[o++] = *p->s++;
		}
	}
	out[o] = '\0';
	if (o == 0 && !was_quoted)
		return fail(p, quoted_ok ? "expected a value" : "expected a field name");
	return 0;
}

static int expr(struct parser *p);

static int term(struct parser *p)
{
	skip(p);
	if (keyword(p, "NOT") || *p->s == '-') {
		if (*p->s == '-')
			p->s++;
		int k = new_node(p, N_NOT);
		if (k < 0)
			return -1;
		int a = term(p);
		if (a < 0)
			return -1;
		p->f->n[k].a = a;
		return k;
	}
	if (*p->s == '(') {
		p->s++;
		int e = expr(p);
		skip(p);
		if (e < 0 || *p->s != ')')
			return fail(p, "expected ')'");
		p->s++;
		return e;
	}
	int k = new_node(p, N_CMP);
	if (k < 0)
		return -1;
	struct node *n = &p->f->n[k];
	if (word(p, n->field, 0) < 0)
		return -1;
	skip(p);
	static const struct {
		const char *t;
		enum op op;
	} ops[] = { { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE }, { "=", OP_EQ },
		    { "<", OP_LT },  { ">", OP_GT },  { ":", OP_HAS } };
	size_t i;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(p->s, ops[i].t, strlen(ops[i].t)) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return fail(p, "expected a comparison (=, !=, <, <=, >, >=, :)");
	n->op = ops[i].op;
	p->s += strlen(ops[i].t);
	if (word(p, n->value, 1) < 0)
		return -1;
	return k;
}

static int conjunction(struct parser *p)
{
	int left = term(p);
	for (;;) {
		if (left < 0)
			return -1;
		skip(p);
		if (*p->s == '\0' || *p->s == ')' || strncmp(p->s, "OR", 2) == 0)
			return left;
		keyword(p, "AND"); /* implicit AND otherwise */
		int right = term(p);
		if (right < 0)
			return -1;
		int k = new_node(p, N_AND);
		if (k < 0)
			return -1;
		p->f->n[k].a = left;
		p->f->n[k].b = right;
		left = k;
	}
}

static int expr(struct parser *p)
{
	int left = conjunction(p);
	for (;;) {
		if (left < 0)
			return -1;
		skip(p);
		if (!keyword(p, "OR"))
			return left;
		int right = conjunction(p);
		if (right < 0)
			return -1;
		int k = new_node(p, N_OR);
		if (k < 0)
			return -1;
		p->f->n[k].a = left;
		p->f->n[k].b = right;
		left = k;
	}
}

struct logfilter *logfilter_parse(const char *text, char *err, size_t errlen)
{
	struct logfilter *f = mem_calloc(1, sizeof(*f));
	f->root = -1;
	if (text == NULL || strspn(text, " \t\r\n") == strlen(text))
		return f;
	if (strlen(text) > 4000) {
		snprintf(err, errlen, "Invalid filter: longer than 4000 characters");
		mem_free(f);
		return NULL;
	}
	struct parser p = { text, f, err, errlen, 0 };
	f->root = expr(&p);
	skip(&p);
	if (f->root < 0 || *p.s != '\0') {
		fail(&p, "unexpected text");
		mem_free(f);
		return NULL;
	}
	return f;
}

void logfilter_free(struct logfilter *f)
{
	mem_free(f);
}

static int severity_rank(const char *s)
{
	static const char *const names[] = { "DEFAULT", "DEBUG",    "INFO",  "NOTICE",   "WARNING",
					     "ERROR",   "CRITICAL", "ALERT", "EMERGENCY" };
	for (int i = 0; i < 9; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	return -1;
}

static json_t *lookup(json_t *e, const char *path)
{
	char buf[MAX_TEXT];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *v = e;
	for (char *save, *tok = strtok_r(buf, ".", &save); tok && v;
	     tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return v;
}

static int cmp_values(const char *field, const char *have, const char *want, int *out)
{
	if (strcmp(field, "severity") == 0) {
		int a = severity_rank(have), b = severity_rank(want);
		if (a < 0 || b < 0)
			return -1;
		*out = a - b;
		return 0;
	}
	if (strcmp(field, "timestamp") == 0 || strcmp(field, "receiveTimestamp") == 0) {
		int64_t a, b;
		if (timestamp_parse(have, &a) != 0 || timestamp_parse(want, &b) != 0)
			return -1;
		/* To the millisecond (timestamp_parse drops what is below). */
		*out = a < b ? -1 : a > b ? 1 : 0;
		return 0;
	}
	*out = strcmp(have, want);
	return 0;
}

static int eval(const struct logfilter *f, int i, json_t *e)
{
	const struct node *n = &f->n[i];
	switch (n->kind) {
	case N_AND: return eval(f, n->a, e) && eval(f, n->b, e);
	case N_OR: return eval(f, n->a, e) || eval(f, n->b, e);
	case N_NOT: return !eval(f, n->a, e);
	case N_CMP: break;
	}
	json_t *v = lookup(e, n->field);
	char num[64];
	const char *have = json_string_value(v);
	if (have == NULL && json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		have = num;
	} else if (have == NULL && json_is_boolean(v)) {
		have = json_is_true(v) ? "true" : "false";
	}
	if (have == NULL)
		return n->op == OP_NE;
	if (n->op == OP_HAS)
		return strstr(have, n->value) != NULL;
	int c;
	if (cmp_values(n->field, have, n->value, &c) != 0)
		return 0;
	switch (n->op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	case OP_GE: return c >= 0;
	default: return 0;
	}
}

static int64_t since(const struct logfilter *f, int i)
{
	const struct node *n = &f->n[i];
	if (n->kind == N_AND) {
		int64_t a = since(f, n->a), b = since(f, n->b);
		return a > b ? a : b;
	}
	int64_t t;
	if (n->kind == N_CMP && strcmp(n->field, "timestamp") == 0 &&
	    (n->op == OP_GE || n->op == OP_GT) && timestamp_parse(n->value, &t) == 0)
		return t;
	return 0;
}

int64_t logfilter_since_ms(const struct logfilter *f)
{
	return f->root < 0 ? 0 : since(f, f->root);
}

int logfilter_match(const struct logfilter *f, json_t *entry)
{
	return f->root < 0 || eval(f, f->root, entry);
}
