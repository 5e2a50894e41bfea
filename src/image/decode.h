/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A decompressing reader. The compression of a stream is told by its first
 * bytes (its magic), never by a file name, and every format is decoded in
 * this process by its library: gzip (zlib), xz (liblzma), zstd (libzstd),
 * bzip2 (libbz2), or none. No external decompressor is ever run.
 *
 * While it reads, the decoder can hash what goes in when it is compressed
 * (the blob's digest, as a registry or an OCI layout names it); what comes
 * out (a layer's diff_id) is hashed by its reader, on its own core (see
 * stage_layer in load.c), so that the decompressing core does nothing else.
 * The output is capped: a stream that decompresses
 * to more than max_out bytes (a "zip bomb", or an endless one) fails.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Where the compressed bytes come from: read up to n bytes, 0 at the end. */
struct hk_source {
	ssize_t (*read)(void *ctx, void *buf, size_t n, struct hk_error *err);
	void *ctx;
};

enum hk_compression {
	HK_COMPRESSION_NONE,
	HK_COMPRESSION_GZIP,
	HK_COMPRESSION_XZ,
	HK_COMPRESSION_ZSTD,
	HK_COMPRESSION_BZIP2,
};

struct hk_decoder;

/*
 * A decoder over src; what it is is known after the first read. With
 * hash_in, a compressed input is hashed (a layer's blob); without, it only
 * decompresses (a whole archive, whose own digest nothing asks for).
 */
struct hk_decoder *hk_decoder_new(struct hk_source src, uint64_t max_out, bool hash_in);
void hk_decoder_free(struct hk_decoder *d);
static inline void hk_decoder_freep(struct hk_decoder **d)
{
	hk_decoder_free(*d);
}
/* Up to n decompressed bytes: > 0, 0 at the end, or -errno with err set. */
ssize_t hk_decoder_read(struct hk_decoder *d, void *buf, size_t n, struct hk_error *err);
/* Read what is left, to the end of the stream. */
int hk_decoder_drain(struct hk_decoder *d, struct hk_error *err);
enum hk_compression hk_decoder_compression(const struct hk_decoder *d);
const char *hk_compression_name(enum hk_compression c);
/*
 * After the end of a compressed stream read with hash_in: "sha256:<hex>" of
 * the input. (Uncompressed, the input is the output, which its reader hashed.)
 */
void hk_decoder_in_digest(struct hk_decoder *d, char out[72]);
uint64_t hk_decoder_in_bytes(const struct hk_decoder *d);
uint64_t hk_decoder_out_bytes(const struct hk_decoder *d);

/* SHA-256, one shot: "sha256:<hex>" of data. */
void hk_sha256_digest(const void *data, size_t len, char out[72]);
/* SHA-256 of a stream: new, update as bytes pass, final (which frees it). */
struct hk_sha256;
struct hk_sha256 *hk_sha256_new(void);
void hk_sha256_update(struct hk_sha256 *h, const void *data, size_t len);
void hk_sha256_final(struct hk_sha256 *h, char out[72]);
