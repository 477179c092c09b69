/* b64.c - the library's allocating wrappers of client/common/base64.c. */
#include "internal.h"

#include "base64.h"

#include <stdlib.h>

char *b64_encode(const void *data, size_t len)
{
	char *out = malloc(base64_encoded_len(len) + 1);
	if (out)
		base64_encode(data, len, out);
	return out;
}

int b64_decode(const char *s, size_t slen, unsigned char **out, size_t *out_len)
{
	unsigned char *buf = malloc(BASE64_DECODED_MAX(slen) + 1);
	if (!buf)
		return -1;
	long n = base64_decode(s, slen, buf);
	if (n < 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}
