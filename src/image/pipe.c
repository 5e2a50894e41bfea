// SPDX-License-Identifier: GPL-2.0-or-later
/* The read-ahead thread (pipe.h): a ring of chunks, a mutex, two conditions. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"
#include "util.h"

#define CHUNKS 4
#define CHUNK  (256 * 1024)

struct chunk {
	size_t len, pos;
	unsigned char data[CHUNK];
};

struct hk_pipe {
	struct hk_source src;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t filled, emptied;
	struct chunk ring[CHUNKS];
	unsigned head, count; /* the next chunk to read, how many are full */
	bool eof, cancel;
	struct hk_error err; /* the producer's, once it failed */
};

static void *produce(void *arg)
{
	struct hk_pipe *p = arg;
	struct hk_error err = {0};

	for (;;) {
		struct chunk *c;
		ssize_t n;

		pthread_mutex_lock(&p->lock);
		while (p->count == CHUNKS && !p->cancel)
			pthread_cond_wait(&p->emptied, &p->lock);
		if (p->cancel) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		c = &p->ring[(p->head + p->count) % CHUNKS];
		pthread_mutex_unlock(&p->lock);
		/* The slot is ours alone until it is counted: read without the lock. */
		n = p->src.read(p->src.ctx, c->data, sizeof(c->data), &err);
		pthread_mutex_lock(&p->lock);
		if (n <= 0) {
			p->eof = true;
			if (n < 0)
				p->err = err;
			pthread_cond_signal(&p->filled);
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		c->len = (size_t)n;
		c->pos = 0;
		p->count++;
		pthread_cond_signal(&p->filled);
		pthread_mutex_unlock(&p->lock);
	}
}

static ssize_t consume(void *ctx, void *buf, size_t n, struct hk_error *err)
{
	struct hk_pipe *p = ctx;
	struct chunk *c;
	size_t k;

	pthread_mutex_lock(&p->lock);
	while (p->count == 0 && !p->eof)
		pthread_cond_wait(&p->filled, &p->lock);
	if (p->count == 0) {
		int code = p->err.code;
		if (code)
			*err = p->err;
		pthread_mutex_unlock(&p->lock);
		return code;
	}
	c = &p->ring[p->head];
	pthread_mutex_unlock(&p->lock);
	k = c->len - c->pos < n ? c->len - c->pos : n;
	memcpy(buf, c->data + c->pos, k);
	c->pos += k;
	if (c->pos == c->len) {
		pthread_mutex_lock(&p->lock);
		p->head = (p->head + 1) % CHUNKS;
		p->count--;
		pthread_cond_signal(&p->emptied);
		pthread_mutex_unlock(&p->lock);
	}
	return (ssize_t)k;
}

struct hk_pipe *hk_pipe_start(struct hk_source src)
{
	struct hk_pipe *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	p->src = src;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->filled, NULL);
	pthread_cond_init(&p->emptied, NULL);
	if (pthread_create(&p->thread, NULL, produce, p) != 0)
		abort();
	return p;
}

struct hk_source hk_pipe_source(struct hk_pipe *p)
{
	return (struct hk_source){consume, p};
}

void hk_pipe_finish(struct hk_pipe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->cancel = true;
	pthread_cond_signal(&p->emptied);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->filled);
	pthread_cond_destroy(&p->emptied);
	free(p);
}
