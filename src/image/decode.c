// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The decompressing reader (decode.h). Each format's library is driven the
 * same way: fill the input buffer from the source (hashing it if asked and
 * compressed), run the decoder into the caller's buffer, and at the end of a
 * member or frame start the next one, since gzip, xz, zstd and bzip2 all
 * allow several concatenated (pigz, pixz and pzstd write them).
 */
#include <bzlib.h>
#include <errno.h>
#include <lzma.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "decode.h"

#define IN_BUF (256 * 1024)

struct hk_decoder {
	struct hk_source src;
	uint64_t max_out, in_bytes, out_bytes;
	enum hk_compression kind;
	bool started, sniffed, in_eof, done, member_open, hash_in;
	EVP_MD_CTX *in_md;
	z_stream z;
	lzma_stream x;
	ZSTD_DStream *zs;
	bz_stream bz;
	size_t in_pos, in_len;
	unsigned char in[IN_BUF];
};

struct hk_decoder *hk_decoder_new(struct hk_source src, uint64_t max_out, bool hash_in)
{
	struct hk_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		abort();
	d->src = src;
	d->max_out = max_out;
	d->hash_in = hash_in;
	d->in_md = EVP_MD_CTX_new();
	if (!d->in_md)
		abort();
	EVP_DigestInit_ex(d->in_md, EVP_sha256(), NULL);
	d->x = (lzma_stream)LZMA_STREAM_INIT;
	return d;
}

static void end_member(struct hk_decoder *d)
{
	if (!d->member_open)
		return;
	switch (d->kind) {
	case HK_COMPRESSION_GZIP:
		inflateEnd(&d->z);
		break;
	case HK_COMPRESSION_XZ:
		lzma_end(&d->x);
		break;
	case HK_COMPRESSION_BZIP2:
		BZ2_bzDecompressEnd(&d->bz);
		break;
	default:
		break;
	}
	d->member_open = false;
}

void hk_decoder_free(struct hk_decoder *d)
{
	if (!d)
		return;
	end_member(d);
	ZSTD_freeDStream(d->zs);
	EVP_MD_CTX_free(d->in_md);
	free(d);
}

/* Move what is left to the front and read more; false at the end of input. */
static int fill(struct hk_decoder *d, struct hk_error *err)
{
	ssize_t n;

	if (d->in_eof)
		return 0;
	memmove(d->in, d->in + d->in_pos, d->in_len - d->in_pos);
	d->in_len -= d->in_pos;
	d->in_pos = 0;
	if (d->in_len == sizeof(d->in))
		return 1;
	n = d->src.read(d->src.ctx, d->in + d->in_len, sizeof(d->in) - d->in_len, err);
	if (n < 0)
		return (int)n;
	if (n == 0) {
		d->in_eof = true;
		return 0;
	}
	if (d->hash_in && d->sniffed && d->kind != HK_COMPRESSION_NONE)
		EVP_DigestUpdate(d->in_md, d->in + d->in_len, (size_t)n);
	d->in_bytes += (uint64_t)n;
	d->in_len += (size_t)n;
	return 1;
}

static size_t avail(const struct hk_decoder *d)
{
	return d->in_len - d->in_pos;
}

static bool has_magic(const struct hk_decoder *d, const char *magic, size_t len)
{
	return avail(d) >= len && memcmp(d->in + d->in_pos, magic, len) == 0;
}

static enum hk_compression sniff(const struct hk_decoder *d)
{
	if (has_magic(d, "\x1f\x8b", 2))
		return HK_COMPRESSION_GZIP;
	if (has_magic(d,
		      "\xfd"
		      "7zXZ\0",
		      6))
		return HK_COMPRESSION_XZ;
	if (has_magic(d, "\x28\xb5\x2f\xfd", 4))
		return HK_COMPRESSION_ZSTD;
	if (has_magic(d, "BZh", 3))
		return HK_COMPRESSION_BZIP2;
	return HK_COMPRESSION_NONE;
}

static int corrupt(struct hk_decoder *d, const char *why, struct hk_error *err)
{
	return hk_error_setx(err, -EINVAL, "%s data: %s", hk_compression_name(d->kind), why);
}

