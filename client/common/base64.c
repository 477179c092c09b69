/* base64.c - RFC 4648 base64, and base64url for JWTs (jwt.h). */
#include "base64.h"
#include "jwt.h"

#include <string.h>

static const char std_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Both alphabets; pad: end with "=" to a multiple of four. */
static size_t encode(const unsigned char *in, size_t n, char *out, const char *alphabet, int pad)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t base64_encode(const unsigned char *in, size_t n, char *out)
{
	return encode(in, n, out, std_alphabet, 1);
}

size_t base64url_encoded_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t base64url_encode(const unsigned char *in, size_t n, char *out)
{
	return encode(in, n, out, url_alphabet, 0);
}

/* The 6-bit value of c in the standard or URL-safe alphabet, or -1. */
static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t len, unsigned char *out)
{
	if (len > 0 && in[len - 1] == '=') {
		if (len % 4 != 0)
			return -1;
		len--;
		if (len > 0 && in[len - 1] == '=')
			len--;
	}
	if (len % 4 == 1)
		return -1;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = sextet((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = ((acc << 6) | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	return (long)o;
}

long base64url_decode(const char *in, size_t len, unsigned char *out)
{
	/* Only the URL alphabet, no padding, and no bits left over (one
	 * encoding per value): what base64_decode allows beyond that is
	 * refused here. */
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (in[i] == '\0' || strchr(url_alphabet, in[i]) == NULL)
			return -1;
	if (len % 4) {
		int last = sextet((unsigned char)in[len - 1]);
		if (last & (len % 4 == 2 ? 0xf : 0x3))
			return -1;
	}
	return base64_decode(in, len, out);
}
