/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A reader run on a thread of its own, ahead of its consumer: while one core
 * decompresses (and hashes) a layer, the other makes its files. A ring of a
 * few chunks sits between them; the consumer reads it as a struct hk_source.
 */
#pragma once

#include "decode.h"

struct hk_pipe;

/* Start reading src on a new thread. */
struct hk_pipe *hk_pipe_start(struct hk_source src);
/* The consumer's side, to read the bytes as they come. */
struct hk_source hk_pipe_source(struct hk_pipe *p);
/*
 * Stop (the producer is told to, if it has not reached the end), join it and
 * free. After this the producer's source may be used again.
 */
void hk_pipe_finish(struct hk_pipe *p);
