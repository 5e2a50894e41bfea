/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* "KILL", "SIGKILL", "sigkill", "9" or "SIGRTMIN+3" to a signal number, or -EINVAL. */
int hk_signal_parse(const char *s);
