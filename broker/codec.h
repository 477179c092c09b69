/* codec.h - proto3-JSON scalar encodings used by the Pub/Sub REST surface:
 * Duration ("600s", "0.5s"), Timestamp (RFC 3339, "...Z") and base64 bytes. */
#ifndef RN_CODEC_H
#define RN_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Parses a proto3 JSON Duration ("600s", "1.5s", "-2s" is rejected) into
 * milliseconds (fractions below 1 ms are truncated). Returns 0, or -1 when
 * the text is not a non-negative duration or overflows. Any thread. */
int codec_duration_parse(const char *s, int64_t *ms_out);

/* Writes ms as a Duration ("600s", "0.500s") into buf (>= 32 bytes). */
void codec_duration_format(int64_t ms, char *buf, size_t n);

/* Parses an RFC 3339 timestamp ("2021-02-26T19:13:55.749Z", offsets like
 * "+02:00" accepted, 0-9 fraction digits) into Unix milliseconds. Returns 0
 * or -1. Any thread. */
int codec_timestamp_parse(const char *s, int64_t *ms_out);

/* Writes Unix ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 32 bytes). */
void codec_timestamp_format(int64_t ms, char *buf, size_t n);

/* Size of the base64 text for n bytes, without the terminating NUL. */
size_t codec_base64_encoded_len(size_t n);

/* Standard base64 with padding; out must hold encoded_len(n)+1 bytes; NUL
 * terminated. Returns the text length. */
size_t codec_base64_encode(const unsigned char *in, size_t n, char *out);

/* Decodes standard base64 (padding optional, URL-safe alphabet accepted as
 * Google's JSON parser does). out must hold len*3/4+3 bytes. Returns the
 * decoded length, or -1 on an invalid character or length. */
long codec_base64_decode(const char *in, size_t len, unsigned char *out);

#endif
