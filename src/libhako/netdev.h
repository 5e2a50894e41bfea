/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.netDevices (runtime-spec 1.3): host network interfaces moved into the
 * container's network namespace, renamed there when asked, and moved back
 * under their own names when the container is deleted. Each move is one
 * rtnetlink RTM_NEWLINK (IFLA_NET_NS_FD, IFLA_IFNAME); the kernel drops an
 * interface's addresses when it changes namespace, so its permanent ones are
 * read before and added again after, and an interface that was up is
 * brought up again.
 */
#pragma once

#include "error.h"

/*
 * Move the interface called name in the network namespace from_ns (-1: ours)
 * into to_ns (-1: ours), called new_name there.
 */
int hk_netdev_move(int from_ns, const char *name, int to_ns, const char *new_name,
		   struct hk_error *err);
