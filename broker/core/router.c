/* router.c - segment-wise path matching against the route table. A custom
 * verb (":publish") is split off the last segment at its last ':' as the
 * googleapis clients build it ("{+name}:publish"). */
#include "router.h"

#include <string.h>

/* Matches one path against one pattern; fills params. Returns 1 on match. */
static int match(const char *pat, const char *path, char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX])
{
	int np = 0;
	const char *pp = pat, *sp = path;
	/* Split the custom verb off both. */
	const char *pverb = strrchr(pat, ':');
	const char *plast = strrchr(path, '/');
	const char *sverb = plast ? strrchr(plast, ':') : NULL;
	size_t pat_len = pverb ? (size_t)(pverb - pat) : strlen(pat);
	size_t path_len = sverb ? (size_t)(sverb - path) : strlen(path);
	if ((pverb == NULL) != (sverb == NULL))
		return 0;
	if (pverb && strcmp(pverb, sverb) != 0)
		return 0;
	const char *pend = pat + pat_len, *send = path + path_len;
	while (pp < pend && sp < send) {
		if (*pp != '/' || *sp != '/')
			return 0;
		pp++;
		sp++;
		const char *pseg_end = memchr(pp, '/', (size_t)(pend - pp));
		const char *sseg_end = memchr(sp, '/', (size_t)(send - sp));
		if (!pseg_end)
			pseg_end = pend;
		if (!sseg_end)
			sseg_end = send;
		size_t pl = (size_t)(pseg_end - pp), sl = (size_t)(sseg_end - sp);
		if (pl == 2 && pp[0] == '{' && pp[1] == '}') {
			if (sl == 0 || sl >= ROUTE_PARAM_MAX || np >= ROUTE_MAX_PARAMS)
				return 0;
			memcpy(params[np], sp, sl);
			params[np][sl] = '\0';
			np++;
		} else if (pl != sl || memcmp(pp, sp, pl) != 0) {
			return 0;
		}
		pp = pseg_end;
		sp = sseg_end;
	}
	return pp == pend && sp == send;
}

enum route_result router_match(const struct route *table, size_t n, int method, const char *path,
			       const struct route **out,
			       char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX])
{
	enum route_result res = ROUTE_NOT_FOUND;
	char tmp[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
	for (int k = 0; k < ROUTE_MAX_PARAMS; k++)
		tmp[k][0] = '\0'; /* the captures a route does not have are "" */
	for (size_t i = 0; i < n; i++) {
		if (!match(table[i].pattern, path, tmp))
			continue;
		if (table[i].method & method) {
			*out = &table[i];
			memcpy(params, tmp, sizeof(tmp));
			return ROUTE_OK;
		}
		res = ROUTE_BAD_METHOD;
	}
	return res;
}
