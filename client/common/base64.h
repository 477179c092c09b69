/* base64.h - standard base64 (RFC 4648 section 4), the one copy shared by
 * the broker (message data in JSON), the library and the CLI. Pure: any
 * thread. */
#ifndef RN_BASE64_H
#define RN_BASE64_H

#include <stddef.h>

/* Size of the base64 text for n bytes, without the terminating NUL. */
size_t base64_encoded_len(size_t n);

/* Encodes n bytes with padding into out, which holds encoded_len(n) + 1
 * bytes; NUL-terminated. Returns the text length. */
size_t base64_encode(const unsigned char *in, size_t n, char *out);

/* Bytes base64_decode may write for len bytes of text. */
#define BASE64_DECODED_MAX(len) ((len) / 4 * 3 + 3)

/* Decodes len bytes of text into out (BASE64_DECODED_MAX(len) bytes). The
 * URL-safe alphabet is accepted too (as Google's JSON parser does);
 * padding is optional, but when present it must complete the last group
 * of four. Returns the decoded length, or -1 on an invalid character or
 * length. */
long base64_decode(const char *in, size_t len, unsigned char *out);

#endif
