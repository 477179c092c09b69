/* filter.c - parser and evaluator of the Pub/Sub filter subset of filter.h.
 *
 * A recursive-descent parser over an on-the-fly lexer builds a small tree;
 * matching walks it. Errors carry the byte offset of the offending token
 * so that the CLI can point at it. */
#include "filter.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum node_kind { N_AND, N_OR, N_NOT, N_EQ, N_NE, N_HAS, N_PREFIX };
enum field { F_ATTR, F_ACTION, F_TAG, F_DIGEST };

struct filter {
	enum node_kind kind;
	struct filter *a, *b; /* N_AND, N_OR: both; N_NOT: a */
	enum field field;     /* predicates */
	char *key;            /* F_ATTR: the attribute key */
	char *value;          /* N_EQ, N_NE, N_PREFIX */
};

enum tok {
	T_END,
	T_IDENT,
	T_STRING,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_COLON,
	T_DOT,
	T_EQ,
	T_NE,
	T_MINUS
};

struct parser {
	const char *src;
	size_t pos;     /* where the lexer continues */
	enum tok tok;   /* current token */
	size_t tok_pos; /* its offset */
	size_t tok_len; /* its length in the source */
	char *str;      /* T_STRING: the decoded literal (owned) */
	char *err;
	size_t errlen;
	size_t errpos;
	int failed;
	int attrs_only; /* FILTER_ATTRIBUTES_ONLY: no data.FIELD */
};