/* Start one member (a gzip member, xz stream, bzip2 stream). */
static int begin_member(struct hk_decoder *d, struct hk_error *err)
{
	int r = 0;

	switch (d->kind) {
	case HK_COMPRESSION_GZIP:
		memset(&d->z, 0, sizeof(d->z));
		r = inflateInit2(&d->z, 15 + 16) == Z_OK ? 0 : -ENOMEM;
		break;
	case HK_COMPRESSION_XZ: {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		lzma_mt mt = {
		    .flags = LZMA_CONCATENATED,
		    .threads = cpus > 0 ? (uint32_t)cpus : 1,
		    .memlimit_threading = 1ull << 30,
		    .memlimit_stop = UINT64_MAX,
		};

		d->x = (lzma_stream)LZMA_STREAM_INIT;
		r = lzma_stream_decoder_mt(&d->x, &mt) == LZMA_OK ? 0 : -ENOMEM;
		break;
	}
	case HK_COMPRESSION_ZSTD:
		if (!d->zs)
			d->zs = ZSTD_createDStream();
		r = d->zs && !ZSTD_isError(ZSTD_initDStream(d->zs)) ? 0 : -ENOMEM;
		break;
	case HK_COMPRESSION_BZIP2:
		memset(&d->bz, 0, sizeof(d->bz));
		r = BZ2_bzDecompressInit(&d->bz, 0, 0) == BZ_OK ? 0 : -ENOMEM;
		break;
	case HK_COMPRESSION_NONE:
		break;
	}
	if (r < 0)
		return hk_error_setx(err, r, "cannot start the %s decoder",
				     hk_compression_name(d->kind));
	d->member_open = true;
	return 0;
}

/*
 * One step of the decoder: consume some input, produce up to n bytes.
 * Sets *ended when the member (frame, stream) is complete.
 */
static ssize_t step(struct hk_decoder *d, unsigned char *out, size_t n, bool *ended,
		    struct hk_error *err)
{
	size_t in = avail(d), produced = 0, used = 0;