static void fail_at(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_at(struct parser *p, size_t pos, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = 1;
	p->errpos = pos;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
}

static int is_ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static int is_ident_char(char c)
{
	return is_ident_start(c) || c == '-';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends code point cp as UTF-8 to buf (room for 4 bytes). */
static size_t put_utf8(char *buf, uint32_t cp)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xC0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xE0 | (cp >> 12));
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		buf[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	buf[0] = (char)(0xF0 | (cp >> 18));
	buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	buf[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Lexes a string literal starting at p->pos (the quote). Escapes: \" \'
 * \\ \n \t \r \xHH \uXXXX. */
static void lex_string(struct parser *p)
{
	const char *s = p->src;
	char quote = s[p->pos];
	size_t i = p->pos + 1;
	size_t cap = strlen(s + i) + 1, n = 0;
	char *out = malloc(cap + 4);
	if (!out) {
		fail_at(p, p->pos, "out of memory");
		return;
	}
	for (;;) {
		char c = s[i];
		if (c == '\0') {
			free(out);
			fail_at(p, p->tok_pos, "unterminated string literal");
			return;
		}
		if (c == quote) {
			i++;
			break;
		}
		if (c != '\\') {
			out[n++] = c;
			i++;
			continue;
		}
		size_t esc = i;
		c = s[++i];
		int h1, h2;
		switch (c) {
		case '"':
		case '\'':
		case '\\':
			out[n++] = c;
			i++;
			break;
		case 'n':
			out[n++] = '\n';
			i++;
			break;
		case 't':
			out[n++] = '\t';
			i++;
			break;
		case 'r':
			out[n++] = '\r';
			i++;
			break;
		case 'x':
			h1 = hexval(s[i + 1]);
			h2 = h1 < 0 ? -1 : hexval(s[i + 2]);
			if (h1 < 0 || h2 < 0 || (h1 == 0 && h2 == 0)) {
				free(out);
				fail_at(p, esc, "invalid \\x escape in string literal");
				return;
			}
			out[n++] = (char)(h1 * 16 + h2);
			i += 3;
			break;
		case 'u': {
			uint32_t cp = 0;
			for (int k = 1; k <= 4; k++) {
				int h = hexval(s[i + (size_t)k]);
				if (h < 0) {
					free(out);
					fail_at(p, esc, "invalid \\u escape in string literal");
					return;
				}
				cp = cp * 16 + (uint32_t)h;
			}
			if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
				free(out);
				fail_at(p, esc, "invalid \\u escape in string literal");
				return;
			}
			n += put_utf8(out + n, cp);
			i += 5;
			break;
		}
		default:
			free(out);
			fail_at(p, esc, "invalid escape sequence in string literal");
			return;
		}
	}
	out[n] = '\0';
	p->str = out;
	p->tok = T_STRING;
	p->tok_len = i - p->tok_pos;
	p->pos = i;
}

/* Reads the next token into p->tok (T_END at the end or after an error). */
static void next(struct parser *p)
{
	free(p->str);
	p->str = NULL;
	if (p->failed) {
		p->tok = T_END;
		return;
	}
	const char *s = p->src;
	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
		p->pos++;
	p->tok_pos = p->pos;
	p->tok_len = 1;
	char c = s[p->pos];
	switch (c) {
	case '\0':
		p->tok = T_END;
		p->tok_len = 0;
		return;
	case '(':
		p->tok = T_LPAREN;
		p->pos++;
		return;
	case ')':
		p->tok = T_RPAREN;
		p->pos++;
		return;
	case ',':
		p->tok = T_COMMA;
		p->pos++;
		return;
	case ':':
		p->tok = T_COLON;
		p->pos++;
		return;
	case '.':
		p->tok = T_DOT;
		p->pos++;
		return;
	case '=':
		p->tok = T_EQ;
		p->pos++;
		return;
	case '-':
		p->tok = T_MINUS;
		p->pos++;
		return;
	case '!':
		if (s[p->pos + 1] == '=') {
			p->tok = T_NE;
			p->tok_len = 2;
			p->pos += 2;
			return;
		}
		break;
	case '"':
	case '\'': lex_string(p); return;
	default:
		if (is_ident_start(c)) {
			size_t i = p->pos;
			while (is_ident_char(s[i]))
				i++;
			p->tok = T_IDENT;
			p->tok_len = i - p->pos;
			p->pos = i;
			return;
		}
	}
	fail_at(p, p->pos, "unexpected character '%c'", c);
	p->tok = T_END;
}

static int tok_is(const struct parser *p, const char *word)
{
	return p->tok == T_IDENT && strlen(word) == p->tok_len &&
	       memcmp(p->src + p->tok_pos, word, p->tok_len) == 0;
}

/* A short description of the current token for error messages. */
static void describe(const struct parser *p, char *buf, size_t n)
{
	if (p->tok == T_END)
		snprintf(buf, n, "end of expression");
	else
		snprintf(buf, n, "'%.*s'", (int)(p->tok_len > 40 ? 40 : p->tok_len),
			 p->src + p->tok_pos);
}

static void fail_expected(struct parser *p, const char *what)
{
	char got[64];
	describe(p, got, sizeof(got));
	fail_at(p, p->tok_pos, "expected %s, found %s", what, got);
}

static struct filter *node_new(struct parser *p, enum node_kind kind)
{
	struct filter *f = calloc(1, sizeof(*f));
	if (!f)
		fail_at(p, p->tok_pos, "out of memory");
	else
		f->kind = kind;
	return f;
}

static char *take_text(struct parser *p)
{
	char *s;
	if (p->tok == T_STRING) {
		s = p->str;
		p->str = NULL;
	} else {
		s = strndup(p->src + p->tok_pos, p->tok_len);
	}
	if (!s)
		fail_at(p, p->tok_pos, "out of memory");
	return s;
}

/* After 'attributes' or 'data' and the separator: the key (attributes) or
 * one of the gcr data fields. Fills f->field/f->key. */
static void parse_key(struct parser *p, int is_data, struct filter *f)
{
	if (is_data) {
		if (tok_is(p, "action"))
			f->field = F_ACTION;
		else if (tok_is(p, "tag"))
			f->field = F_TAG;
		else if (tok_is(p, "digest"))
			f->field = F_DIGEST;
		else {
			fail_expected(p, "a data field (action, tag or digest)");
			return;
		}
		next(p);
		return;
	}
	if (p->tok != T_IDENT && p->tok != T_STRING) {
		fail_expected(p, "an attribute key");
		return;
	}
	f->field = F_ATTR;
	f->key = take_text(p);
	next(p);
}

/* 'attributes' '.' key | 'data' '.' field, starting at the identifier. */
static void parse_field(struct parser *p, struct filter *f)
{
	int is_data = !p->attrs_only && tok_is(p, "data");
	if (!is_data && !tok_is(p, "attributes")) {
		fail_expected(p, p->attrs_only ? "attributes.KEY" : "attributes.KEY or data.FIELD");
		return;
	}
	next(p);
	if (p->tok != T_DOT) {
		fail_expected(p, "'.'");
		return;
	}
	next(p);
	parse_key(p, is_data, f);
}

static void expect_string(struct parser *p, struct filter *f, const char *after)
{
	if (p->tok != T_STRING) {
		char what[64];
		snprintf(what, sizeof(what), "a string literal after %s", after);
		fail_expected(p, what);
		return;
	}
	f->value = take_text(p);
	next(p);
}

static struct filter *parse_expr(struct parser *p);

static struct filter *parse_primary(struct parser *p)
{
	if (p->tok == T_LPAREN) {
		size_t open = p->tok_pos;
		next(p);
		struct filter *f = parse_expr(p);
		if (!p->failed && p->tok != T_RPAREN) {
			if (p->tok == T_END)
				fail_at(p, open, "unbalanced '(': no matching ')'");
			else
				fail_expected(p, "')' or an operator");
		}
		next(p);
		return f;
	}
	if (tok_is(p, "hasPrefix")) {
		struct filter *f = node_new(p, N_PREFIX);
		if (!f)
			return NULL;
		next(p);
		if (p->tok != T_LPAREN) {
			fail_expected(p, "'(' after hasPrefix");
			return f;
		}
		next(p);
		parse_field(p, f);
		if (p->failed)
			return f;
		if (p->tok != T_COMMA) {
			fail_expected(p, "','");
			return f;
		}
		next(p);
		expect_string(p, f, "','");
		if (p->failed)
			return f;
		if (p->tok != T_RPAREN) {
			fail_expected(p, "')'");
			return f;
		}
		next(p);
		return f;
	}
	if (tok_is(p, "attributes") || (!p->attrs_only && tok_is(p, "data"))) {
		int is_data = tok_is(p, "data");
		struct filter *f = node_new(p, N_EQ);
		if (!f)
			return NULL;
		next(p);
		if (p->tok == T_COLON) {
			f->kind = N_HAS;
			next(p);
			parse_key(p, is_data, f);
			return f;
		}
		if (p->tok != T_DOT) {
			fail_expected(p, is_data ? "'.' or ':' after data"
						 : "'.' or ':' after attributes");
			return f;
		}
		next(p);
		parse_key(p, is_data, f);
		if (p->failed)
			return f;
		if (p->tok == T_EQ) {
			next(p);
			expect_string(p, f, "'='");
		} else if (p->tok == T_NE) {
			f->kind = N_NE;
			next(p);
			expect_string(p, f, "'!='");
		} else {
			fail_expected(p, "'=' or '!='");
		}
		return f;
	}
	if (p->attrs_only && tok_is(p, "data"))
		fail_at(p, p->tok_pos,
			"filters see the attributes of a message only, not its data: use "
			"attributes.KEY");
	else
		fail_expected(p, p->attrs_only
					 ? "a condition (attributes..., hasPrefix(...), NOT "
					   "or '(')"
					 : "a condition (attributes..., data..., hasPrefix(...), "
					   "NOT or '(')");
	return NULL;
}

static struct filter *parse_unary(struct parser *p)
{
	if (tok_is(p, "NOT") || p->tok == T_MINUS) {
		struct filter *f = node_new(p, N_NOT);
		if (!f)
			return NULL;
		next(p);
		f->a = parse_unary(p);
		return f;
	}
	return parse_primary(p);
}

/* unary { (AND | OR) unary }, all operators of one kind: Pub/Sub requires
 * parentheses to mix them, and so do we, so filters stay portable. */
static struct filter *parse_expr(struct parser *p)
{
	struct filter *left = parse_unary(p);
	int op = -1; /* N_AND or N_OR once seen */
	while (!p->failed) {
		int this_op;
		if (tok_is(p, "AND"))
			this_op = N_AND;
		else if (tok_is(p, "OR"))
			this_op = N_OR;
		else
			break;
		if (op >= 0 && this_op != op) {
			fail_at(p, p->tok_pos, "AND and OR cannot be mixed without parentheses");
			break;
		}
		op = this_op;
		struct filter *f = node_new(p, (enum node_kind)this_op);
		if (!f)
			break;
		next(p);
		f->a = left;
		f->b = parse_unary(p);
		left = f;
	}
	return left;
}

int filter_parse(const char *expr, struct filter **out, char *err, size_t errlen, size_t *errpos)
{
	return filter_parse_flags(expr, 0, out, err, errlen, errpos);
}

int filter_parse_flags(const char *expr, int flags, struct filter **out, char *err, size_t errlen,
		       size_t *errpos)
{
	struct parser p = { .src = expr,
			    .err = err,
			    .errlen = errlen,
			    .attrs_only = (flags & FILTER_ATTRIBUTES_ONLY) != 0 };
	*out = NULL;
	next(&p);
	struct filter *f = NULL;
	if (p.tok == T_END && !p.failed)
		fail_at(&p, 0, "empty filter expression");
	else
		f = parse_expr(&p);
	if (!p.failed && p.tok != T_END) {
		if (p.tok == T_RPAREN)
			fail_at(&p, p.tok_pos, "unbalanced ')'");
		else
			fail_expected(&p, "AND, OR or the end of the expression");
	}
	free(p.str);
	if (p.failed) {
		filter_free(f);
		if (errpos)
			*errpos = p.errpos;
		return -1;
	}
	*out = f;
	return 0;
}

static const char *field_value(const struct filter *f, const struct filter_msg *m)
{
	switch (f->field) {
	case F_ATTR: return m->attr ? m->attr(m->arg, f->key) : NULL;
	case F_ACTION: return m->action;
	case F_TAG: return m->tag;
	case F_DIGEST: return m->digest;
	}
	return NULL;
}

int filter_match(const struct filter *f, const struct filter_msg *m)
{
	const char *v;
	switch (f->kind) {
	case N_AND: return filter_match(f->a, m) && filter_match(f->b, m);
	case N_OR: return filter_match(f->a, m) || filter_match(f->b, m);
	case N_NOT: return !filter_match(f->a, m);
	case N_HAS: return field_value(f, m) != NULL;
	case N_EQ: v = field_value(f, m); return v != NULL && strcmp(v, f->value) == 0;
	case N_NE:
		/* Pub/Sub: != is the negation of =, true without the key too. */
		v = field_value(f, m);
		return v == NULL || strcmp(v, f->value) != 0;
	case N_PREFIX:
		v = field_value(f, m);
		return v != NULL && strncmp(v, f->value, strlen(f->value)) == 0;
	}
	return 0;
}

int filter_uses_data(const struct filter *f)
{
	if (f == NULL)
		return 0;
	if (f->kind == N_AND || f->kind == N_OR || f->kind == N_NOT)
		return filter_uses_data(f->a) || filter_uses_data(f->b);
	return f->field != F_ATTR;
}

/* Adds f's operands to arr, flattening a chain of the same operator. */
static json_t *program(const struct filter *f);

static void flatten(json_t *arr, const struct filter *f, enum node_kind kind)
{
	if (f->kind == kind) {
		flatten(arr, f->a, kind);
		flatten(arr, f->b, kind);
	} else {
		json_array_append_new(arr, program(f));
	}
}

static json_t *program(const struct filter *f)
{
	switch (f->kind) {
	case N_AND:
	case N_OR: {
		json_t *a = json_pack("[s]", f->kind == N_AND ? "and" : "or");
		flatten(a, f, f->kind);
		return a;
	}
	case N_NOT: return json_pack("[so]", "not", program(f->a));
	case N_HAS: return json_pack("[ss]", "has", f->key);
	case N_EQ: return json_pack("[sss]", "eq", f->key, f->value);
	case N_NE: return json_pack("[sss]", "ne", f->key, f->value);
	case N_PREFIX: return json_pack("[sss]", "pfx", f->key, f->value);
	}
	return json_null();
}

char *filter_program(const struct filter *f)
{
	if (f == NULL || filter_uses_data(f))
		return NULL;
	json_t *j = program(f);
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return s;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	filter_free(f->a);
	filter_free(f->b);
	free(f->key);
	free(f->value);
	free(f);
}