	*ended = false;
	switch (d->kind) {
	case HK_COMPRESSION_NONE:
		produced = in < n ? in : n;
		memcpy(out, d->in + d->in_pos, produced);
		used = produced;
		break;
	case HK_COMPRESSION_GZIP: {
		int zr;

		d->z.next_in = d->in + d->in_pos;
		d->z.avail_in = (uInt)in;
		d->z.next_out = out;
		d->z.avail_out = (uInt)n;
		zr = inflate(&d->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return corrupt(d, d->z.msg ? d->z.msg : "corrupt", err);
		used = in - d->z.avail_in;
		produced = n - d->z.avail_out;
		*ended = zr == Z_STREAM_END;
		break;
	}
	case HK_COMPRESSION_XZ: {
		lzma_ret xr;

		d->x.next_in = d->in + d->in_pos;
		d->x.avail_in = in;
		d->x.next_out = out;
		d->x.avail_out = n;
		xr = lzma_code(&d->x, d->in_eof ? LZMA_FINISH : LZMA_RUN);
		if (xr != LZMA_OK && xr != LZMA_STREAM_END && xr != LZMA_BUF_ERROR)
			return corrupt(d, xr == LZMA_MEM_ERROR ? "out of memory" : "corrupt", err);
		used = in - d->x.avail_in;
		produced = n - d->x.avail_out;
		*ended = xr == LZMA_STREAM_END;
		break;
	}
	case HK_COMPRESSION_ZSTD: {
		ZSTD_inBuffer ib = {d->in + d->in_pos, in, 0};
		ZSTD_outBuffer ob = {out, n, 0};
		size_t zr = ZSTD_decompressStream(d->zs, &ob, &ib);

		if (ZSTD_isError(zr))
			return corrupt(d, ZSTD_getErrorName(zr), err);
		used = ib.pos;
		produced = ob.pos;
		*ended = zr == 0;
		break;
	}
	case HK_COMPRESSION_BZIP2: {
		int br;

		d->bz.next_in = (char *)d->in + d->in_pos;
		d->bz.avail_in = (unsigned)in;
		d->bz.next_out = (char *)out;
		d->bz.avail_out = (unsigned)n;
		br = BZ2_bzDecompress(&d->bz);
		if (br != BZ_OK && br != BZ_STREAM_END)
			return corrupt(d, "corrupt", err);
		used = in - d->bz.avail_in;
		produced = n - d->bz.avail_out;
		*ended = br == BZ_STREAM_END;
		break;
	}
	}
	d->in_pos += used;
	return (ssize_t)produced;
}

/* After a member: another one follows, or the stream is done. */
static int next_member(struct hk_decoder *d, struct hk_error *err)
{
	int r;

	end_member(d);
	if (avail(d) == 0 && (r = fill(d, err)) <= 0) {
		if (r == 0)
			d->done = true;
		return r;
	}
	/* xz and zstd read their concatenated streams themselves. */
	if (d->kind == HK_COMPRESSION_XZ || d->kind == HK_COMPRESSION_ZSTD)
		return begin_member(d, err);
	if (sniff(d) != d->kind) {
		/* Trailing zeros after the last member (tar's padding) are allowed. */
		for (;;) {
			for (size_t i = d->in_pos; i < d->in_len; i++)
				if (d->in[i])
					return corrupt(d, "trailing garbage after the end", err);
			d->in_pos = d->in_len;
			if ((r = fill(d, err)) <= 0)
				break;
		}
		d->done = r == 0;
		return r;
	}
	return begin_member(d, err);
}

static int start(struct hk_decoder *d, struct hk_error *err)
{
	int r;

	d->started = true;
	while (avail(d) < 6 && !d->in_eof)
		if ((r = fill(d, err)) < 0)
			return r;
	d->kind = sniff(d);
	d->sniffed = true;
	/* What was read to tell the kind is hashed now that it is known. */
	if (d->hash_in && d->kind != HK_COMPRESSION_NONE)
		EVP_DigestUpdate(d->in_md, d->in, d->in_len);
	return begin_member(d, err);
}

ssize_t hk_decoder_read(struct hk_decoder *d, void *buf, size_t n, struct hk_error *err)
{
	ssize_t got;
	bool ended;
	int r;

	if (!d->started && (r = start(d, err)) < 0)
		return r;
	for (;;) {
		if (d->done)
			return 0;
		if (avail(d) == 0 && !d->in_eof && (r = fill(d, err)) < 0)
			return r;
		if (avail(d) == 0 && d->in_eof && d->kind == HK_COMPRESSION_NONE) {
			d->done = true;
			return 0;
		}
		got = step(d, buf, n, &ended, err);
		if (got < 0)
			return got;
		if (ended && (r = next_member(d, err)) < 0)
			return r;
		if (got > 0) {
			d->out_bytes += (uint64_t)got;
			if (d->out_bytes > d->max_out)
				return hk_error_setx(err, -EFBIG,
						     "decompresses to more than %llu bytes (the "
						     "limit; HAKO_IMAGE_MAX_BYTES raises it)",
						     (unsigned long long)d->max_out);
			return got;
		}
		if (!ended && avail(d) == 0 && d->in_eof)
			return corrupt(d, "truncated (unexpected end of data)", err);
		if (!ended && avail(d) > 0 && (r = fill(d, err)) < 0)
			return r;
	}
}

int hk_decoder_drain(struct hk_decoder *d, struct hk_error *err)
{
	char buf[64 * 1024];
	ssize_t n;

	while ((n = hk_decoder_read(d, buf, sizeof(buf), err)) > 0)
		;
	return (int)n;
}

enum hk_compression hk_decoder_compression(const struct hk_decoder *d)
{
	return d->kind;
}

const char *hk_compression_name(enum hk_compression c)
{
	static const char *const names[] = {"uncompressed", "gzip", "xz", "zstd", "bzip2"};

	return names[c];
}

static void hex_digest(EVP_MD_CTX *md, char out[72])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	EVP_DigestFinal_ex(md, h, &len);
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", h[i]);
}

void hk_decoder_in_digest(struct hk_decoder *d, char out[72])
{
	hex_digest(d->in_md, out);
}

uint64_t hk_decoder_in_bytes(const struct hk_decoder *d)
{
	return d->in_bytes;
}

uint64_t hk_decoder_out_bytes(const struct hk_decoder *d)
{
	return d->out_bytes;
}

struct hk_sha256 *hk_sha256_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!md)
		abort();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	return (struct hk_sha256 *)md;
}

void hk_sha256_update(struct hk_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate((EVP_MD_CTX *)h, data, len);
}

void hk_sha256_final(struct hk_sha256 *h, char out[72])
{
	hex_digest((EVP_MD_CTX *)h, out);
	EVP_MD_CTX_free((EVP_MD_CTX *)h);
}

void hk_sha256_digest(const void *data, size_t len, char out[72])
{
	struct hk_sha256 *h = hk_sha256_new();

	hk_sha256_update(h, data, len);
	hk_sha256_final(h, out);
}
